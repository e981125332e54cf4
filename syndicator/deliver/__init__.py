"""The deliver stage: digests and alerts by email, each built once (see "Reliability").

One run (:func:`deliver_due`):

1. make the config-managed recipients match the configured subscribers (the
   database-managed ones, ``syndicator subscribers add|import``, stay as they are);
2. retry every message the ledger has not settled (a transport failure or a
   crash last time) with its original Message-ID, items and date, so the
   retried message is the same message;
3. for each reader who still gets mail: an alert per new item of their topics
   (when they asked for alerts), then their digest if one is due (:mod:`.due`)
   and there is something new to put in it.

Every message is rendered, then *reserved* in the store's ledger before it is
handed to the transport, and its outcome recorded after: sent, still pending,
unknown (it may have arrived) or failed (:mod:`.outcomes` holds the rules). The
items of a reserved message are never chosen for another message of its kind,
so running again skips nothing and sends nothing twice; a message whose outcome
is unknown is sent at most once more. A reader whose message must wait is left
alone for the rest of the run; a permanent refusal (a bounce, a rejected
message) fails that message only, so the reader's later mail does not queue
behind it.

A run ends by ``delivery.deadline_seconds``, and stops early when the transport
becomes unusable (an SMTP server that is down, refuses our sender, or stopped
answering twice); what is left waits for the next run and the report says it
once.

Rendering is pure (:mod:`.render`), decisions are pure (:mod:`.due`,
:mod:`.outcomes`), and the I/O is in :mod:`.transports` and the store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import make_msgid
from pathlib import Path

from syndicator.config import Settings, SubscriberSettings
from syndicator.deliver.due import digest_due, next_digest_at, schedule_for
from syndicator.deliver.outcomes import (
    Attempt,
    after_failure,
    attempt_state,
    expired,
    interrupted,
    stopped_by_bounces,
)
from syndicator.deliver.render import Rendered, Renderer
from syndicator.deliver.tokens import TokenSigner, signer_for
from syndicator.deliver.transports import Transport, make_transport
from syndicator.errors import DeliveryError, QuerySyntaxError
from syndicator.models import StoredItem, Subscriber
from syndicator.resources import default_templates_dir
from syndicator.store.protocol import (
    DeliveryKind,
    Dispatch,
    DispatchState,
    RecipientState,
    Storage,
)
from syndicator.store.search import unsent_for_subscriber

__all__ = [
    "DeliveryReport",
    "Failure",
    "TokenSigner",
    "default_templates_dir",
    "deliver_due",
    "make_transport",
    "next_digest_at",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Failure:
    """One message the transport did not accept in this run, and where the ledger left it."""

    email: str
    kind: DeliveryKind
    state: DispatchState
    """``pending`` (sent again next run), ``unknown`` (it may have arrived; sent at most
    once more) or ``failed`` (never sent again)."""
    error: str
    dispatch: int | None = None
    """The ledger row's id, so the log line leads to the row."""


@dataclass(slots=True)
class DeliveryReport:
    """What one deliver run did; the service logs it and ``syndicator deliver`` prints it."""

    sent: list[tuple[str, DeliveryKind, int]] = field(default_factory=list)
    """(email, kind, number of items) per message handed to the transport."""
    retried: int = 0
    """How many of ``sent`` were pending dispatches from an earlier run."""
    not_due: int = 0
    """Subscribers whose digest is not due yet."""
    nothing_new: int = 0
    """Subscribers whose digest was due but had no new items (nothing is sent)."""
    skipped: int = 0
    """Readers who get no mail (unsubscribed, or stopped after ``delivery.max_bounces``
    bounces), and pending dispatches of such readers, which the ledger forgets."""
    failures: list[Failure] = field(default_factory=list)
    """Messages not accepted, each with its new ledger state."""
    bounced: list[tuple[str, int]] = field(default_factory=list)
    """(email, refusals in a row) for each address a server refused for good in this run."""
    stopped: str | None = None
    """Why the run stopped before doing everything (deadline, server unusable), once."""
    not_reached: int = 0
    """Subscribers the run did not get to because it stopped."""
    left: dict[str, int] = field(default_factory=dict)
    """Messages in the ledger after the run that are not settled, per state (pending,
    unknown): what later runs still have to send."""

    @property
    def ok(self) -> bool:
        return not self.failures and self.stopped is None


