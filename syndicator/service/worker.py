"""``syndicator worker``: the same cycle as ``syndicator run``, on a schedule.

One APScheduler 3.x scheduler per process, with an in-memory job store: the
schedule that matters (when each source is due, what each subscriber was sent)
lives in the database, so several workers can share one database without ever
sharing a job store (which would send every email once per worker). Jobs run
one at a time in a single thread, late runs are coalesced, and a misfire grace
of minutes keeps a busy machine from silently skipping a run. SIGHUP re-reads
the configuration (sources, subscribers, taxonomy) without a restart.

At start the worker records the fingerprints of its link-signing keys and warns
about processes that disagree (:mod:`syndicator.deliver.keys`); it renews the
record every hour and drops it when it stops.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syndicator.config import Settings, load_settings
from syndicator.deliver.keys import KEY_USE_REFRESH
from syndicator.errors import ConfigError, SyndicatorError
from syndicator.service.logs import LOG, event
from syndicator.service.pipeline import run_cycle
from syndicator.service.signing import announce_keys, forget_keys, renew_keys


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """Log a failed run and keep the service alive for the next one."""

    def run() -> None:
        try:
            job()
        except SyndicatorError as exc:
            event(f"{name}_failed", logging.ERROR, error=str(exc))
        except Exception:
            LOG.exception("event=%s_crashed", name)

    return run


class LiveSettings:
    """The settings the jobs read; SIGHUP swaps them for a freshly validated copy.

    Reading one attribute is atomic, so a job sees either the old settings or the
    new ones, never a mixture; a job already running finishes with what it had.
    """

    def __init__(self, settings: Settings) -> None:
        self.current = settings

    def reload(self) -> None:
        """Re-read the config file; an invalid file is reported and the old settings stay."""
        path = self.current.config_path
        try:
            fresh = load_settings(path)
        except ConfigError as exc:
            event("config_reload_failed", logging.ERROR, error=str(exc))
            return
        if fresh.schedule != self.current.schedule:
            event(
                "config_reload_note",
                logging.WARNING,
                message="schedule changes take effect after a restart",
            )
        self.current = fresh
        event("config_reloaded", path=path, sources=len(fresh.sources))


def build_scheduler(live: LiveSettings) -> BlockingScheduler:
    schedule = live.current.schedule
    scheduler = BlockingScheduler(
        timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=1)}
    )
    # Stated per job rather than as scheduler defaults so that each job carries them
    # from the moment it is added (and a test can read them back).
    policy = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": schedule.misfire_grace_seconds,
    }
    now = datetime.now(UTC)
    scheduler.add_job(
        _guarded("cycle", lambda: run_cycle(live.current)),
        IntervalTrigger(minutes=schedule.collect_every_minutes, timezone=UTC),
        id="cycle",
        name="collect, tag, publish and deliver",
        next_run_time=now,
        **policy,
    )
    scheduler.add_job(
        _guarded("deliver", lambda: run_cycle(live.current, stages=("deliver",))),
        IntervalTrigger(minutes=schedule.deliver_every_minutes, timezone=UTC),
        id="deliver",
        name="send due digests",
        **policy,
    )
    scheduler.add_job(
        _guarded("signing_keys", lambda: renew_keys(live.current, "worker")),
        IntervalTrigger(seconds=KEY_USE_REFRESH.total_seconds(), timezone=UTC),
        id="signing_keys",
        name="renew this worker's signing-key record",
        **policy,
    )
    return scheduler


class _Stopper:
    """What SIGTERM and SIGINT do, counted: stop gently, then say so, then stop at once.

    The first signal lets the running job finish (a digest half sent is worse than a
    late stop). An impatient operator presses Ctrl-C again: the worker says it is
    still finishing instead of stumbling over a scheduler that is already shutting
    down. A third signal means "now": the process ends at once, which is a crash as
    far as the store is concerned (reserved messages stay pending and are retried,
    leases are taken over), so nothing is lost, only repeated.
    """

    def __init__(self, scheduler: BlockingScheduler, exit_now: Callable[[int], object]) -> None:
        self.scheduler = scheduler
        self.exit_now = exit_now
        self.count = 0

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        name = signal.Signals(signum).name
        if self.count == 1:
            event("worker_stopping", signal=name)
            # shutdown() from a signal handler would wait on the job we interrupted.
            threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}).start()
        elif self.count == 2:
            event(
                "worker_stopping",
                logging.WARNING,
                signal=name,
                message="still finishing the running job; send it again to stop at once",
            )
        else:
            event("worker_stopped_at_once", logging.WARNING, signal=name)
            self.exit_now(EXIT_INTERRUPTED)


EXIT_INTERRUPTED = 130
"""The shell's code for "ended by Ctrl-C", used when a third signal stops the worker at once."""


def run_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT (a stop waits for the running job); SIGHUP reloads."""
    live = LiveSettings(settings)
    scheduler = build_scheduler(live)

    def reload(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=live.reload).start()

    stopper = _Stopper(scheduler, os._exit)
    signal.signal(signal.SIGTERM, stopper)
    signal.signal(signal.SIGINT, stopper)
    signal.signal(signal.SIGHUP, reload)
    event(
        "worker_started",
        collect_every=f"{settings.schedule.collect_every_minutes}m",
        deliver_every=f"{settings.schedule.deliver_every_minutes}m",
    )
    announce_keys(settings, "worker")
    scheduler.start()
    forget_keys(live.current)
    event("worker_stopped")
