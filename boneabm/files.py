"""Writing a file so that nobody ever sees half of it: the one atomic writer every module uses, the one way output
directories are made, and the claims that keep two processes from writing into one directory."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import filelock

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


def cannot_write(error: BaseException | None) -> bool:
    """Whether ``error`` is the file system refusing a write (a full disk, a quota, a read-only or failing
    device): the machine's problem, reported in one line, not a bug's traceback."""
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO,
                                                           errno.EFBIG)


def write_failure(error: OSError) -> str:
    """What a refused write says to a user: the file and the reason."""
    return f"cannot write {error.filename or 'a file'} ({error.strerror})"


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` whole or not at all (``atomic_binary``)."""
    with atomic_binary(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


def write_new(path: Path, text: str, option: str) -> None:
    """Write ``text`` to ``path`` whole, only if no file is there: the complete file is linked into place (which
    fails if one appeared meanwhile), so an existing file is never overwritten nor a partial one left."""
    if path.exists():
        raise UserError(f"{option} {path}: already exists; nothing was written (remove it or give a new name)")
    if not path.parent.is_dir():
        raise UserError(f"{option} {path}: {path.parent} is not a directory; nothing was written")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.link(temporary, path)
    except FileExistsError:
        raise UserError(f"{option} {path}: already exists; nothing was written (remove it or give a new name)") \
            from None
    finally:
        temporary.unlink(missing_ok=True)


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


@contextlib.contextmanager
def claimed(lock_path: str | Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (an OS file lock, released when the block ends or the process dies)
    while writing ``what``; if another process holds it, a ``UserError`` saying so, at once."""
    lock = filelock.FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise UserError(f"{what}: another boneabm process is writing there (it holds {lock_path}); wait for it to "
                        "end, or use another directory") from None
    except OSError as exc:  # the directory went away (another process gave it up) or cannot be written
        raise UserError(f"{what}: cannot lock {lock_path} ({exc.strerror or exc})") from None
    try:
        yield
    finally:
        lock.release()


def run_lock(run_dir: Path) -> Path:
    """The lock file a process holds while it writes (or resumes) the run ``run_dir``: hidden, beside it."""
    run_dir = Path(run_dir)
    return run_dir.with_name(f".{run_dir.name}.lock")
