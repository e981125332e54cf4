"""A release folder full of traps, through ``syndicator run`` and ``syndicator sources``.

Issue 7, item 2: links in a release folder were followed, so ``/etc/passwd`` or
any file the service could read was stored and published. Here a real cycle
runs in a subprocess (without root's power to read any file when the tests run
as root, so that file modes mean something) over a folder holding links out of it,
a link within it, a link loop, a FIFO, a device node, an unreadable file and a
sparse 20 GiB file; the secret text must be nowhere in the database, the feeds,
the pages or the outbox, and ``syndicator sources`` must say why each was skipped.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SECRET = "SECRET-91d2b7c4"
PASSWD_LINE = "root:x:0:0"
RELEASE = """{title}

10 January 2025 - {body}
"""
CRIME = (
    "Investigators dismantled an organized crime group that laundered the proceeds of fraud "
    "through shell companies; prosecutors charged the criminal network with money laundering."
)


PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_override() -> None:
    """In the child before exec: root without the capabilities that bypass file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def _child_rights() -> tuple[dict[str, Any], bool]:
    """How to start the CLI so that file modes bind it, and whether they do.

    Root reads any file whatever its mode, so as root the child drops the two
    capabilities that allow it (a service should not run as root anyway). Where
    that is refused, the unreadable-file case is left out.
    """
    if os.geteuid() != 0:
        return {}, True
    try:
        subprocess.run(
            [sys.executable, "-c", "pass"],
            preexec_fn=_drop_file_override,
            check=True,
            timeout=120,
        )
    except (subprocess.SubprocessError, OSError):
        return {}, False
    return {"preexec_fn": _drop_file_override}, True


def _write(path: Path, title: str, body: str) -> None:
    path.write_text(RELEASE.format(title=title, body=body), encoding="utf-8")


def _build(base: Path) -> tuple[Path, bool]:
    outside = base / "outside"
    outside.mkdir()
    _write(outside / "secret.txt", f"Leaked {SECRET}", f"{SECRET} {CRIME}")
    _write(outside / "inner.txt", f"Leaked folder {SECRET}", f"{SECRET} {CRIME}")
    releases = base / "releases"
    (releases / "sub").mkdir(parents=True)
    _write(releases / "real.txt", "Police dismantle money laundering network", CRIME)
    _write(releases / "sub" / "deep.txt", "Second network dismantled", CRIME)
    (releases / "leak.txt").symlink_to(outside / "secret.txt")
    (releases / "passwd.txt").symlink_to("/etc/passwd")
    (releases / "archive").symlink_to(outside, target_is_directory=True)
    (releases / "alias.txt").symlink_to("real.txt")
    (releases / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(releases / "pipe.txt")
    _write(releases / "locked.txt", f"Locked {SECRET}", f"{SECRET} {CRIME}")
    with open(os.path.join(os.fsencode(releases), b"caf\xe9.txt"), "wb") as handle:
        handle.write(RELEASE.format(title="Latin-1 name", body=CRIME).encode())
    with open(releases / "huge.txt", "wb") as handle:
        handle.truncate(20 * 1024**3)
    try:
        os.mknod(releases / "zero.txt", 0o644 | 0o020000, os.makedev(1, 5))
        device = True
    except OSError:
        device = False
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config = {
        "base_url": "https://feeds.example.org/threats/",
        "database": "sqlite:///state/syndicator.sqlite3",
        "sources": [{"id": "files", "type": "folder", "path": "releases"}],
        "taxonomy": shipped["taxonomy"],
        "publish": {"output_dir": "out"},
        "delivery": {"outbox_dir": "outbox", "sender": "Alerts <alerts@example.org>"},
        "subscribers": [{"email": "ana@example.org", "topics": ["organized-crime"]}],
    }
    (base / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (releases / "locked.txt").chmod(0)
    return releases, device


def _cli(base: Path, child: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicator.cli", "--config", str(base / "config.yaml"), *args],
        cwd=base,
        env={**os.environ, "HOME": str(base)},
        capture_output=True,
        text=True,
        timeout=300,  # a guard: a FIFO opened for reading blocks until a writer comes
        check=False,
        **child,
    )


def _everything_written(base: Path) -> Iterator[tuple[Path, bytes]]:
    for folder in ("state", "out", "outbox"):
        for path in (base / folder).rglob("*"):
            if path.is_file():
                yield path, path.read_bytes()


def test_links_out_of_the_folder_are_never_read_stored_or_published(tmp_path: Path) -> None:
    base = tmp_path
    child, modes_bind = _child_rights()
    _, device = _build(base)
    try:
        run = _cli(base, child, "run")
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        pytest.fail("syndicator run hung (a FIFO in the release folder?)")
    assert run.returncode == 0, run.stderr

    written = dict(_everything_written(base))
    assert any(p.suffix == ".sqlite3" for p in written)
    assert any(p.name == "all.atom" for p in written)
    assert any(p.suffix == ".eml" for p in written)
    for path, data in written.items():
        assert SECRET.encode() not in data, f"the secret reached {path}"
        assert PASSWD_LINE.encode() not in data, f"/etc/passwd reached {path}"
    assert "files: ok, 2 new" in run.stdout, run.stdout
    titles = {e.title for e in feedparser.parse(base / "out" / "all.atom").entries}
    assert titles == {"Police dismantle money laundering network", "Second network dismantled"}

    sources = _cli(base, child, "sources")
    assert sources.returncode == 0, sources.stderr
    expected = {
        "leak.txt": "a symbolic link to a file outside the folder",
        "passwd.txt": "a symbolic link to a file outside the folder",
        "archive": "a symbolic link to a directory outside the folder",
        "alias.txt": "a symbolic link to a file within the folder",
        "loop.txt": "a symbolic link that leads nowhere",
        "pipe.txt": "not a regular file (a FIFO)",
        "huge.txt": "over the 10485760-byte cap",
        "caf\\udce9.txt": "its name is not valid UTF-8",
    }
    if device:
        expected["zero.txt"] = "not a regular file (a character device)"
    if modes_bind:
        expected["locked.txt"] = "unreadable (Permission denied)"
    lines = [line.strip() for line in sources.stdout.splitlines()]
    for name, reason in expected.items():
        assert any(line.startswith(f"warning: {name}: ") and reason in line for line in lines), (
            f"{name}: {reason!r} not in\n{sources.stdout}"
        )

    status = _cli(base, child, "status", "--json")
    [health] = json.loads(status.stdout)["sources"]
    assert len(health["warnings"]) == len(expected)
