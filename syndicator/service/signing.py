"""The signing-key check at the start of ``worker`` and ``run`` (``serve`` runs it itself).

A thin shell around :mod:`syndicator.deliver.keys` that opens the store. The
check only ever warns: a database that cannot be reached here is reported as
one line, and the command goes on to meet (and report) it in earnest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from syndicator.config import Settings
from syndicator.deliver.keys import Role, check_keys, forget_key_use, renew_key_use
from syndicator.errors import SyndicatorError
from syndicator.service.logs import event
from syndicator.store import open_store
from syndicator.store.protocol import Storage


def _with_store(settings: Settings, what: str, work: Callable[[Storage], object]) -> None:
    try:
        store = open_store(settings.database)
        try:
            work(store)
        finally:
            store.close()
    except SyndicatorError as exc:
        event("signing_key_check_failed", logging.WARNING, step=what, error=str(exc))


def announce_keys(settings: Settings, role: Role) -> None:
    """Record this process's keys and log a warning per process that disagrees."""
    _with_store(settings, "check", lambda store: check_keys(store, settings, role, _now()))


def renew_keys(settings: Settings, role: Role) -> None:
    """Renew this process's record (a long-running process does so every hour)."""
    _with_store(settings, "renew", lambda store: renew_key_use(store, settings, role, _now()))


def forget_keys(settings: Settings) -> None:
    """Drop this process's record when it stops cleanly."""
    _with_store(settings, "forget", forget_key_use)


def _now() -> datetime:
    return datetime.now(UTC)
