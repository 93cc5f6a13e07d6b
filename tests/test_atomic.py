import os

import pytest

from iunet_gui.core import atomic
from iunet_gui.core.atomic import atomic_write_json, atomic_write_text


def test_writes_and_replaces(tmp_path):
    p = tmp_path / "a.json"
    atomic_write_json(p, {"a": 1})
    atomic_write_json(p, {"a": 2})
    assert p.read_text().strip().replace(" ", "").replace("\n", "") == '{"a":2}'
    assert [f.name for f in tmp_path.iterdir()] == ["a.json"]


def test_crash_mid_save_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "a.json"
    atomic_write_text(p, "old content")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(p, "new content")
    assert p.read_text() == "old content"
    assert [f.name for f in tmp_path.iterdir()] == ["a.json"]


def test_keeps_permissions_of_an_existing_file(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("x")
    os.chmod(p, 0o640)
    atomic_write_text(p, "y")
    assert (p.stat().st_mode & 0o777) == 0o640


def test_new_file_is_not_private(tmp_path):
    p = tmp_path / "n.txt"
    atomic_write_text(p, "y")
    assert p.stat().st_mode & 0o044  # readable by group/others under a normal umask


def test_failure_while_writing_the_data_leaves_the_old_file(tmp_path, monkeypatch):
    p = tmp_path / "a.json"
    atomic_write_json(p, {"v": 1})

    def boom(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write_json(p, {"v": 2})
    assert p.read_text().replace(" ", "").replace("\n", "") == '{"v":1}'
    assert [f.name for f in tmp_path.iterdir()] == ["a.json"]


def test_a_symlink_is_written_through(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_the_file_is_synced_before_the_rename_and_its_folder_after(tmp_path, monkeypatch):
    """Durability: the data reaches the disk before the rename, and the rename itself (the folder
    entry) is synced after it; without the folder's fsync a power cut can bring the old file back."""
    import stat

    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        st = os.fstat(fd)
        events.append(("fsync-dir", st.st_ino) if stat.S_ISDIR(st.st_mode) else ("fsync-file", None))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", None))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    atomic_write_text(tmp_path / "a.txt", "data")
    kinds = [k for k, _ in events]
    assert kinds == ["fsync-file", "replace", "fsync-dir"]
    assert events[-1][1] == tmp_path.stat().st_ino
