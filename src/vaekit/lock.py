"""An exclusive lock on a run directory, held by the process that writes into it.

An OS file lock (`fcntl.flock`) on `RUN/.lock`: the kernel releases it when the process exits, however it
exits (kill -9 included), so a stale lock never blocks a later run. A second writer gets `RunError` at once,
naming the process that holds the lock, instead of mixing its files with the first one's. On systems without
`fcntl` (Windows) the lock is a no-op.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from vaekit.errors import RunError

LOCK_FILE = ".lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class RunLock:
    """`with RunLock(folder):` holds the folder's lock for the block; the folder must exist. `wait=True` waits for
    a holder to finish instead of refusing (a cache that two processes may fill at once)."""

    def __init__(self, folder: str | Path, wait: bool = False) -> None:
        self.path = Path(folder) / LOCK_FILE
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        if fcntl is None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise RunError(f"cannot create the lock file '{self.path}': {err.strerror}. Check the folder.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _in_use(self.path, fd) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()}".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, kind: type | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None


def check_unlocked(folder: str | Path) -> None:
    """Refuse at once (RunError) if a process holds the folder's lock; create nothing, change nothing.

    A cheap look before slow work (loading a data set); the writer takes the lock itself (`RunLock`) afterwards.
    """
    path = Path(folder) / LOCK_FILE
    if fcntl is None or not path.is_file():
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # unreadable here: RunLock, which opens it for writing, gives the error that names the cause
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # shared: conflicts only with a writer's exclusive lock
    except BlockingIOError:
        raise _in_use(path, fd) from None
    os.close(fd)  # releases the shared lock


def _in_use(path: Path, fd: int) -> RunError:
    """The error for a lock held by another process (named from the file); closes `fd`."""
    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
    os.close(fd)
    return RunError(
        f"run directory '{path.parent}' is in use by {holder}, which is writing into it. Wait for it to finish, or "
        "choose another --out."
    )
