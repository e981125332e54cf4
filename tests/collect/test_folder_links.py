"""Folder sources read regular files beneath the folder only: no links, no FIFOs, no devices.

Real files, links, FIFOs and device nodes in a temporary folder; the reader is
the one the collect stage uses. The end-to-end check through ``syndicator run``
is tests/service/test_folder_safety.py.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from pathlib import Path

import pytest
from collect_helpers import NOW

from syndicator.collect import collect_sources
from syndicator.collect.folder import scan_folder
from syndicator.collect.folder_files import ReleaseFolder, SkippedFile
from syndicator.config import CollectSettings, FolderSource
from syndicator.models import CollectResult

SECRET = "SECRET-6c1f0e2a"
RELEASE = "A release title\n\n3 March 2021 - {body}\n"


def release(path: Path, body: str = "Ordinary text.") -> Path:
    path.write_text(RELEASE.format(body=body), encoding="utf-8")
    return path


def collect(folder: Path, **kw: object) -> CollectResult:
    source = FolderSource(id="files", path=folder, **kw)
    [result] = collect_sources([source], {}, CollectSettings(), NOW, rng=random.Random(0))
    return result


def warning_for(result: CollectResult, name: str) -> str:
    [found] = [w for w in result.warnings if w.startswith(f"{name}: ")]
    return found


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A release folder full of traps, beside an ``outside`` folder holding a secret."""
    outside = tmp_path / "outside"
    outside.mkdir()
    release(outside / "secret.txt", SECRET)
    release(outside / "more.txt", SECRET)
    folder = tmp_path / "releases"
    (folder / "sub").mkdir(parents=True)
    release(folder / "real.txt")
    release(folder / "sub" / "deep.txt")
    (folder / "leak.txt").symlink_to(outside / "secret.txt")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "archive").symlink_to(outside, target_is_directory=True)
    (folder / "sub" / "up").symlink_to("../../outside", target_is_directory=True)
    (folder / "alias.txt").symlink_to("real.txt")
    (folder / "loop.txt").symlink_to("loop.txt")
    (folder / "gone.txt").symlink_to("nothing-here.txt")
    (folder / "unrelated").symlink_to(outside / "secret.txt")  # no pattern asks for it
    os.mkfifo(folder / "pipe.txt")
    return folder, outside


def test_links_fifos_and_devices_are_refused_with_a_reason(layout: tuple[Path, Path]) -> None:
    folder, _ = layout
    try:
        os.mknod(folder / "zero.txt", 0o600 | 0o020000, os.makedev(1, 5))  # like /dev/zero
        device = True
    except (PermissionError, OSError):
        device = False
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(folder / "sock.txt"))
        result = collect(folder)
    assert result.status == "ok"
    assert sorted(i.identity for i in result.items) == ["path:real.txt", "path:sub/deep.txt"]
    assert not any(SECRET in i.text or "root:" in i.text for i in result.items)
    outside_file = "a symbolic link to a file outside the folder (links are never followed)"
    assert warning_for(result, "leak.txt") == f"leak.txt: skipped, {outside_file}"
    assert warning_for(result, "passwd.txt") == f"passwd.txt: skipped, {outside_file}"
    assert "directory outside the folder" in warning_for(result, "archive")
    assert "directory outside the folder" in warning_for(result, "sub/up")
    assert "file within the folder" in warning_for(result, "alias.txt")
    assert "leads nowhere" in warning_for(result, "loop.txt")
    assert "leads nowhere" in warning_for(result, "gone.txt")
    assert "not a regular file (a FIFO)" in warning_for(result, "pipe.txt")
    assert "not a regular file (a socket)" in warning_for(result, "sock.txt")
    if device:
        assert "not a regular file (a character device)" in warning_for(result, "zero.txt")
    assert not any(w.startswith("unrelated") for w in result.warnings)


def test_a_fifo_never_hangs_the_scan(tmp_path: Path) -> None:
    release(tmp_path / "a.txt")
    os.mkfifo(tmp_path / "b.txt")
    os.mkfifo(tmp_path / "c.txt")
    (tmp_path / "d.txt").symlink_to(tmp_path / "c.txt")
    done: list[CollectResult] = []
    worker = threading.Thread(target=lambda: done.append(collect(tmp_path)), daemon=True)
    worker.start()
    worker.join(timeout=60)  # a guard, not a measurement: a FIFO read blocks forever
    assert not worker.is_alive(), "the folder scan hung on a FIFO"
    [result] = done
    assert [i.identity for i in result.items] == ["path:a.txt"]
    assert len(result.warnings) == 3


