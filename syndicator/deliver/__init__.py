"""The deliver stage: digests and alerts by email, each exactly once.

One run (:func:`deliver_due`):

1. make the stored subscribers match the configured ones;
2. retry every *pending* dispatch (reserved in the ledger, never confirmed
   sent: a crash or a transport failure last time) with its original
   Message-ID, items and date, so the retried message is the same message;
3. for each subscribed reader: an alert per new item of their topics (when
   they asked for alerts), then their digest if one is due (:mod:`.due`) and
   there is something new to put in it.

Every message is rendered, then *reserved* in the store's ledger before it is
handed to the transport, and *marked sent* after. A failure between the two leaves a pending
dispatch that step 2 of the next run retries; the items it carries are never
chosen for another message. So running again sends nothing twice and skips
nothing. A subscriber whose message failed is reported (by address) and left
alone for the rest of the run; the others go on.

Rendering is pure (:mod:`.render`), decisions are pure (:mod:`.due`), and the
I/O is in :mod:`.transports` and the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid
from pathlib import Path

from syndicator.config import Settings, SubscriberSettings
from syndicator.deliver.due import digest_due, next_digest_at, schedule_for
from syndicator.deliver.render import Rendered, Renderer
from syndicator.deliver.tokens import TokenSigner, signer_for
from syndicator.deliver.transports import OutboxTransport, SmtpTransport, Transport
from syndicator.errors import DeliveryError
from syndicator.models import StoredItem, Subscriber
from syndicator.resources import default_templates_dir
from syndicator.store.protocol import DeliveryKind, Dispatch, Storage, SubscriberState

__all__ = [
    "DeliveryReport",
    "TokenSigner",
    "default_templates_dir",
    "deliver_due",
    "make_transport",
    "next_digest_at",
]

log = logging.getLogger(__name__)


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
    """Unsubscribed readers, and pending dispatches of readers no longer subscribed."""
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(email, message) per message that could not be handed over; retried next run."""

    @property
    def ok(self) -> bool:
        return not self.failures


def make_transport(settings: Settings) -> Transport:
    """The transport the configuration asks for."""
    delivery = settings.delivery
    if delivery.transport == "smtp":
        assert delivery.smtp is not None  # the settings validator guarantees it
        return SmtpTransport(delivery.smtp)
    return OutboxTransport(delivery.outbox_dir)


def deliver_due(
    store: Storage,
    settings: Settings,
    now: datetime,
    templates_dir: Path | None = None,
    transport: Transport | None = None,
    checkpoint: Callable[[], None] = lambda: None,
) -> DeliveryReport:
    """Send every message that is due at ``now``; see the module docstring for the rules.

    Raises :class:`~syndicator.errors.OutputError` when the outbox folder cannot be
    written at all; a failure to deliver one message is reported, not raised.
    ``checkpoint`` is called before each message is reserved or retried; the
    service passes its delivery lease's check, which raises once another worker
    has taken the lease over, so the run stops before sending more.
    """
    store.sync_subscribers([_subscriber(s) for s in settings.subscribers], now)
    renderer = Renderer(settings, signer_for(store, settings.delivery), templates_dir)
    # Retries only mark dispatches sent; ``last_digest_at`` moved when the retried
    # digest was reserved, so one read of the subscribers serves the whole run.
    states = store.subscriber_states()
    with transport if transport is not None else make_transport(settings) as channel:
        run = _Run(store, settings, renderer, channel, now, checkpoint)
        run.retry_pending(states)
        for state in states:
            run.serve(state)
    return run.report


def _subscriber(configured: SubscriberSettings) -> Subscriber:
    return Subscriber(
        email=configured.email,
        topics=configured.topics,
        cadence=configured.cadence,
        timezone=configured.timezone,
        name=configured.name,
        alerts=configured.alerts,
    )


