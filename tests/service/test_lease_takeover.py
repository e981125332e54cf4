"""A stage whose worker was killed with SIGKILL is taken over, on SQLite and PostgreSQL.

Each test starts a real ``syndicator`` process that takes a lease and then hangs
on a real server on 127.0.0.1 (an SMTP server that never answers DATA, a feed
server that never answers), so it is known to hold the lease when it is killed.
The stage is then run again, as an operator or cron would, and must take over
from the dead holder at once (the log says ``lease_taken_over``; waiting for the
lease to expire would not) and do the work.
"""

from __future__ import annotations

import asyncio
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from syndicator.cli import main
from syndicator.service.holder import Holder
from syndicator.store import open_store

RELEASE = """Minister charged with bribery

13 April 2025 - The anti-corruption agency charged a former minister with bribery and embezzlement of public funds; prosecutors opened a corruption case and asset recovery proceedings.
"""

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Agency</title><link>http://example.org/</link>
<description>releases</description>
<item><guid>urn:test:1</guid><title>Judge arrested for bribery</title>
<link>http://example.org/r/1</link><pubDate>Mon, 07 Apr 2025 10:00:00 GMT</pubDate>
<description>The anti-corruption bureau arrested a judge for taking bribes.</description></item>
</channel></rss>"""

WAIT = 60.0  # generous: the machine is shared; no assertion depends on how fast it is


def write_config(folder: Path, database: str, **blocks: Any) -> Path:
    releases = folder / "releases"
    releases.mkdir(exist_ok=True)
    (releases / "2025-04-13-bribery.txt").write_text(RELEASE, encoding="utf-8")
    config: dict[str, Any] = {
        "base_url": "https://feeds.example.org/",
        "database": database,
        "sources": [{"id": "files", "type": "folder", "path": str(releases)}],
        "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
        "publish": {"output_dir": str(folder / "out")},
        "delivery": {"outbox_dir": str(folder / "outbox"), "sender": "News <news@example.org>"},
        "subscribers": [{"email": "ann@example.org", "topics": ["corruption"]}],
        **blocks,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start(config: Path, *command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syndicator.cli", "--config", str(config), *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=WAIT)  # reaped, as cron or systemd would
    assert process.returncode == -signal.SIGKILL


def holder_of(database: str, name: str) -> Holder | None:
    store = open_store(database)
    try:
        record = next((r for r in store.leases() if r.name == name), None)
    finally:
        store.close()
    return Holder.parse(record.holder) if record else None


# ---------------------------------------------------------------------------- deliver


class HangingSmtp:
    """Accepts mail, except that while ``hang`` is set DATA never gets an answer."""

    def __init__(self) -> None:
        self.hang = True
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.hang:
            self.hanging.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try again later"
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[HangingSmtp, int]]:
    handler = HangingSmtp()
    with socket.socket() as probe:  # aiosmtpd's Controller cannot bind port 0 itself
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        handler.release.set()
        controller.stop()


def test_deliver_killed_while_sending_is_taken_over_at_once(
    store_url: str,
    tmp_path: Path,
    smtp: tuple[HangingSmtp, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "test-signing-key")
    handler, port = smtp
    config = write_config(
        tmp_path,
        store_url,
        delivery={
            "transport": "smtp",
            "sender": "News <news@example.org>",
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
        },
    )
    assert main(["--config", str(config), "collect"]) == 0

    first = start(config, "deliver")
    try:
        assert handler.hanging.wait(WAIT), "the first deliver never reached the SMTP server"
        holder = holder_of(store_url, "deliver")
        assert holder is not None
        assert holder.pid == first.pid  # it holds the lease while it hangs in DATA
    finally:
        kill(first)
    handler.hang = False
    capsys.readouterr()

    assert main(["--config", str(config), "deliver"]) == 0
    out, err = capsys.readouterr()
    assert "event=lease_taken_over lease=deliver" in err
    assert f"pid={first.pid} " in err  # names the dead holder it replaced
    assert "deliver: 1 message(s) sent" in out
    (message,) = handler.messages
    assert message.rcpt_tos == ["ann@example.org"]
    store = open_store(store_url)
    try:
        counts = store.dispatch_counts()
        assert counts["sent"] == 1
        assert sum(counts.values()) == 1  # nothing pending, unknown or failed
        assert store.leases() == []
    finally:
        store.close()


# ---------------------------------------------------------------------------- collect


class HangingFeed(http.server.BaseHTTPRequestHandler):
    hang = True
    hanging = threading.Event()
    release = threading.Event()

    def do_GET(self) -> None:
        cls = type(self)
        if cls.hang:
            cls.hanging.set()
            cls.release.wait(WAIT * 2)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[tuple[type[HangingFeed], str]]:
    handler = type(
        "Feed",
        (HangingFeed,),
        {"hang": True, "hanging": threading.Event(), "release": threading.Event()},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()


def test_collect_killed_while_fetching_leaves_no_source_blocked(
    store_url: str,
    tmp_path: Path,
    feed_server: tuple[type[HangingFeed], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler, url = feed_server
    config = write_config(
        tmp_path,
        store_url,
        sources=[{"id": "agency", "type": "feed", "url": url}],
        collect={"allow_networks": ["127.0.0.1"], "min_host_interval": 0},
    )
    first = start(config, "collect")
    try:
        assert handler.hanging.wait(WAIT), "the first collect never fetched the feed"
        holder = holder_of(store_url, "source:agency")
        assert holder is not None
        assert holder.pid == first.pid
    finally:
        kill(first)
    handler.hang = False
    capsys.readouterr()

    assert main(["--config", str(config), "collect"]) == 0
    out, err = capsys.readouterr()
    assert "event=lease_taken_over lease=source:agency" in err
    assert "agency: ok, 1 new" in out
    assert "taken by another worker" not in out


# ---------------------------------------------------------------------------- elsewhere


def test_a_holder_on_another_machine_is_outlived_then_taken_over(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, store_url)
    assert main(["--config", str(config), "collect"]) == 0
    # A worker elsewhere took the publish lease and died; its last heartbeat was long
    # enough ago that two seconds of its lease remain. Nothing here can see whether
    # it lives, so the stage waits for the expiry, then publishes.
    now = datetime.now(UTC)
    elsewhere = Holder("worker-2", os.getpid(), "0" * 12, now - timedelta(seconds=58))
    store = open_store(store_url)
    try:
        assert store.acquire_lease("publish", elsewhere.encode(), 2, now)
    finally:
        store.close()
    capsys.readouterr()
    assert main(["--config", str(config), "publish"]) == 0
    out, err = capsys.readouterr()
    assert "publish: skipped" not in out
    assert "file(s) written" in out
    assert "lease_taken_over" not in err  # outlived, not judged
    assert (tmp_path / "out" / "corruption.atom").exists()
    assert holder_of(store_url, "publish") is None
