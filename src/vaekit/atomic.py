"""Atomic file writes: write a temporary file in the target's folder, then rename it onto the target.

An interrupted write leaves the previous file (or none) in place, never half a file. The temporary file gets
the permissions `open()` would give a new file (0o666 less the process umask), not `mkstemp`'s private 0o600,
so runs and downloads written here can be read by whoever could read any other file the user creates.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def current_umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read the umask is to set it and put it back
    os.umask(mask)
    return mask


def temp_file_beside(path: Path, suffix: str = ".tmp") -> tuple[int, Path]:
    """A new, open temporary file in `path`'s folder (a rename onto `path` is then atomic): (fd, its path)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    if hasattr(os, "fchmod"):  # POSIX
        os.fchmod(fd, 0o666 & ~current_umask())
    return fd, Path(name)


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp_path) on a temporary file next to `path`, then rename it onto `path`."""
    path = Path(path)
    fd, tmp = temp_file_beside(path)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))
