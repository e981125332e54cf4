"""Atomic, change-aware writes: unchanged files keep their inode and mtime, no debris."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from syndicator.errors import OutputError
from syndicator.publish.atomic import ensure_folder, write_if_changed


def test_writes_a_new_file_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "a.rss"
    assert write_if_changed(path, b"one") is True
    assert path.read_bytes() == b"one"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_unchanged_content_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "a.rss"
    write_if_changed(path, b"same")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = path.stat()
    assert write_if_changed(path, b"same") is False
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_changed_content_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "a.rss"
    write_if_changed(path, b"old")
    before = path.stat().st_ino
    assert write_if_changed(path, b"new") is True
    assert path.read_bytes() == b"new"
    assert path.stat().st_ino != before  # a rename, not an in-place rewrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.rss"]


def test_failed_rename_leaves_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.rss"
    write_if_changed(path, b"old")

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match=r"a\.rss") as caught:
        write_if_changed(path, b"new")
    assert str(path) in str(caught.value)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.rss"]


def test_unreadable_target_raises_output_error(tmp_path: Path) -> None:
    folder_in_the_way = tmp_path / "a.rss"
    folder_in_the_way.mkdir()
    with pytest.raises(OutputError, match=r"a\.rss"):
        write_if_changed(folder_in_the_way, b"x")


def test_missing_folder_raises_output_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="missing"):
        write_if_changed(tmp_path / "missing" / "a.rss", b"x")


def test_ensure_folder_creates_parents_and_names_a_blocked_folder(tmp_path: Path) -> None:
    ensure_folder(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match=re.escape(str(blocker / "feeds"))):
        ensure_folder(blocker / "feeds")
    with pytest.raises(OutputError, match=re.escape(str(blocker))):
        ensure_folder(blocker)
