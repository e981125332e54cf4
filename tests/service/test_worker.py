"""``syndicator worker`` as systemd runs it: a real process, stopped by SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from syndicator.config import load_settings
from syndicator.service.worker import LiveSettings, build_scheduler
from syndicator.store import open_store

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> Path:
    releases = tmp_path / "releases"
    releases.mkdir()
    (releases / "2025-01-01-bribery.txt").write_text(
        "Judge arrested for bribery\n\n1 January 2025 - The anti-corruption bureau arrested a "
        "judge for taking bribes; prosecutors opened a corruption case and asset recovery.\n",
        encoding="utf-8",
    )
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config = {
        "base_url": "https://feeds.example.org/",
        "database": "sqlite:///state.sqlite3",
        "sources": [{"id": "files", "type": "folder", "path": "releases"}],
        "taxonomy": shipped["taxonomy"],
        "publish": {"output_dir": "out"},
        "delivery": {"outbox_dir": "outbox"},
        "schedule": {"collect_every_minutes": 60, "misfire_grace_seconds": 300},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_scheduler_jobs_never_overlap_and_tolerate_lateness(tmp_path: Path) -> None:
    scheduler = build_scheduler(LiveSettings(load_settings(_config(tmp_path))))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"cycle", "deliver", "signing_keys"}
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == 300


def test_worker_runs_a_cycle_at_start_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    config = _config(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicator.cli", "--config", str(config), "worker"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        feed = tmp_path / "out" / "corruption.atom"
        while not feed.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert feed.exists(), "the worker did not publish within 60 s"
        assert _key_roles(tmp_path) == ["worker"]  # recorded at start for its neighbours
        good = config.read_text(encoding="utf-8")
        config.write_text(good + "\nunknown_key: 1\n", encoding="utf-8")
        process.send_signal(signal.SIGHUP)  # a broken file is refused, the worker goes on
        time.sleep(1.0)
        config.write_text(good, encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "event=worker_started" in stderr
    assert "event=worker_stopped" in stderr
    assert "event=config_reload_failed" in stderr
    assert "unknown_key" in stderr
    assert "event=config_reloaded" in stderr
    assert _key_roles(tmp_path) == []  # a clean stop drops the record


def _key_roles(tmp_path: Path) -> list[str]:
    store = open_store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    try:
        return [use.role for use in store.key_uses(datetime(2000, 1, 1, tzinfo=UTC))]
    finally:
        store.close()


def test_serve_answers_unsubscribe_requests(tmp_path: Path) -> None:
    import socket
    import urllib.error
    import urllib.request

    config = _config(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syndicator.cli",
            "--config",
            str(config),
            "serve",
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/unsubscribe?token=forged", timeout=2
                )
            except urllib.error.HTTPError as exc:
                status = exc.code
                exc.close()
            except OSError:
                time.sleep(0.2)
        assert status == 400  # a forged token is refused, and says so
    finally:
        process.terminate()
        process.wait(timeout=30)


class _StallingFeed:
    """A feed server on 127.0.0.1 that holds every request until released, so the
    worker's first cycle is still running when the test signals it."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requested = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.requested.set()
                outer.release.wait(30)
                body = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _busy_worker(tmp_path: Path, feed: _StallingFeed) -> subprocess.Popen[str]:
    config = _config(tmp_path)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["sources"].append({"id": "slow", "type": "feed", "url": feed.url})
    settings["collect"] = {"allow_networks": ["127.0.0.1"], "parse_workers": 0}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicator.cli", "--config", str(config), "worker"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert feed.requested.wait(60), "the worker's first cycle never reached the feed"
    return process


def test_a_second_ctrl_c_says_the_job_is_still_finishing(tmp_path: Path) -> None:
    feed = _StallingFeed()
    process = _busy_worker(tmp_path, feed)
    try:
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert process.poll() is None, "two signals must not cut the running job short"
        feed.release.set()
        _, stderr = process.communicate(timeout=60)
    finally:
        feed.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "still finishing the running job" in stderr
    assert "Traceback" not in stderr
    assert "SchedulerNotRunningError" not in stderr
    assert "event=worker_stopped" in stderr


def test_a_third_ctrl_c_stops_the_worker_at_once(tmp_path: Path) -> None:
    feed = _StallingFeed()
    process = _busy_worker(tmp_path, feed)
    try:
        for _ in range(3):
            process.send_signal(signal.SIGINT)
            time.sleep(0.3)
        _, stderr = process.communicate(timeout=10)  # the feed is still stalled
    finally:
        feed.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "event=worker_stopped_at_once" in stderr
    assert "Traceback" not in stderr