def test_a_name_that_is_not_utf8_is_skipped_not_stored(tmp_path: Path) -> None:
    """Its relative path would be the item's identity, which no database can store."""
    release(tmp_path / "a.txt")
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"caf\xe9.txt"), "w", encoding="utf-8") as handle:
        handle.write(RELEASE.format(body="Text."))
    os.mkdir(os.path.join(folder, b"d\xe9p\xf4t"))
    release(Path(os.fsdecode(os.path.join(folder, b"d\xe9p\xf4t", b"in.txt"))))
    result = collect(tmp_path)
    assert [i.identity for i in result.items] == ["path:a.txt"]
    assert result.warnings == (
        "caf\\udce9.txt: skipped, its name is not valid UTF-8 (rename it to have it read)",
        "d\\udce9p\\udcf4t: skipped, its name is not valid UTF-8 (rename it to have it read)",
    )


def test_non_recursive_scan_ignores_links_to_folders(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    release(outside / "x.txt", SECRET)
    folder = tmp_path / "in"
    folder.mkdir()
    release(folder / "top.txt")
    (folder / "archive").symlink_to(outside, target_is_directory=True)
    result = collect(folder, recursive=False)
    assert [i.identity for i in result.items] == ["path:top.txt"]
    assert result.warnings == ()


def test_configured_folder_may_itself_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    release(real / "a.txt")
    (tmp_path / "configured").symlink_to(real, target_is_directory=True)
    result = collect(tmp_path / "configured")
    assert [i.identity for i in result.items] == ["path:a.txt"]
    assert result.warnings == ()


def test_oversized_and_sparse_files_are_not_read(tmp_path: Path) -> None:
    release(tmp_path / "a.txt")
    with open(tmp_path / "huge.txt", "wb") as handle:
        handle.truncate(20 * 1024**3)  # 20 GiB of holes: listed by size, never read
    settings = CollectSettings()
    scan = scan_folder(FolderSource(id="files", path=tmp_path), settings)
    assert [i.identity for i in scan.items] == ["path:a.txt"]
    assert scan.warnings == (
        f"huge.txt: skipped, {20 * 1024**3} bytes is over the {settings.max_bytes}-byte cap",
    )


# ---------------------------------------------------------------- swapped after the listing


def listed(folder: Path) -> tuple[ReleaseFolder, tuple[str, ...]]:
    opened = ReleaseFolder(folder)
    listing = opened.listing(("*.txt",), True, 4096)
    return opened, listing.files


def test_file_swapped_for_a_link_after_listing_is_refused(tmp_path: Path) -> None:
    secret = release(tmp_path / "secret.txt", SECRET)
    folder = tmp_path / "in"
    folder.mkdir()
    target = release(folder / "a.txt")
    opened, files = listed(folder)
    with opened:
        assert files == ("a.txt",)
        target.unlink()
        target.symlink_to(secret)
        with pytest.raises(SkippedFile, match="it is now a symbolic link"):
            opened.read("a.txt", 4096)


def test_folder_swapped_for_a_link_after_listing_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    release(outside / "deep.txt", SECRET)
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    release(folder / "sub" / "deep.txt")
    opened, files = listed(folder)
    with opened:
        assert files == ("sub/deep.txt",)
        (folder / "sub" / "deep.txt").unlink()
        (folder / "sub").rmdir()
        (folder / "sub").symlink_to(outside, target_is_directory=True)
        with pytest.raises(
            SkippedFile, match="the folder 'sub' on its path is now a symbolic link"
        ):
            opened.read("sub/deep.txt", 4096)


def test_file_swapped_for_a_fifo_after_listing_is_refused_without_waiting(
    tmp_path: Path,
) -> None:
    target = release(tmp_path / "a.txt")
    opened, _ = listed(tmp_path)
    with opened:
        target.unlink()
        os.mkfifo(target)
        outcome: list[BaseException] = []

        def read() -> None:
            try:
                opened.read("a.txt", 4096)
            except BaseException as exc:  # handed to the test thread
                outcome.append(exc)

        worker = threading.Thread(target=read, daemon=True)
        worker.start()
        worker.join(timeout=60)  # a guard: a blocking open would wait for a writer forever
        if worker.is_alive():
            with open(target, "wb"):  # release the reader before failing
                pass
            pytest.fail("opening a FIFO swapped in after the listing blocked")
        [error] = outcome
        assert isinstance(error, SkippedFile)
        assert "not a regular file (a FIFO)" in str(error)


def test_file_that_grows_past_the_cap_after_listing_is_refused(tmp_path: Path) -> None:
    target = release(tmp_path / "a.txt")
    opened, _ = listed(tmp_path)
    with opened:
        target.write_bytes(b"x" * 5000)
        with pytest.raises(SkippedFile, match="5000 bytes is over the 4096-byte cap"):
            opened.read("a.txt", 4096)
        target.unlink()
        target.mkdir()
        with pytest.raises(SkippedFile, match=r"not a regular file \(a folder\)"):
            opened.read("a.txt", 4096)
