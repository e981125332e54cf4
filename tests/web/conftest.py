"""A real published site (the shipped sample releases) and a raw HTTP client for it.

The site is published once per session into a folder of its own: config, SQLite
database and output folder side by side, with ``base_url`` under a path, as behind a
pass-through proxy. Tests that change files or the database work on a copy.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from syndicator.service.app import Syndicator

REPO = Path(__file__).resolve().parents[2]
BASE_URL = "https://feeds.example.org/syndicator/"
SIGNING_KEY = "web-test-signing-key"
SUBSCRIBER = "ann@example.org"
CLI = (sys.executable, "-m", "syndicator.cli")


@dataclass(frozen=True)
class Site:
    """A folder holding ``config.yaml``, ``state.sqlite3`` and the published ``feeds/``."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def feeds(self) -> Path:
        return self.root / "feeds"

    def copy(self, where: Path) -> Site:
        """The same site in ``where`` (relative paths in the config make it self-contained)."""
        shutil.copytree(self.root, where, symlinks=True)
        return Site(where)


def write_config(root: Path, **overrides: object) -> Path:
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config = {
        "base_url": BASE_URL,
        "database": "sqlite:///state.sqlite3",
        "sources": [
            {
                "id": "samples",
                "type": "folder",
                "path": str(REPO / "samples" / "releases"),
                "title": "Sample press releases",
            }
        ],
        "taxonomy": shipped["taxonomy"],
        "publish": {"output_dir": "feeds", "title": "Threat news"},
        "delivery": {"outbox_dir": "outbox"},
        "subscribers": [{"email": SUBSCRIBER, "topics": ["corruption"]}],
    } | overrides
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The shipped samples through one whole cycle (read-only for tests).

    Delivering too puts the subscriber in the database, as on a real installation.
    """
    root = tmp_path_factory.mktemp("site")
    config = write_config(root)
    with pytest.MonkeyPatch.context() as env, Syndicator.from_config(config) as app:
        env.setenv("SYNDICATOR_SIGNING_KEY", SIGNING_KEY)
        app.run()
    site = Site(root)
    assert (site.feeds / "index.html").is_file()
    assert any((site.feeds / "items").glob("*.html"))
    return site


@pytest.fixture
def site(published: Site, tmp_path: Path) -> Site:
    """A copy of the published site that a test may change."""
    return published.copy(tmp_path / "site")


# ---------------------------------------------------------------------------- raw HTTP


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    """Header names in lower case; a repeated header keeps its last value."""
    body: bytes


async def request(
    port: int, target: str, method: str = "GET", headers: dict[str, str] | None = None
) -> Answer:
    """Send ``target`` exactly as given (no client normalises ``..`` or ``%2e`` away)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    fields = {"Host": f"127.0.0.1:{port}", "Connection": "close"} | (headers or {})
    lines = [f"{method} {target} HTTP/1.1"] + [f"{name}: {value}" for name, value in fields.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), parsed, body)


# ---------------------------------------------------------------------------- a real process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """``syndicator serve`` running as a process, with what it printed on stdout."""

    process: subprocess.Popen[str]
    port: int
    printed: list[str]

    def line(self, prefix: str) -> str:
        """The first line printed that starts with ``prefix`` (it prints before listening)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = [line for line in list(self.printed) if line.startswith(prefix)]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"serve printed no line starting {prefix!r}: {self.printed}")


@contextmanager
def serve_command(site: Site, *extra: str, port: int | None = None) -> Iterator[Server]:
    """Run ``syndicator serve`` over ``site`` until the generator is closed; no trace allowed."""
    port = port or free_port()
    process = subprocess.Popen(
        [*CLI, "--config", str(site.config), "serve", "--port", str(port), *extra],
        cwd=site.root,
        env=os.environ | {"SYNDICATOR_SIGNING_KEY": SIGNING_KEY},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed: list[str] = []
        lines = process.stdout
        threading.Thread(
            target=lambda: printed.extend(x.strip() for x in lines), daemon=True
        ).start()
        deadline = time.monotonic() + 60
        while process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("syndicator serve did not listen within 60 s") from None
                time.sleep(0.2)
        assert process.poll() is None, process.communicate()[1]
        yield Server(process, port, printed)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
