"""Atomic, durable file writes: write a temporary file in the target's folder, fsync it, rename it onto the
target, fsync the folder.

An interrupted write leaves the previous file (or none) in place, never half a file, and a rename that has
returned survives a power cut. A write that fails (a full disk, a file-size limit, no permission) raises
`WriteError` naming the file, why, and what to do; the temporary file is removed. A process killed between
creating and renaming its temporary file leaves it behind: `remove_stale_temp_files` clears those at the next
start. The temporary file gets the permissions `open()` would give a new file (0o666 less the process umask),
not `mkstemp`'s private 0o600, so runs and downloads written here can be read by whoever could read any other
file the user creates.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from vaekit.errors import VaekitError

TEMP_SUFFIX = ".tmp"


class WriteError(VaekitError):
    """A file could not be written; the previous version of it, if any, is intact."""


_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space or write somewhere else",
    errno.EDQUOT: "the disk quota is used up: free some space or write somewhere else",
    errno.EFBIG: "the file would exceed the file-size limit (see `ulimit -f`): raise the limit or write elsewhere",
    errno.EACCES: "no permission to write there: choose a folder you can write to",
    errno.EPERM: "no permission to write there: choose a folder you can write to",
    errno.EROFS: "the file system is read-only: choose another folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.ENOENT: "its folder does not exist: create it first or choose another path",
}


def write_error(path: Path, err: OSError) -> WriteError:
    """The user-facing error for an OSError raised while writing `path`."""
    advice = _ADVICE.get(err.errno or -1, "check the disk and the path")
    return WriteError(
        f"could not write '{path}': {err.strerror or err}; {advice}. Any previous version of the file is intact."
    )


def current_umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read the umask is to set it and put it back
    os.umask(mask)
    return mask


def temp_file_beside(path: Path, suffix: str = TEMP_SUFFIX) -> tuple[int, Path]:
    """A new, open temporary file in `path`'s folder (a rename onto `path` is then atomic): (fd, its path)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    if hasattr(os, "fchmod"):  # POSIX
        os.fchmod(fd, 0o666 & ~current_umask())
    return fd, Path(name)


def fsync_path(path: Path) -> None:
    """Flush a file's data, or a folder's entries, to the disk (a no-op where folders cannot be opened)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:
        if path.is_dir():
            return  # Windows cannot open folders; its renames are durable enough for us
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp_path) on a temporary file next to `path`, then make it `path` atomically and durably."""
    path = Path(path)
    tmp: Path | None = None
    try:
        fd, tmp = temp_file_beside(path)
        os.close(fd)
        write(tmp)
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)
    except OSError as err:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise write_error(path, err) from None
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_save_npy(path: str | Path, array) -> None:
    """A NumPy array as a .npy file, atomically (np.save to the temporary file's handle: given a path, NumPy would
    add .npy to the temporary name)."""
    import numpy as np  # here: the rest of this module needs only the standard library

    _write_handle(path, lambda f: np.save(f, array))


def atomic_save_npz(path: str | Path, arrays: dict) -> None:
    """Named NumPy arrays as an uncompressed .npz file, atomically (np.savez to the handle, as atomic_save_npy)."""
    import numpy as np

    _write_handle(path, lambda f: np.savez(f, **arrays))


def _write_handle(path: str | Path, save: Callable) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            save(f)

    atomic_write(path, write)


def append_line(path: str | Path, line: str) -> None:
    """Append one line to a text file and flush it to the disk; a failed append raises WriteError.

    A crash mid-append can leave a torn last line: readers of such files skip a last line that does not parse.
    """
    path = Path(path)
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as err:
        raise write_error(path, err) from None


def remove_stale_temp_files(folder: str | Path) -> list[Path]:
    """Delete the temporary files an interrupted atomic write left in `folder`; returns what was removed.

    Call only while holding the folder's lock (vaekit.lock), so that no live writer's file is removed.
    """
    removed = []
    for tmp in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed
