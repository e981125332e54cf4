"""Lease holders and the heartbeat, with real processes and real databases.

A holder's liveness is judged against real child processes (alive, killed but not
reaped, reaped); the keeper runs against the ``store`` fixture, so on SQLite and
PostgreSQL. Time is injected where a test needs it to pass, never slept through.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from syndicator.cli import main
from syndicator.errors import LeaseLostError
from syndicator.service.holder import Holder, liveness, this_process
from syndicator.service.leases import LEASE_TTL, LeaseKeeper
from syndicator.store import SqlStore, open_store

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
LINUX = Path("/proc/self/stat").exists()

# A child process that names itself as a lease holder, then waits for its stdin to close.
CHILD = (
    "import sys; from datetime import UTC, datetime; "
    "from syndicator.service.holder import this_process; "
    "print(this_process(datetime.now(UTC)).encode(), flush=True); sys.stdin.read()"
)


@contextmanager
def child() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        yield process, process.stdout.readline().strip()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
        process.stdin.close()


def dead_holder() -> str:
    """The record of a process that ran on this machine and has exited (and been reaped)."""
    with child() as (process, record):
        assert process.stdin is not None
        process.stdin.close()
        process.wait()
    return record


# ---------------------------------------------------------------------------- holder records


def test_a_holder_record_round_trips_and_fits_the_column() -> None:
    me = this_process(NOW)
    assert Holder.parse(me.encode()) == me
    assert me.encode().startswith(f"{me.host} pid={me.pid} ")
    longest = replace(
        me, host="h" * 63, pid=4194304, started=10**12, space="f" * 16 + ".4026531836"
    )
    assert len(longest.encode()) <= 200
    assert Holder.parse(longest.encode()) == longest


@pytest.mark.parametrize(
    "text",
    [
        "worker-1:4242",  # an older release's holder
        "",
        "h pid=0 started=- space=- token=t since=2026-05-01T10:00:00+00:00",
        "h pid=-1 started=- space=- token=t since=2026-05-01T10:00:00+00:00",
        "h pid=7 started=- space=- token=t since=2026-05-01T10:00:00",  # naive time
        "h pid=7 started=x space=- token=t since=2026-05-01T10:00:00+00:00",
    ],
)
def test_records_we_cannot_read_are_not_judged(text: str) -> None:
    assert Holder.parse(text) is None
    assert liveness(text, this_process(NOW)) == "unknown"


def test_this_process_is_alive_and_an_earlier_one_with_its_pid_is_not() -> None:
    me = this_process(NOW)
    assert liveness(me.encode(), me) == "alive"
    assert liveness(this_process(NOW + timedelta(hours=1)).encode(), me) == "alive"
    # A container restarted as the same pid: same pid, another run of the program.
    assert liveness(replace(me, token="0" * 12).encode(), me) == "dead"


def test_holders_in_another_machine_or_pid_space_are_only_outlived() -> None:
    me = this_process(NOW)
    gone = replace(me, pid=me.pid, token="0" * 12)
    assert liveness(replace(gone, host="elsewhere").encode(), me) == "unknown"
    assert liveness(replace(gone, space="0" * 16 + ".1").encode(), me) == "unknown"


def test_a_live_child_is_alive_until_killed() -> None:
    me = this_process(NOW)
    with child() as (process, record):
        assert liveness(record, me) == "alive"
        process.kill()  # SIGKILL; not reaped yet: a zombie holds nothing either
        if LINUX:
            deadline = time.monotonic() + 30
            while liveness(record, me) != "dead" and time.monotonic() < deadline:
                time.sleep(0.05)  # the kernel turns it into a zombie asynchronously
            assert liveness(record, me) == "dead"
        process.wait()
        assert liveness(record, me) == "dead"


@pytest.mark.skipif(not LINUX, reason="process start times come from /proc")
def test_a_reused_pid_is_not_the_holder() -> None:
    me = this_process(NOW)
    with child() as (_, record):
        holder = Holder.parse(record)
        assert holder is not None
        assert holder.started is not None
        earlier = replace(holder, started=holder.started - 1, token="0" * 12)
        assert liveness(earlier.encode(), me) == "dead"


# ---------------------------------------------------------------------------- the keeper


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_a_live_holder_keeps_its_lease(store: SqlStore) -> None:
    with LeaseKeeper(store) as first, LeaseKeeper(store) as second:
        assert first.acquire("deliver") is not None
        assert second.acquire("deliver") is None  # same process, but a holder that is alive
        with child() as (_, record):
            store.acquire_lease("publish", record, LEASE_TTL, datetime.now(UTC))
            assert second.acquire("publish") is None


def test_a_dead_holder_on_this_machine_is_taken_over_at_once(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    record = dead_holder()
    far = datetime.now(UTC) + timedelta(days=1)  # its lease has long to run
    assert store.acquire_lease("deliver", record, 86400, datetime.now(UTC))
    with caplog.at_level(logging.WARNING, logger="syndicator"), LeaseKeeper(store) as keeper:
        lease = keeper.acquire("deliver")
        assert lease is not None
        (row,) = store.leases()
        assert row.holder == lease.holder != record
        assert row.expires_at < far
    assert "event=lease_taken_over lease=deliver" in caplog.text
    assert store.leases() == []  # given back on leaving the block


def test_a_holder_elsewhere_is_waited_out_until_its_lease_expires(store: SqlStore) -> None:
    other = replace(this_process(NOW), host="elsewhere", token="0" * 12).encode()
    assert store.acquire_lease("publish", other, LEASE_TTL, NOW)
    clock = Clock(NOW + timedelta(seconds=LEASE_TTL - 1))
    with LeaseKeeper(store, clock=clock) as keeper:
        assert keeper.acquire("publish") is None
        clock.now = NOW + timedelta(seconds=LEASE_TTL + 1)
        assert keeper.acquire("publish") is not None


def test_renewal_keeps_a_lease_and_its_holder_notices_when_it_is_broken(
    store: SqlStore,
) -> None:
    clock = Clock(NOW)
    with LeaseKeeper(store, clock=clock) as keeper:
        lease = keeper.acquire("deliver")
        assert lease is not None
        clock.now = NOW + timedelta(seconds=50)
        keeper.renew()
        clock.now = NOW + timedelta(seconds=90)  # past the first expiry, within the renewed
        lease.check()
        assert store.leases()[0].expires_at == NOW + timedelta(seconds=50 + LEASE_TTL)
        assert store.break_lease("deliver") is not None  # the operator
        lease.check()  # nobody has told it yet
        keeper.renew()
        assert lease.lost is not None
        assert "broken" in lease.lost
        with pytest.raises(LeaseLostError, match=r"'deliver'.*broken"):
            lease.check()
        assert store.acquire_lease("deliver", "someone else", LEASE_TTL, clock.now)
        keeper.renew()  # a lost lease stays lost, and renewal leaves the new holder alone
        assert store.leases()[0].holder == "someone else"
        with pytest.raises(LeaseLostError):
            lease.check()
    assert store.leases()[0].holder == "someone else"  # closing gave back only its own


def test_a_late_renewal_regains_a_lease_nobody_took(store: SqlStore) -> None:
    clock = Clock(NOW)
    with LeaseKeeper(store, clock=clock) as keeper:
        lease = keeper.acquire("publish")
        assert lease is not None
        clock.now = NOW + timedelta(seconds=LEASE_TTL + 5)  # the database was away a while
        assert lease.lost is not None
        keeper.renew()  # the row is still ours: nobody took it meanwhile
        assert lease.lost is None
        lease.check()


def test_a_lease_taken_over_names_its_new_holder(store: SqlStore) -> None:
    clock = Clock(NOW)
    with LeaseKeeper(store, clock=clock) as keeper:
        lease = keeper.acquire("source:osce")
        assert lease is not None
        other = replace(this_process(NOW), host="elsewhere").encode()
        clock.now = NOW + timedelta(seconds=LEASE_TTL + 5)  # this process was paused
        with pytest.raises(LeaseLostError, match="expired before it could be renewed"):
            lease.check()
        assert store.acquire_lease("source:osce", other, LEASE_TTL, clock.now)
        keeper.renew()
        assert lease.lost == "taken over by elsewhere pid " + str(this_process(NOW).pid)


def test_the_heartbeat_thread_renews_until_closed(store: SqlStore) -> None:
    keeper = LeaseKeeper(store, ttl=3.0)  # a beat every second
    try:
        lease = keeper.acquire("tag")
        assert lease is not None
        first = store.leases()[0].expires_at
        deadline = time.monotonic() + 60
        while store.leases()[0].expires_at == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.leases()[0].expires_at > first
    finally:
        keeper.close()
    threads = [t.name for t in threading.enumerate()]
    assert "syndicator-lease-heartbeat" not in threads
    assert store.leases() == []


# ---------------------------------------------------------------------------- the command


def write_config(folder: Path, database: str) -> Path:
    config = {
        "base_url": "https://feeds.example.org/",
        "database": database,
        "sources": [{"id": "files", "type": "folder", "path": str(folder)}],
        "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
        "publish": {"output_dir": str(folder / "out")},
        "delivery": {"outbox_dir": str(folder / "outbox")},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_leases_command_shows_each_holder_and_breaks_a_lease(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path, store_url))
    now = datetime.now(UTC)
    elsewhere = replace(this_process(now), host="elsewhere", pid=17, token="0" * 12).encode()
    store = open_store(store_url)
    try:
        assert store.acquire_lease("publish", dead_holder(), LEASE_TTL, now)
        assert store.acquire_lease("source:osce", elsewhere, LEASE_TTL, now)
        assert store.acquire_lease("tag", elsewhere, 1, now - timedelta(seconds=30))
        with LeaseKeeper(store) as keeper:
            lease = keeper.acquire("deliver")
            assert lease is not None
            assert main(["--config", config, "leases"]) == 0
            listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
            assert set(listed) == {"deliver", "publish", "source:osce", "tag"}
            assert f"pid {this_process(now).pid}" in listed["deliver"]
            assert "alive on this machine" in listed["deliver"]
            assert "dead: the next worker here takes it over at once" in listed["publish"]
            assert "elsewhere pid 17" in listed["source:osce"]
            assert "ends when it expires" in listed["source:osce"]
            assert "expired: free to take" in listed["tag"]

            assert main(["--config", config, "leases", "break", "deliver"]) == 0
            out, err = capsys.readouterr()
            assert out.startswith("Broke lease 'deliver', held by ")
            assert out.rstrip().endswith(": its process is alive on this machine.")
            assert "warning:" in err
            assert "stops at its next checkpoint" in err
            assert "deliver" not in {r.name for r in store.leases()}
            keeper.renew()
            with pytest.raises(LeaseLostError, match="broken"):
                lease.check()

        assert main(["--config", config, "leases", "break", "publish"]) == 0
        out, err = capsys.readouterr()
        assert "its process no longer exists" in out
        assert "syndicator: warning" not in err  # nothing to warn about: its holder is gone
        assert main(["--config", config, "leases", "break", "nope"]) == 1
        assert "no lease named 'nope'" in capsys.readouterr().err

        assert main(["--config", config, "status", "--json"]) == 0
        leases = json.loads(capsys.readouterr().out)["leases"]
        assert [(x["name"], x["host"], x["pid"]) for x in leases] == [
            ("source:osce", "elsewhere", 17),
            ("tag", "elsewhere", 17),
        ]
        assert [x["holder_state"] for x in leases] == ["unknown", "expired"]
    finally:
        store.close()
