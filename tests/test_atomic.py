"""Atomic writes: all or nothing, with the permissions of any other new file."""

import os
import stat

import pytest

from vaekit.atomic import WriteError, atomic_write, atomic_write_text


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def fail(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(WriteError, match="f.txt"):
        atomic_write(path, fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_get_the_mode_open_would_give_them_not_a_private_one(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "config.yaml", "a: 1\n")
        (tmp_path / "plain.txt").write_text("a: 1\n")  # what open() gives a new file under this umask
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "config.yaml").stat().st_mode)
    assert mode == 0o666 & ~umask
    assert mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
