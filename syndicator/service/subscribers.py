"""The operator's subscriber commands: add, remove, forget, import, export.

Rows the configuration lists belong to it (``managed_by`` "config"): the
operator edits config.yaml for those, and these commands refuse to touch them.
A reader's unsubscribe is theirs: neither ``add`` nor ``import`` undoes it; only
``syndicator unsubscribe --undo`` does, deliberately. Everything entering here is
checked the way the configuration is: one valid address (:mod:`syndicator.addresses`),
topics of the taxonomy, an IANA time zone, known country codes, and a query that
parses (its mistake shown with a caret under it).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicator.addresses import AddressError, parse_address
from syndicator.config import Settings
from syndicator.errors import SubscriberError, SyndicatorError
from syndicator.i18n import check_language
from syndicator.models import Cadence, Subscriber
from syndicator.query.subscription import check_countries, check_query
from syndicator.store.protocol import Dispatch, RecipientEntry, RecipientState, Storage

Outcome = Literal["added", "updated", "unchanged"]
CSV_COLUMNS = (
    "email",
    "name",
    "topics",
    "countries",
    "query",
    "cadence",
    "timezone",
    "alerts",
    "language",
)
"""What ``import`` reads; other columns (an ``export``'s extra ones) are ignored."""
FORGET_KEY = "recipient-forget-key"
"""The stored key of the hash that replaces a forgotten address."""
_TRUE = {"yes", "true", "1", "y", "on"}
_FALSE = {"no", "false", "0", "n", "off", ""}


class EntryError(ValueError):
    """One subscriber entry is not valid; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A CSV line that was not imported, and why."""

    line: int
    email: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    accepted: list[tuple[int, str, Outcome]] = field(default_factory=list)
    """(line, address, added/updated/unchanged) per imported line."""
    rejected: list[Rejected] = field(default_factory=list)


def address_key(value: str) -> str:
    """The address as stored: validated, as written, lower-cased (as config rows are)."""
    try:
        parse_address(value.strip())
    except AddressError as exc:
        raise EntryError(str(exc)) from None
    return value.strip().lower()


def make_entry(
    settings: Settings,
    email: str,
    topics: tuple[str, ...],
    *,
    cadence: str = "daily",
    timezone: str = "UTC",
    alerts: bool = False,
    name: str | None = None,
    countries: tuple[str, ...] = (),
    query: str | None = None,
    language: str | None = None,
) -> Subscriber:
    """A validated subscriber, or :class:`EntryError` naming the field at fault."""
    address = address_key(email)
    if not (topics or countries or query):
        raise EntryError("no topics, countries or query given")
    known = settings.taxonomy.ids
    unknown = [t for t in topics if t not in known]
    if unknown:
        raise EntryError(
            f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    try:
        codes = check_countries(countries)
    except ValueError as exc:
        raise EntryError(f"countries: {exc}") from None
    if query:
        try:
            check_query(query, known, [s.id for s in settings.sources])
        except ValueError as exc:
            raise EntryError(f"query: {exc}") from None
    try:
        language = check_language(language) if language else None
    except ValueError as exc:
        raise EntryError(f"language: {exc}") from None
    if cadence not in get_args(Cadence):
        raise EntryError(f"cadence {cadence!r} is not one of {', '.join(get_args(Cadence))}")
    if cadence == "none" and not alerts:
        raise EntryError("cadence none without alerts would send nothing at all")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise EntryError(
            f"unknown time zone {timezone!r} (use an IANA name such as Europe/Vienna)"
        ) from None
    return Subscriber(
        email=address,
        topics=topics,
        cadence=cadence,  # type: ignore[arg-type]  # checked against Cadence above
        timezone=timezone,
        name=name or None,
        alerts=alerts,
        countries=codes,
        query=query or None,
        language=language,
    )


def _config_position(settings: Settings, address: str) -> int | None:
    for n, configured in enumerate(settings.subscribers):
        if configured.email.lower() == address:
            return n
    return None


def _may_set(settings: Settings, stored: RecipientState | None, address: str) -> None:
    """Raise when the operator must not change this address here (config, unsubscribe)."""
    n = _config_position(settings, address)
    if n is not None:
        raise SubscriberError(
            address,
            f"listed in config.yaml (subscribers.{n}): the configuration wins; edit it there",
        )
    if stored is not None and stored.unsubscribed_at is not None:
        raise SubscriberError(
            address,
            f"unsubscribed on {stored.unsubscribed_at:%Y-%m-%d}; only "
            "`syndicator unsubscribe --undo` resumes their mail",
        )


def _same(stored: RecipientState, wanted: Subscriber) -> bool:
    owned = stored.status == "active" and stored.managed_by == "operator"
    return owned and stored.subscriber == wanted


def save(
    store: Storage, settings: Settings, wanted: Subscriber, consent_source: str, now: datetime
) -> Outcome:
    """Add or update an operator-managed subscriber, active at once (the operator vouches)."""
    stored = store.find_recipient(wanted.email)
    _may_set(settings, stored, wanted.email)
    if stored is not None and _same(stored, wanted):
        return "unchanged"  # the first consent stays the one recorded
    store.save_recipient(RecipientEntry(wanted, "operator", consent_source), now)
    if stored is None or stored.status in ("removed", "forgotten"):
        return "added"
    return "updated"


def remove(
    store: Storage, settings: Settings, email: str, *, forget: bool, now: datetime
) -> bool:
    """Stop mail to an address, keeping its history; ``forget`` also erases who it was."""
    address = address_key(email)
    n = _config_position(settings, address)
    if n is not None:
        raise SubscriberError(
            address, f"listed in config.yaml (subscribers.{n}): remove it there first"
        )
    if not forget:
        return store.remove_recipient(address, now)
    return store.forget_recipient(address, forgotten_address(store, address), now)


def forgotten_address(store: Storage, address: str) -> str:
    """A keyed hash of the address: the row and its ledger stay, the person cannot be read
    back from them, and it cannot be recomputed without the key in the database."""
    key = store.get_or_create_secret(FORGET_KEY, secrets.token_hex(32))
    digest = hmac.new(key.encode(), address.lower().encode(), hashlib.sha256).hexdigest()
    return f"forgotten:{digest}"


def import_csv(store: Storage, settings: Settings, path: Path, now: datetime) -> ImportReport:
    """Add or update every valid line of a CSV file; report each rejected line and why.

    Idempotent: importing the same file again changes nothing ("unchanged").
    """
    report = ImportReport()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip().lower() for c in reader.fieldnames or ()]
            if "email" not in columns:
                raise SyndicatorError(
                    f"{path}: no 'email' column in the header line; "
                    f"expected columns: {', '.join(CSV_COLUMNS)}"
                )
            reader.fieldnames = columns
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SyndicatorError(f"{path}: cannot read it as UTF-8 CSV: {exc}") from None
    seen: dict[str, int] = {}
    source = f"import {path.name}"
    for line, row in rows:
        email = (row.get("email") or "").strip()
        try:
            wanted = _row_entry(settings, row)
            if wanted.email in seen:
                raise EntryError(f"repeats line {seen[wanted.email]}")
            seen[wanted.email] = line
            report.accepted.append((line, wanted.email, save(store, settings, wanted, source, now)))
        except (EntryError, SubscriberError) as exc:
            report.rejected.append(Rejected(line, email, str(exc)))
    return report


def _row_entry(settings: Settings, row: Mapping[str, str | None]) -> Subscriber:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    alerts = cell("alerts").lower()
    if alerts not in _TRUE | _FALSE:
        raise EntryError(f"alerts {cell('alerts')!r} is not yes or no")
    return make_entry(
        settings,
        cell("email"),
        tuple(t for t in re.split(r"[\s;]+", cell("topics")) if t),
        cadence=cell("cadence") or "daily",
        timezone=cell("timezone") or "UTC",
        alerts=alerts in _TRUE,
        name=cell("name") or None,
        countries=tuple(c for c in re.split(r"[\s;,]+", cell("countries")) if c),
        query=cell("query") or None,
        language=cell("language") or None,
    )


def export_records(store: Storage) -> list[dict[str, Any]]:
    """Everything stored about each recipient, with the messages the ledger holds."""
    return [
        _record(state, store.recipient_dispatches(state.id))
        for state in store.recipient_states(include_gone=True)
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _record(state: RecipientState, sent: list[Dispatch]) -> dict[str, Any]:
    sub = state.subscriber
    return {
        "id": state.id,
        "kind": state.kind,
        "email": sub.email,
        "name": sub.name,
        "status": state.status,
        "managed_by": state.managed_by,
        "topics": list(sub.topics),
        "countries": list(sub.countries),
        "query": sub.query,
        "cadence": sub.cadence,
        "alerts": sub.alerts,
        "timezone": sub.timezone,
        "send_time": state.send_time,
        "send_weekday": state.send_weekday,
        "language": sub.language,
        "consented_at": _iso(state.consented_at),
        "consent_source": state.consent_source,
        "confirmed_at": _iso(state.confirmed_at),
        "subscribed_at": _iso(state.subscribed_at),
        "unsubscribed_at": _iso(state.unsubscribed_at),
        "last_digest_at": _iso(state.last_digest_at),
        "bounces": state.bounces,
        "bounced_at": _iso(state.bounced_at),
        "created_at": _iso(state.created_at),
        "updated_at": _iso(state.updated_at),
        "messages": [
            {
                "kind": d.kind,
                "message_id": d.message_id,
                "state": d.state,
                "created_at": _iso(d.created_at),
                "sent_at": _iso(d.sent_at),
                "attempts": d.attempts,
                "last_error": d.last_error,
                "item_ids": list(d.item_ids),
            }
            for d in sent
        ],
    }
