"""Issue 7, item 10: a publish killed mid-write must not leave debris in the public folder.

Temporary files are dotfiles named ``.syndicator-tmp-<pid>-…`` (hidden by the
documented web server rule), and each publish first removes those whose writer
is gone (or that are too old to belong to a live write). Checked twice: with
files laid out exactly as a killed writer leaves them, and by SIGKILLing a
real ``syndicator publish`` while it writes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml

from syndicator.atomic import (
    STALE_AFTER_SECONDS,
    TEMP_PREFIX,
    atomic_write,
    is_stale,
    remove_stale_temporaries,
    temp_prefix,
)
from syndicator.cli import main
from syndicator.config import load_settings
from syndicator.store import open_store
from tests.publish.builders import BASE_URL, TOPICS, fill, make_item

REPO = Path(__file__).resolve().parents[2]
HALF_A_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><ti'
)


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped) on this host."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def dotfiles(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------ the rule, without I/O


@pytest.mark.parametrize(
    ("name", "age", "alive", "stale"),
    [
        (".syndicator-tmp-4242-ab12cd34.tmp", 1.0, False, True),  # its writer is gone
        (".syndicator-tmp-4242-ab12cd34.tmp", 1.0, True, False),  # a write under way
        (".syndicator-tmp-4242-ab12cd34.tmp", STALE_AFTER_SECONDS + 1, True, True),  # reused pid
        (".syndicator-tmp-4242-probe-x1y2z3w4", 1.0, False, True),  # a killed write probe
        (".all.atom.k2j3h4g5.tmp", STALE_AFTER_SECONDS + 1, None, True),  # an older version's
        (".all.atom.k2j3h4g5.tmp", 1.0, None, False),  # ... maybe still being written
        (".htaccess", 10**9, None, False),  # not ours
        (".well-known", 10**9, None, False),
        ("notes.tmp", 10**9, None, False),
        (".syndicator-tmp-x", 10**9, None, False),  # no process id: not a name we make
    ],
)
def test_which_temporaries_are_stale(
    name: str, age: float, alive: bool | None, stale: bool
) -> None:
    assert is_stale(name, age, alive) is stale


def test_temporary_names_are_hidden_and_name_their_writer(tmp_path: Path) -> None:
    assert TEMP_PREFIX.startswith(".")
    assert temp_prefix() == f"{TEMP_PREFIX}{os.getpid()}-"
    nginx = (REPO / "deploy" / "nginx.conf.example").read_text(encoding="utf-8")
    assert r"location ~ /\. {" in nginx  # the rule that keeps dotfiles from being served
    assert r"location ~ /\. {" in (REPO / "docs" / "publishing.md").read_text(encoding="utf-8")
    atomic_write(tmp_path / "a.rss", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.rss"]


# ------------------------------------------------------------------ what a killed writer leaves


def test_publish_removes_what_killed_writers_left_and_nothing_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, items=3)
    out = tmp_path / "out"
    out.mkdir()
    gone = dead_pid()
    debris = [
        out / f"{TEMP_PREFIX}{gone}-q8w7e6r5.tmp",
        out / f"{TEMP_PREFIX}{gone}-probe-a1s2d3f4",
        out / f"{temp_prefix()}z9x8c7v6.tmp",  # this process, but far too old for a write
        out / ".all.atom.k2j3h4g5.tmp",  # an older version's, old
    ]
    kept = [
        out / f"{temp_prefix()}m1n2b3v4.tmp",  # this process is alive: a write under way
        out / ".corruption.rss.p0o9i8u7.tmp",  # an older version's, too young to judge
        out / ".htaccess",
        out / "notes.tmp",
    ]
    for path in [*debris, *kept]:
        if not path.exists():
            path.write_bytes(HALF_A_FEED)
    for path in debris[2:]:
        aged(path, STALE_AFTER_SECONDS + 60)

    assert main(["--config", str(config), "publish"]) == 0
    assert "4 stale temporary file(s) removed" in capsys.readouterr().out
    left = {p.name for p in out.iterdir()}
    assert not {p.name for p in debris} & left
    assert {p.name for p in kept} <= left
    assert (out / "all.atom").read_bytes() != HALF_A_FEED
    assert len(feedparser.parse(out / "all.atom").entries) == 3


def test_cleaning_skips_folders_and_links_and_follows_nothing(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    gone = dead_pid()
    (out / f"{TEMP_PREFIX}{gone}-folder1.tmp").mkdir()
    (out / f"{TEMP_PREFIX}{gone}-link1234.tmp").symlink_to(target)
    removed = remove_stale_temporaries(out)
    assert [p.name for p in removed] == [f"{TEMP_PREFIX}{gone}-link1234.tmp"]
    assert target.read_text() == "keep"  # the link went, never what it points to
    assert (out / f"{TEMP_PREFIX}{gone}-folder1.tmp").is_dir()


# ------------------------------------------------------------------ a real SIGKILL


def write_config(folder: Path, items: int, size: int = 200) -> Path:
    config: dict[str, Any] = {
        "base_url": BASE_URL,
        "database": "sqlite:///state/syndicator.sqlite3",
        "sources": [{"type": "folder", "id": "unodc", "path": "releases"}],
        "taxonomy": {"topics": TOPICS},
        "publish": {"output_dir": "out", "max_entries": max(items, 1)},
        "delivery": {"outbox_dir": "outbox"},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    (folder / "state").mkdir()
    store = open_store(load_settings(path).database)
    try:
        paragraph = "Officials were charged with bribery and embezzlement of public funds. "
        body = "\n\n".join(paragraph * 10 for _ in range(size // 10 or 1))
        fill(
            store,
            [
                (make_item(n, content=f"{n}\n\n{body}"), ["corruption", "terrorism"])
                for n in range(items)
            ],
        )
    finally:
        store.close()
    return path


def kill_mid_write(config: Path, out: Path) -> list[str]:
    """Start ``syndicator publish``; SIGKILL it the moment a temporary feed file shows up.

    Returns the dotfiles it left; an empty list when the rename won the race
    (the caller tries again).
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "syndicator.cli", "--config", str(config), "publish"],
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while child.poll() is None:
            try:
                names = os.listdir(out)
            except FileNotFoundError:
                continue
            if any(n.startswith(".") and n.endswith(".tmp") for n in names):
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.wait(timeout=120)
    # A killed run keeps the publish lease until it expires; expire it as time would
    # (lease expiry is not what this test is about).
    store = open_store(load_settings(config).database)
    try:
        store.release_lease("publish", f"{socket.gethostname()}:{child.pid}")
    finally:
        store.close()
    return dotfiles(out)


def test_a_publish_killed_mid_write_leaves_nothing_after_the_next_publish(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, items=120)
    out = tmp_path / "out"
    left: list[str] = []
    for _attempt in range(15):  # bounded: each attempt is one real publish run
        for path in out.glob("*") if out.exists() else []:
            path.unlink()  # every file is new again, so every file is written
        left = kill_mid_write(config, out)
        if left:
            break
    assert left, "no publish run was caught mid-write in 15 attempts"
    assert all(name.endswith(".tmp") for name in left), left

    assert main(["--config", str(config), "publish"]) == 0
    assert dotfiles(out) == []
    names = {p.name for p in out.iterdir()}
    for topic in ("all", "corruption", "terrorism"):
        assert {f"{topic}.rss", f"{topic}.atom", f"{topic}.json"} <= names
        for ext in ("rss", "atom"):
            parsed = feedparser.parse(out / f"{topic}.{ext}")
            assert not parsed.bozo, (topic, ext, parsed.get("bozo_exception"))
            assert len(parsed.entries) == 120
