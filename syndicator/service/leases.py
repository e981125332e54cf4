"""Database leases that outlive no holder by more than a minute.

A lease is short (:data:`LEASE_TTL`) and its holder renews it from a daemon
thread every third of that, through its own pooled connection and transaction.
So a worker that is killed, frozen or cut off lets its lease expire within a
minute, and any other worker takes it then. A worker on the same machine need
not wait even that: it reads who holds the lease (:mod:`.holder`) and takes over
at once from a process that no longer exists.

The holder finds out when it lost a lease (an operator broke it, or it could
not renew in time and someone took it over): the work calls :meth:`Lease.check`
at its checkpoints — before each message, file, tag batch or source result — and
stops there with :class:`~syndicator.errors.LeaseLostError`. What was under way
at that moment still finishes: one message handed to the SMTP server, one file
renamed into place, one batch of tags, one source's result stored. The ledger
still keeps two workers from building the same new message, but a pending one
retried by both goes out twice with the same Message-ID (the outbox keeps one
file); atomic writes leave a whole file, the last one written.

Lease times are wall-clock (workers on several machines need their clocks in
step, as NTP keeps them), never a cycle's pinned ``now``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType

from syndicator.errors import LeaseLostError, StorageError
from syndicator.service.holder import Holder, liveness, this_process
from syndicator.service.logs import event
from syndicator.store.protocol import Storage

LEASE_TTL = 60.0
"""Seconds a lease lasts without renewal: how long a dead holder on another machine
(or in another container) keeps its stage from the others at most."""

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


class Lease:
    """One lease this process holds, and whether it still does."""

    def __init__(self, name: str, holder: str, expires_at: datetime, clock: Clock) -> None:
        self.name = name
        self.holder = holder
        self.expires_at = expires_at  # moved on by the heartbeat thread
        self._clock = clock
        self._taken: str | None = None

    @property
    def taken(self) -> str | None:
        """Why the lease is someone else's (or no one's) for certain; None until then."""
        return self._taken

    @property
    def lost(self) -> str | None:
        """Why the lease is no longer ours, or None while it is.

        Past its expiry without a renewal it counts as lost even if nobody has taken
        it yet: from then on somebody may. A later renewal that finds the row still
        ours makes it ours again.
        """
        if self._taken is None and self._clock() >= self.expires_at:
            return (
                "expired before it could be renewed (database unreachable or this process "
                "paused); another worker may hold it now"
            )
        return self._taken

    def mark_taken(self, reason: str) -> None:
        if self._taken is None:
            self._taken = reason

    def check(self) -> None:
        """The checkpoint: raise :class:`LeaseLostError` once the lease is no longer ours."""
        reason = self.lost
        if reason is not None:
            raise LeaseLostError(self.name, f"lost, stopping here: {reason}")


class LeaseKeeper:
    """The leases one stage holds, renewed by one heartbeat thread until :meth:`close`.

    Use it as a context manager: leaving the block stops the heartbeat and
    releases every lease still held, whatever the work raised.
    """

    def __init__(self, store: Storage, ttl: float = LEASE_TTL, clock: Clock = wall_clock) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._held: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ---- taking and giving back -------------------------------------------------------

    def acquire(self, name: str) -> Lease | None:
        """Take ``name`` if it is free, expired, or held by a process that no longer
        exists on this machine; None while a live (or unknowable) holder has it."""
        now = self.clock()
        me = this_process(now)
        mine = me.encode()
        taken = self.store.acquire_lease(name, mine, self.ttl, now)
        if not taken:
            current = next((r for r in self.store.leases() if r.name == name), None)
            if current is None:  # released between our two statements
                taken = self.store.acquire_lease(name, mine, self.ttl, now)
            elif liveness(current.holder, me) == "dead":
                taken = self.store.acquire_lease(
                    name, mine, self.ttl, now, replacing=current.holder
                )
                if taken:
                    event(
                        "lease_taken_over",
                        logging.WARNING,
                        lease=name,
                        previous=current.holder,
                        reason="its holder's process no longer exists",
                    )
        if not taken:
            return None
        lease = Lease(name, mine, now + timedelta(seconds=self.ttl), self.clock)
        with self._lock:
            self._held[name] = lease
        self._start_heartbeat()
        return lease

    def close(self) -> None:
        """Stop renewing, then give back every lease still held.

        A release that fails (database gone) is logged, not raised: this often runs
        while another error propagates, and the lease expires within the TTL anyway.
        """
        self._stop.set()
        if self._thread is not None:
            # A beat stuck on an unreachable database must not hold the stage up; the
            # releases below are safe beside it (a renewal only touches our own rows).
            self._thread.join(timeout=self.ttl)
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for lease in held:
            try:
                self.store.release_lease(lease.name, lease.holder)
            except StorageError as exc:
                event("lease_release_failed", logging.WARNING, lease=lease.name, error=str(exc))

    # ---- the heartbeat ----------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(
                target=self._beat, name="syndicator-lease-heartbeat", daemon=True
            )
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            self.renew()

    def renew(self) -> None:
        """One heartbeat: extend every lease still ours, mark the others lost."""
        with self._lock:
            held = list(self._held.values())
        for lease in held:
            if lease.taken is not None:
                continue  # once taken, never silently regained
            now = self.clock()
            try:
                if self.store.renew_lease(lease.name, lease.holder, self.ttl, now):
                    lease.expires_at = now + timedelta(seconds=self.ttl)
                    continue
                with self._lock:
                    if self._held.get(lease.name) is not lease:
                        continue  # released meanwhile: not lost, given back
                reason = self._who_has(lease.name)
            except StorageError as exc:
                # Not lost yet: the next beat tries again, and the lease's own expiry
                # tells the checkpoints when waiting longer is no longer safe.
                event("lease_renew_failed", logging.WARNING, lease=lease.name, error=str(exc))
                continue
            lease.mark_taken(reason)
            event("lease_lost", logging.WARNING, lease=lease.name, reason=reason)

    def _who_has(self, name: str) -> str:
        current = next((r for r in self.store.leases() if r.name == name), None)
        if current is None:
            return "broken: nobody holds it now (`syndicator leases break`?)"
        holder = Holder.parse(current.holder)
        return f"taken over by {holder.label if holder else current.holder}"