class _Run:
    """The state of one deliver run: who failed, what was sent."""

    def __init__(
        self,
        store: Storage,
        settings: Settings,
        renderer: Renderer,
        transport: Transport,
        now: datetime,
        checkpoint: Callable[[], None],
    ) -> None:
        self.store = store
        self.checkpoint = checkpoint
        self.settings = settings
        self.renderer = renderer
        self.transport = transport
        self.now = now
        self.report = DeliveryReport()
        self.failed: set[str] = set()

    # ---- pending ----------------------------------------------------------------------

    def retry_pending(self, states: Sequence[SubscriberState]) -> None:
        """Send again what an earlier run reserved but never confirmed, as the same message."""
        by_email = {s.subscriber.email.lower(): s for s in states}
        for dispatch in self.store.pending_dispatches():
            state = by_email.get(dispatch.email.lower())
            if state is None or state.unsubscribed_at is not None:
                # They left before it went out: it never will, so the ledger forgets it
                # (and a reader who comes back gets its items in their next digest).
                self.store.cancel_dispatch(dispatch.id)
                self.report.skipped += 1
                continue
            if dispatch.email.lower() in self.failed:
                continue
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

    # ---- one subscriber ---------------------------------------------------------------

    def serve(self, state: SubscriberState) -> None:
        subscriber = state.subscriber
        email = subscriber.email.lower()
        if state.unsubscribed_at is not None:
            self.report.skipped += 1
            return
        if email in self.failed:
            return
        if subscriber.alerts:
            self._alerts(state)
            if email in self.failed:
                return
        schedule = schedule_for(subscriber, self.settings.delivery)
        if not digest_due(schedule, state.subscribed_at, state.last_digest_at, self.now):
            self.report.not_due += 1
            return
        # Oldest first and capped: what does not fit waits for the next digest.
        limit = self.settings.delivery.max_items_per_digest
        items = self.store.unsent_items(email, subscriber.topics, "digest", limit)
        if not items:
            self.report.nothing_new += 1
            return
        self._reserve_and_send(subscriber, "digest", items)

    def _alerts(self, state: SubscriberState) -> None:
        """One alert per item first seen after they subscribed; older ones are digest-only.

        Without the ``since`` bound a new subscriber with alerts on would get an
        alert for every item in the archive. It is strictly after: items collected
        in the very cycle that added the subscriber (same ``now``) are archive too,
        so the first run sends a digest, not a digest plus an alert per item in it.
        """
        subscriber = state.subscriber
        items = self.store.unsent_items(
            subscriber.email,
            subscriber.topics,
            "alert",
            self.settings.delivery.max_items_per_digest,
            since=state.subscribed_at + timedelta(microseconds=1),
        )
        for item in items:
            if not self._reserve_and_send(subscriber, "alert", [item]):
                return

    # ---- the ledger protocol ----------------------------------------------------------

    def _reserve_and_send(
        self,
        subscriber: Subscriber,
        kind: DeliveryKind,
        items: Sequence[StoredItem],
    ) -> bool:
        """Render, reserve, send, mark sent: in this order.

        Rendering comes first, with the Message-ID and date the reservation will
        store, so a message that cannot be built leaves no pending dispatch behind
        to fail again at the head of every later run.
        """
        message_id = make_msgid(idstring=kind, domain=self.renderer.domain)
        rendered = self.renderer.render(kind, subscriber, items, message_id, self.now)
        self.checkpoint()
        dispatch = self.store.reserve_dispatch(
            subscriber.email, kind, [i.id for i in items], message_id, self.now
        )
        return self._send(rendered, dispatch, len(items))

    def _send(self, rendered: Rendered, dispatch: Dispatch, item_count: int) -> bool:
        try:
            self.transport.send(rendered)
        except DeliveryError as exc:
            self.failed.add(rendered.email.lower())
            self.report.failures.append((rendered.email, str(exc)))
            log.warning("delivery failed: %s (dispatch %s stays pending)", exc, dispatch.id)
            return False
        self.store.mark_sent(dispatch.id, self.now)
        self.report.sent.append((rendered.email, dispatch.kind, item_count))
        return True
