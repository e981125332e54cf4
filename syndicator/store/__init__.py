"""The store: the only package that speaks SQL.

Stages depend on :class:`Storage` (the Protocol); :func:`open_store` gives the
SQLAlchemy implementation for a database URL.
"""

from syndicator.store.protocol import (
    ApplyCounts,
    DeliveryKind,
    Dispatch,
    ItemKey,
    KeyUse,
    LeaseRecord,
    RecipientEntry,
    RecipientState,
    Storage,
)
from syndicator.store.sql import SqlStore


def open_store(url: str) -> SqlStore:
    """Open (and migrate) the database at a SQLAlchemy URL."""
    return SqlStore.open(url)


__all__ = [
    "ApplyCounts",
    "DeliveryKind",
    "Dispatch",
    "ItemKey",
    "KeyUse",
    "LeaseRecord",
    "RecipientEntry",
    "RecipientState",
    "SqlStore",
    "Storage",
    "open_store",
]
