"""Who holds a lease, and whether that process still exists.

A lease row names its holder in one string (the ``holder`` column), one line:

    worker-1 pid=4242 started=1234567 space=3f2a9c1e0b7d4e55.4026531836
    token=9c41d0e2a7b3 since=2026-05-01T10:00:00.250000+00:00

Host and pid are for people. The rest lets a worker on the same machine decide
at once that a holder is gone instead of waiting for its lease to expire:

* ``space`` names the pid space: the kernel's boot id and the pid namespace. A
  pid means the same process only within one space; two containers can share a
  host name (and the same pid, often 1) without sharing processes, so a holder
  from another space is never judged, only outlived.
* ``started`` is the process's start time (clock ticks since boot, field 22 of
  ``/proc/<pid>/stat``), so a pid reused by a later process is not mistaken for
  the holder.
* ``token`` is random per process: within our own process it tells this run of
  the program from an earlier one that had the same pid (a container restarted
  as pid 1).
* ``since`` is when the lease was taken; it also makes each acquisition's string
  unique, which is what lets the store take over a dead holder with a
  compare-and-swap.

Where ``/proc`` is missing (not Linux) ``space`` and ``started`` are ``-``: the
host name stands for the space and a living pid counts as the holder.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal

Liveness = Literal["alive", "dead", "unknown"]
"""``unknown``: another machine or pid space (or a record we cannot read), so only
the lease's expiry can tell."""

HOST_CHARS = 63  # keeps the whole record within the column's 200 characters
PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Holder:
    host: str
    pid: int
    token: str
    since: datetime
    started: int | None = None
    space: str | None = None

    def encode(self) -> str:
        started = "-" if self.started is None else str(self.started)
        return (
            f"{self.host} pid={self.pid} started={started} space={self.space or '-'} "
            f"token={self.token} since={self.since.isoformat()}"
        )

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder a lease row names; None for anything else (an older release's
        ``host:pid``, a hand-written row), which is then only outlived, never judged."""
        host, _, rest = text.partition(" ")
        fields: dict[str, str] = {}
        for part in rest.split(" "):
            key, _, value = part.partition("=")
            fields[key] = value
        try:
            pid = int(fields["pid"])
            since = datetime.fromisoformat(fields["since"])
            token = fields["token"]
            started = None if fields["started"] == "-" else int(fields["started"])
            space = None if fields["space"] == "-" else fields["space"]
        except (KeyError, ValueError):
            return None
        if not host or pid <= 0 or not token or since.tzinfo is None:
            return None  # pid 0 or -1 would make the signal probe address a whole group
        return cls(host, pid, token, since, started, space)

    @property
    def label(self) -> str:
        return f"{self.host} pid {self.pid}"


def this_process(since: datetime) -> Holder:
    """This process as a lease holder, for a lease taken at ``since``."""
    return replace(_identity(os.getpid()), since=since)


@cache
def _identity(pid: int) -> Holder:
    # Keyed by pid so that a forked child gets its own token, not its parent's.
    stat = _proc_stat(pid)
    return Holder(
        host=socket.gethostname()[:HOST_CHARS] or "localhost",
        pid=pid,
        token=secrets.token_hex(6),
        since=datetime.min,
        started=stat[1] if stat else None,
        space=_pid_space(),
    )


def _pid_space() -> str | None:
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip().replace("-", "")
        namespace = os.readlink(PROC / "self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return None
    return f"{boot[:16]}.{namespace.removeprefix('pid:[').removesuffix(']')}"


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of a process, from ``/proc``."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ")".
    fields = text[text.rindex(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])  # fields 3 and 22 of proc(5)
    except (IndexError, ValueError):
        return None


def liveness(recorded: str, me: Holder) -> Liveness:
    """Whether the process a lease row names still runs, as seen from ``me``."""
    holder = Holder.parse(recorded)
    if holder is None or holder.host != me.host or holder.space != me.space:
        return "unknown"
    if holder.pid == me.pid:
        return "alive" if holder.token == me.token else "dead"
    try:
        os.kill(holder.pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return "dead"
    except PermissionError:
        pass  # it exists, under another user
    stat = _proc_stat(holder.pid)
    if stat is not None:
        state, started = stat
        if state in ("Z", "X"):  # killed, not yet reaped by its parent
            return "dead"
        if holder.started is not None and started != holder.started:
            return "dead"  # the pid now belongs to a later process
    return "alive"