def deliver_due(
    store: Storage,
    settings: Settings,
    now: datetime,
    templates_dir: Path | None = None,
    transport: Transport | None = None,
    checkpoint: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """Send every message that is due at ``now``; see the module docstring for the rules.

    Raises :class:`~syndicator.errors.OutputError` when the outbox folder cannot be
    written at all; a failure to deliver one message is reported, not raised.
    ``checkpoint`` is called before each message is reserved or retried; the
    service passes its delivery lease's check, which raises once another worker
    has taken the lease over, so the run stops before sending more. ``clock``
    (seconds, monotonic) measures the run against ``delivery.deadline_seconds``.
    """
    store.sync_config_recipients([_subscriber(s) for s in settings.subscribers], now)
    renderer = Renderer(settings, signer_for(store, settings.delivery), templates_dir)
    # Retries only mark dispatches sent; ``last_digest_at`` moved when the retried
    # digest was reserved, so one read of the subscribers serves the whole run.
    states = [s for s in store.recipient_states() if s.kind == "email"]
    with transport if transport is not None else make_transport(settings.delivery) as channel:
        run = _Run(store, settings, renderer, channel, now, checkpoint, clock)
        run.retry_pending(states)
        for state in states:
            run.serve(state)
    counts = store.dispatch_counts()
    run.report.left = {"pending": counts["pending"], "unknown": counts["unknown"]}
    return run.report


def _subscriber(configured: SubscriberSettings) -> Subscriber:
    return Subscriber(
        email=configured.email,
        topics=configured.topics,
        cadence=configured.cadence,
        timezone=configured.timezone,
        name=configured.name,
        alerts=configured.alerts,
        countries=configured.countries,
        query=configured.query,
        language=configured.language,
    )


class _Run:
    """The state of one deliver run: who is done for this run, what was sent, the deadline."""

    def __init__(
        self,
        store: Storage,
        settings: Settings,
        renderer: Renderer,
        transport: Transport,
        now: datetime,
        checkpoint: Callable[[], None],
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.checkpoint = checkpoint
        self.settings = settings
        self.renderer = renderer
        self.transport = transport
        self.now = now
        self.clock = clock
        self.deadline = clock() + settings.delivery.deadline_seconds
        self.report = DeliveryReport()
        self.done: set[str] = set()
        """Readers left alone for the rest of the run: a message of theirs must wait."""

    def _receives(self, state: RecipientState) -> bool:
        return state.status == "active" and not stopped_by_bounces(
            state.bounces, self.settings.delivery.max_bounces
        )

    def _can_go_on(self) -> bool:
        """False once the run must stop (deadline, unusable transport); keeps why, once."""
        if self.report.stopped is not None:
            return False
        reason = self.transport.unavailable
        if reason is None and self.clock() >= self.deadline:
            seconds = self.settings.delivery.deadline_seconds
            reason = f"the delivery deadline ({seconds:g} s, delivery.deadline_seconds) passed"
        if reason is None:
            return True
        self.report.stopped = reason  # logged once, with what is left, by the service
        return False

    # ---- pending ----------------------------------------------------------------------

    def retry_pending(self, states: Sequence[RecipientState]) -> None:
        """Send again what an earlier run reserved but did not settle, as the same message."""
        by_id = {s.id: s for s in states}
        give_up = timedelta(hours=self.settings.delivery.give_up_after_hours)
        for found in self.store.pending_dispatches():
            dispatch = self._settle_interrupted(found)
            if dispatch is None:
                continue
            state = by_id.get(dispatch.recipient_id)
            if state is None or not self._receives(state):
                # They left (or their address bounced) before it went out: it never will,
                # so the ledger forgets it, and a reader who comes back (``unsubscribe
                # --undo``) gets its items in their next digest.
                self.store.cancel_dispatch(dispatch.id)
                self.report.skipped += 1
                continue
            if expired(dispatch.created_at, self.now, give_up):
                self._give_up(dispatch)
                continue
            if dispatch.email.lower() in self.done:
                continue
            if not self._can_go_on():
                return
            self.checkpoint()
            items = [i for i in map(self.store.get_item, dispatch.item_ids) if i is not None]
            if not items:
                log.warning("dispatch %s carries no items that still exist", dispatch.id)
                self.store.cancel_dispatch(dispatch.id)
                continue
            if dispatch.kind == "alert":
                items = items[:1]
            rendered = self.renderer.render(
                dispatch.kind, state.subscriber, items, dispatch.message_id, dispatch.created_at
            )
            if self._send(rendered, dispatch, len(items)):
                self.report.retried += 1

    def _settle_interrupted(self, dispatch: Dispatch) -> Dispatch | None:
        """A message an earlier run left in flight: that run stopped while sending it, so
        it may have arrived. None when that settles it (failed)."""
        state = interrupted(dispatch.state)
        if state is None:
            return dispatch
        error = "the run sending it stopped before recording the outcome; it may have arrived"
        self.store.record_failure(dispatch.id, state, error, self.now)
        if state == "failed":
            # Reported, not logged: the service logs each failure once (event=delivery_failed).
            failure = Failure(dispatch.email, dispatch.kind, state, error, dispatch.id)
            self.report.failures.append(failure)
            return None
        log.warning("dispatch %s to %s: %s (now %s)", dispatch.id, dispatch.email, error, state)
        return replace(dispatch, state=state, last_error=error)

    def _give_up(self, dispatch: Dispatch) -> None:
        hours = self.settings.delivery.give_up_after_hours
        error = (
            f"not accepted within {hours:g} h (delivery.give_up_after_hours) after "
            f"{dispatch.attempts} attempt(s); last error: {dispatch.last_error or '-'}"
        )
        self.store.record_failure(dispatch.id, "failed", error, self.now)
        failure = Failure(dispatch.email, dispatch.kind, "failed", error, dispatch.id)
        self.report.failures.append(failure)

    # ---- one subscriber ---------------------------------------------------------------

    def serve(self, state: RecipientState) -> None:
        subscriber = state.subscriber
        email = subscriber.email.lower()
        if not self._receives(state):
            self.report.skipped += 1
            return
        if email in self.done:
            return
        if not self._can_go_on():
            self.report.not_reached += 1
            return
        if subscriber.alerts:
            self._alerts(state)
            if email in self.done or self.report.stopped is not None:
                return
        schedule = schedule_for(subscriber, self.settings.delivery)
        if not digest_due(schedule, state.subscribed_at, state.last_digest_at, self.now):
            self.report.not_due += 1
            return
        # Oldest first and capped: what does not fit waits for the next digest.
        limit = self.settings.delivery.max_items_per_digest
        items = self._unsent(state, "digest", limit)
        if not items:
            self.report.nothing_new += 1
            return
        self._reserve_and_send(state, "digest", items)

    def _alerts(self, state: RecipientState) -> None:
        """One alert per item first seen after they subscribed; older ones are digest-only.

        Without the ``since`` bound a new subscriber with alerts on would get an
        alert for every item in the archive. It is strictly after: items collected
        in the very cycle that added the subscriber (same ``now``) are archive too,
        so the first run sends a digest, not a digest plus an alert per item in it.
        """
        subscriber = state.subscriber
        items = self._unsent(
            state,
            "alert",
            self.settings.delivery.max_items_per_digest,
            since=state.subscribed_at + timedelta(microseconds=1),
        )
        for item in items:
            self._reserve_and_send(state, "alert", [item])
            if subscriber.email.lower() in self.done or self.report.stopped is not None:
                return

    def _unsent(
        self,
        state: RecipientState,
        kind: DeliveryKind,
        limit: int,
        since: datetime | None = None,
    ) -> list[StoredItem]:
        """What the reader's topics, countries and query want and no ``kind`` carried yet.

        A stored query that no longer parses (checked when saved, so only under a newer
        grammar) stops that reader's mail, with the reason, rather than the whole run.
        """
        subscriber = state.subscriber
        try:
            return unsent_for_subscriber(self.store, state.id, subscriber, kind, limit, since)
        except QuerySyntaxError as exc:
            log.error("subscriber %s: saved query refused, nothing sent: %s", subscriber.email, exc)
            self.done.add(subscriber.email.lower())
            return []

    # ---- the ledger protocol ----------------------------------------------------------

    def _reserve_and_send(
        self,
        state: RecipientState,
        kind: DeliveryKind,
        items: Sequence[StoredItem],
    ) -> None:
        """Render, reserve, send, record the outcome: in this order.

        Rendering comes first, with the Message-ID and date the reservation will
        store, so a message that cannot be built leaves no pending dispatch behind
        to fail again at the head of every later run. Nothing is reserved once the
        run must stop: the items simply wait for the next run.
        """
        if not self._can_go_on():
            return
        message_id = make_msgid(idstring=kind, domain=self.renderer.domain)
        rendered = self.renderer.render(kind, state.subscriber, items, message_id, self.now)
        self.checkpoint()
        dispatch = self.store.reserve_dispatch(
            state.id, kind, [i.id for i in items], message_id, self.now
        )
        self._send(rendered, dispatch, len(items))

    def _send(self, rendered: Rendered, dispatch: Dispatch, item_count: int) -> bool:
        """Hand over one reserved message and record what became of it; True if sent."""
        attempt = attempt_state(dispatch.state)
        if attempt == "resending":
            log.warning(
                "dispatch %s to %s: outcome unknown last time; sending it once more",
                dispatch.id,
                dispatch.email,
            )
        self.store.begin_attempt(dispatch.id, attempt, self.now)
        try:
            self.transport.send(rendered, time_left=max(0.0, self.deadline - self.clock()))
        except DeliveryError as exc:
            self._failed(rendered, dispatch, attempt, exc)
            return False
        self.store.mark_sent(dispatch.id, self.now)
        self.report.sent.append((rendered.email, dispatch.kind, item_count))
        return True

    def _failed(
        self,
        rendered: Rendered,
        dispatch: Dispatch,
        attempt: Attempt,
        exc: DeliveryError,
    ) -> None:
        email = rendered.email.lower()
        state = after_failure(attempt, exc.outcome)
        error = str(exc)
        if exc.outcome == "unknown" and state == "failed":
            error = f"outcome unknown twice, not sent again (it may have arrived twice): {exc}"
        self.store.record_failure(dispatch.id, state, error, self.now)
        if exc.outcome == "refused":
            count = self.store.record_bounce(email, self.now)
            self.report.bounced.append((email, count))
            error = f"{error} (bounce {count} in a row)"
        if exc.outcome != "rejected":
            self.done.add(email)  # its later mail waits (or the address is bad): next run
        if exc.outcome == "unavailable":
            # Nobody's fault but the server's: the run stops, and says so once.
            log.info("dispatch %s stays %s: %s", dispatch.id, state, exc)
            return
        # Reported, not logged here: the service logs each failure once
        # (event=delivery_failed, with the ledger state that says what happens next).
        failure = Failure(rendered.email, dispatch.kind, state, error, dispatch.id)
        self.report.failures.append(failure)
