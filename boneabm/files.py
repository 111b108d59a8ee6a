"""Writing a file so that nobody ever sees half of it: the one atomic writer every module uses, and the one way
output directories are made."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from boneabm.errors import UserError


@contextlib.contextmanager
def atomic_binary(path: str | Path, durable: bool = False) -> Iterator[BinaryIO]:
    """A binary file to write that appears at ``path`` whole when the block ends, or not at all.

    It is a temporary beside ``path``, renamed over it: a reader, a concurrent writer of the same file or a
    crash mid-write leaves either the old file or the new one, never a mix. The temporary's name holds the
    process and thread, so two writers never share one. ``durable`` syncs it to disk first (a checkpoint must
    survive the node that wrote it)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` whole or not at all (``atomic_binary``)."""
    with atomic_binary(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


def make_directory(path: str | Path, exist_ok: bool = False) -> None:
    """Create ``path`` and its parents; a path that cannot be made (a file in the way, no permission, a read-only
    file system) is a ``UserError`` naming it. Without ``exist_ok`` the creation is the claim: of two processes
    making the same directory, exactly one succeeds."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except FileExistsError:
        raise UserError(f"{path}: already exists (another process may be writing there)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot create this directory ({exc.strerror or exc})") from None
