"""``syndicator serve`` and ``syndicator deliver`` as real processes sharing one SQLite file.

What an operator sees on stderr: the signing-key warning at start, one line per
request, and never a stack trace, whatever the requests are.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from syndicator.deliver.keys import fingerprint
from syndicator.store import open_store

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> Path:
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config = {
        "base_url": "https://feeds.example.org/",
        "database": "sqlite:///state.sqlite3",
        "sources": [],
        "taxonomy": shipped["taxonomy"],
        "delivery": {"outbox_dir": "outbox"},
        "subscribers": [{"email": "ann@example.org", "topics": ["corruption"]}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _env(key: str) -> dict[str, str]:
    return os.environ | {"SYNDICATOR_SIGNING_KEY": key, "SYNDICATOR_PREVIOUS_SIGNING_KEYS": ""}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("syndicator serve did not start listening within 60 s")


def _request(port: int, method: str, path: str, body: bytes = b"", **headers: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_serve_warns_about_a_deliver_run_with_another_key_and_logs_no_trace(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    cli = [sys.executable, "-m", "syndicator.cli", "--config", str(config)]
    deliver = subprocess.run(
        [*cli, "deliver"], cwd=tmp_path, env=_env("old-key"), capture_output=True, text=True
    )
    assert deliver.returncode == 0, deliver.stderr
    assert "signing_key" not in deliver.stderr  # alone with its database: nothing to say

    port = _free_port()
    serve = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_env("new-key"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(port, serve)
        statuses = [
            _request(
                port,
                "POST",
                "/unsubscribe",
                b"--xx\r\nbroken",
                **{"Content-Type": "multipart/form-data; boundary=yy"},
            ),
            _request(port, "GET", "/unsubscribe?token=" + "A" * 20_000),
            _request(
                port,
                "POST",
                "/unsubscribe",
                b"token=x",
                **{"Content-Type": "application/x-www-form-urlencoded; charset=klingon"},
            ),
        ]
        status = subprocess.run(
            [*cli, "status", "--json"], cwd=tmp_path, capture_output=True, text=True, check=True
        )
        serve.send_signal(signal.SIGTERM)
        _, stderr = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert statuses == [400, 400, 400]
    assert serve.returncode == 0, stderr
    assert "Traceback" not in stderr
    (warning,) = [line for line in stderr.splitlines() if "signing_key_mismatch" in line]
    assert "WARNING" in warning
    assert f"this serve refuses links signed with key {fingerprint('old-key')}" in warning
    assert f"key {fingerprint('new-key')} (from SYNDICATOR_SIGNING_KEY)" in warning
    assert stderr.count("event=http_request") == 3
    keys = json.loads(status.stdout)["signing_keys"]
    assert sorted(use["role"] for use in keys["processes"]) == ["run", "serve"]
    (problem,) = keys["problems"]
    assert f"refuses links signed with key {fingerprint('old-key')} (run " in problem

    store = open_store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    try:  # serve dropped its record when it stopped; the run's stays (its links are out there)
        uses = store.key_uses(datetime(2000, 1, 1, tzinfo=UTC))
    finally:
        store.close()
    assert [(use.role, use.signs) for use in uses] == [("run", fingerprint("old-key"))]
