"""Each stage of a cycle as one function: read from the store, work, write back.

Stages meet only in the store, so any of them can run alone (``syndicator
publish``) and a crash between two of them loses nothing: the next run picks up
what the store says is still to do. Leases in the store (:mod:`.leases`) keep
several workers from doing the same work twice, and let a stage continue at once
after its last holder died.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from syndicator.collect import collect_sources
from syndicator.collect.kinds import kind_of
from syndicator.collect.schedule import AnySource, is_due, source_location
from syndicator.config import Settings
from syndicator.deliver import DeliveryReport, deliver_due
from syndicator.errors import LeaseLostError, StorageError
from syndicator.models import CollectResult
from syndicator.publish import PublishReport, publish
from syndicator.service.leases import Lease, LeaseKeeper
from syndicator.service.logs import event
from syndicator.store import Storage
from syndicator.tagging import Tagger

STAGES = ("collect", "tag", "publish", "deliver")
TAG_BATCH = 500
LEASE_WAIT_SECONDS = 120.0
"""How long a stage waits for a live neighbour to finish before skipping this cycle;
longer than the lease TTL, so a neighbour that died is always outlived in time."""
LEASE_POLL_SECONDS = 0.5
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """One line of the cycle report for one source."""

    source_id: str
    status: str
    new: int = 0
    updated: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class CollectReport:
    sources: list[SourceOutcome] = field(default_factory=list)
    skipped_not_due: int = 0
    claimed_elsewhere: int = 0

    @property
    def failed(self) -> list[SourceOutcome]:
        return [s for s in self.sources if s.status == "error"]


def collect_stage(
    store: Storage, settings: Settings, now: datetime, force: bool = False
) -> CollectReport:
    """Fetch every due source and store what each one gave, one transaction per source.

    This is the one place that decides which sources are due (``force``: all enabled
    ones); the collector fetches exactly what it is handed.
    """
    report = CollectReport()
    states = store.source_states()
    with LeaseKeeper(store) as keeper:
        due: list[tuple[AnySource, Lease]] = []
        for source in settings.enabled_sources:
            if not is_due(source, states.get(source.id), now, force):
                report.skipped_not_due += 1
            elif lease := keeper.acquire(f"source:{source.id}"):
                due.append((source, lease))
            else:
                report.claimed_elsewhere += 1  # another worker is fetching it right now
        sources = [source for source, _ in due]
        known = {  # stored identities, for the kinds that skip (or warn once about) them
            s.id: store.identities(s.id) for s in sources if kind_of(s).needs_identities(s)
        }
        results = (
            collect_sources(sources, states, settings.collect, now, known=known)
            if sources
            else []
        )
        for (source, lease), result in zip(due, results, strict=True):
            try:
                lease.check()
            except LeaseLostError as exc:
                # Another worker has the source now and stores its own fetch.
                event("lease_lost", logging.WARNING, source=source.id, error=str(exc))
                report.claimed_elsewhere += 1
                continue
            located = replace(result, location=source_location(source))
            report.sources.append(_apply(store, located, now))
    return report


def _apply(store: Storage, result: CollectResult, now: datetime) -> SourceOutcome:
    try:
        counts = store.apply_collect(result, now)
    except StorageError as exc:
        # One source's items that the database refuses must not cost the others theirs;
        # nothing of this source changed, so the next cycle tries it again.
        event("store_failed", logging.ERROR, source=result.source_id, error=str(exc))
        return SourceOutcome(
            source_id=result.source_id,
            status="error",
            error=f"{result.source_id}: fetched, but could not be stored: {exc}",
        )
    level = logging.WARNING if result.status == "error" else logging.INFO
    event(
        "collected",
        level,
        source=result.source_id,
        status=result.status,
        http=result.http_status,
        new=counts.new,
        updated=counts.updated,
        error_class=result.error_class,
        error=result.error_message,
        next_fetch=result.next_fetch_at.isoformat() if result.next_fetch_at else None,
    )
    for warning in result.warnings:
        event("collect_warning", logging.WARNING, source=result.source_id, message=warning)
    return SourceOutcome(
        source_id=result.source_id,
        status=result.status,
        new=counts.new,
        updated=counts.updated,
        error=result.error_message if result.status == "error" else None,
        warnings=result.warnings,
    )


def tag_stage(store: Storage, tagger: Tagger, now: datetime) -> int:
    """Tag every item that is new, changed, or tagged by another tagger version."""

    def tag_all(lease: Lease) -> int:
        done = 0
        while True:
            lease.check()
            batch = store.items_needing_tags(tagger.version, limit=TAG_BATCH)
            if not batch:
                return done
            for stored in batch:
                item = stored.item
                result = tagger.tag(item.title, item.text, item.lang, item.declared_topics)
                store.save_tags(stored.id, result, tagger.version, now)
            done += len(batch)

    done = _leased(store, "tag", tag_all) or 0
    if done:
        event("tagged", items=done, tagger=tagger.version)
    return done


def _leased(store: Storage, name: str, work: Callable[[Lease], T]) -> T | None:
    """Run ``work`` holding the database lease ``name``, waiting a while for another holder.

    Waiting (rather than skipping at once) means a worker that stored new items
    still publishes and delivers them in its own cycle after a busy neighbour is
    done; a neighbour that died is taken over at once on the same machine and
    within the lease TTL from elsewhere. ``work`` gets the lease to check at its
    checkpoints; losing it raises :class:`LeaseLostError` out of the stage.
    """
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    with LeaseKeeper(store) as keeper:
        while (lease := keeper.acquire(name)) is None:
            if time.monotonic() >= deadline:
                event(
                    f"{name}_skipped",
                    logging.WARNING,
                    reason=f"another worker holds the {name} lease",
                )
                return None
            time.sleep(LEASE_POLL_SECONDS)
        return work(lease)


def publish_stage(store: Storage, settings: Settings, now: datetime) -> PublishReport | None:
    """Write feeds and pages; None when another worker kept the publish lease too long."""
    report = _leased(
        store,
        "publish",
        lambda lease: publish(store, settings, now, settings.templates_dir, lease.check),
    )
    if report is not None:
        event("published", written=len(report.written), unchanged=len(report.unchanged))
    return report


def deliver_stage(store: Storage, settings: Settings, now: datetime) -> DeliveryReport | None:
    """Send what is due; None when another worker kept the delivery lease too long."""
    report = _leased(
        store,
        "deliver",
        lambda lease: deliver_due(
            store, settings, now, settings.templates_dir, checkpoint=lease.check
        ),
    )
    if report is not None:
        for failure in report.failures:
            event(
                "delivery_failed",
                logging.WARNING,
                subscriber=failure.email,
                dispatch=failure.dispatch,
                kind=failure.kind,
                state=failure.state,
                error=failure.error,
            )
        if report.stopped is not None:
            event(
                "delivery_stopped",
                logging.WARNING,
                reason=report.stopped,
                not_reached=report.not_reached,
                **report.left,
            )
        event(
            "delivered",
            messages=len(report.sent),
            retried=report.retried,
            not_due=report.not_due,
            nothing_new=report.nothing_new,
            skipped=report.skipped,
            failures=len(report.failures),
            bounced=len(report.bounced),
            not_reached=report.not_reached,
            stopped=report.stopped,
            **{f"left_{state}": count for state, count in report.left.items()},
        )
    return report
