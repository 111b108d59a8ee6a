"""Writing a file so that nobody ever sees half of it: the one atomic writer every module uses."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` through a temporary file beside it, then rename.

    A reader, a concurrent writer of the same file or a crash mid-write leaves either the old file or the new
    one, never a mix. The temporary's name holds the process and thread, so two writers never share one.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        if isinstance(data, str):
            temporary.write_text(data, encoding="utf-8")
        else:
            temporary.write_bytes(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
