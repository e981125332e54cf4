"""One cycle: collect → tag → publish → deliver, each reading what the last wrote.

This is what ``syndicator run`` (cron) and every tick of ``syndicator worker``
(APScheduler) call. A failing source is reported and the cycle goes on; an
invalid configuration, an unreachable database or an output folder that cannot
be written stops it with an error, since nothing useful could come out.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from syndicator.atomic import temp_prefix
from syndicator.config import Settings
from syndicator.deliver import DeliveryReport
from syndicator.errors import OutputError
from syndicator.publish import PublishReport
from syndicator.service.logs import event
from syndicator.service.stages import (
    STAGES,
    CollectReport,
    collect_stage,
    deliver_stage,
    publish_stage,
    tag_stage,
)
from syndicator.store import Storage, open_store
from syndicator.tagging import Tagger


@dataclass(slots=True)
class CycleReport:
    """What one cycle did, for the command line and the logs."""

    started_at: datetime
    finished_at: datetime | None = None
    collect: CollectReport | None = None
    tagged: int = 0
    publish: PublishReport | None = None
    deliver: DeliveryReport | None = None
    stages: list[str] = field(default_factory=list)


def ensure_writable(folder: Path, what: str) -> None:
    """Fail before any work when an output folder cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Named like every temporary file, so a kill right here leaves no unknown debris.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=temp_prefix() + "probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"{what} {folder} is not writable: {exc.strerror or exc}") from None


def check_outputs(settings: Settings, stages: Iterable[str]) -> None:
    chosen = set(stages)
    if "publish" in chosen:
        ensure_writable(settings.publish.output_dir, "output folder (publish.output_dir)")
    if "deliver" in chosen and settings.delivery.transport == "outbox":
        ensure_writable(settings.delivery.outbox_dir, "outbox folder (delivery.outbox_dir)")


def run_cycle(
    settings: Settings,
    *,
    now: datetime | None = None,
    stages: Iterable[str] = STAGES,
    force: bool = False,
    store: Storage | None = None,
    tagger: Tagger | None = None,
) -> CycleReport:
    """Run the chosen stages once, in order; see the module docstring for failures."""
    chosen = [s for s in STAGES if s in set(stages)]

    def clock() -> datetime:
        # Each stage reads the present when it starts: a digest is due by the time
        # delivery runs, not by when collection began (which matters when several
        # workers interleave). Tests pin ``now`` for every stage.
        return now or datetime.now(UTC)

    check_outputs(settings, chosen)
    report = CycleReport(started_at=clock(), stages=chosen)
    started = time.monotonic()
    own_store = store is None
    db = store or open_store(settings.database)
    try:
        if "collect" in chosen:
            report.collect = collect_stage(db, settings, clock(), force=force)
        if "tag" in chosen:
            tagger = tagger or Tagger.from_settings(settings.taxonomy)
            report.tagged = tag_stage(db, tagger, clock())
        if "publish" in chosen:
            report.publish = publish_stage(db, settings, clock())
        if "deliver" in chosen:
            report.deliver = deliver_stage(db, settings, clock())
    finally:
        if own_store:
            db.close()
    report.finished_at = datetime.now(UTC)
    event(
        "cycle",
        stages=",".join(chosen),
        sources=len(report.collect.sources) if report.collect else None,
        failed=len(report.collect.failed) if report.collect else None,
        tagged=report.tagged,
        seconds=round(time.monotonic() - started, 2),
    )
    return report
