"""Do the processes sharing a database agree on the unsubscribe-link keys?

Workers and ``syndicator run`` sign links; ``syndicator serve`` verifies them
when a reader clicks. A link is refused when the serving process does not hold
the key it was signed with, and nothing fails when the message is sent: without
a check, the first sign of two processes with different keys is a reader who
cannot unsubscribe. So each process records in the store, at start and then
every :data:`KEY_USE_REFRESH` while it runs, a :class:`KeyUse`: fingerprints of
the key it signs with and of every key it accepts (an HMAC of a constant under
the key, which tells keys apart without revealing them). At start it compares
its record with those other processes made in the last :data:`KEY_USE_WINDOW`
and logs one warning line per disagreement (:func:`key_warnings`, pure):

* a serve process that does not accept the key a worker or run signs with
  (seen from either side);
* while no serve process has recorded its keys, two signing processes with
  unrelated keys (neither accepts the other's): a serve configured like either
  one would refuse the other's links;
* a generated key (no variable set) in a database several workers share: a
  PostgreSQL database, or one where a process on another host recorded a key.
  Each worker must then be given the same configured key.

A rotation in progress (the new key current, the old one listed as previous)
is not a disagreement. A process forgets its record when it stops cleanly;
``run`` keeps it, since the links it signed are in mailboxes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from syndicator.config import DeliverySettings, Settings
from syndicator.deliver.tokens import GENERATED, SigningKeys, signing_keys
from syndicator.store.protocol import KeyUse, Storage

Role = Literal["worker", "run", "serve"]
SERVE = "serve"
KEY_USE_WINDOW = timedelta(days=2)
"""Records older than this are forgotten: a process that long gone no longer counts."""
KEY_USE_REFRESH = timedelta(hours=1)
"""How often a long-running process renews its record, so it never looks gone."""
_FINGERPRINT_MESSAGE = b"syndicator unsubscribe-link key fingerprint v1"

log = logging.getLogger(__name__)


def fingerprint(key: str | bytes) -> str:
    """16 hex digits that name a key without revealing it (an HMAC of a constant)."""
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


def process_name() -> str:
    """``host:pid``, as the leases name their holders (the host cut to fit the column)."""
    return f"{socket.gethostname()[:180]}:{os.getpid()}"


def key_use(keys: SigningKeys, role: Role, now: datetime, process: str | None = None) -> KeyUse:
    """This process's record: fingerprints only, the current key first."""
    signer = keys.signer()
    return KeyUse(
        process=process or process_name(),
        role=role,
        signs=fingerprint(signer.keys[0]),
        accepts=tuple(fingerprint(key) for key in signer.keys),
        source=keys.source,
        seen_at=now,
    )


def _host(use: KeyUse) -> str:
    return use.process.rpartition(":")[0]


def _refuses(verifier: KeyUse, signer: KeyUse) -> bool:
    return signer.signs not in verifier.accepts


def _source(use: KeyUse) -> str:
    return "generated, kept in the database" if use.source == GENERATED else f"from {use.source}"


def _describe(use: KeyUse) -> str:
    earlier = f", also accepts {', '.join(use.accepts[1:])}" if use.accepts[1:] else ""
    return f"{use.role} {use.process}: key {use.signs} ({_source(use)}){earlier}"


def _line(name: str, **fields: str) -> str:
    """``event=NAME k="v" ...``, the shape of every Syndicator log line."""
    return " ".join([f"event={name}", *(f"{k}={json.dumps(v)}" for k, v in fields.items())])


def _problem(me: KeyUse, other: KeyUse, *, serve_seen: bool) -> str | None:
    """What goes wrong between two processes, if anything.

    Two signers only matter to each other while no serve process has recorded its
    keys: once one has, whether it accepts each signer's key is the whole question.
    """
    if me.role == SERVE:
        if _refuses(me, other):
            return f"this serve refuses links signed with key {other.signs}"
        return None
    if other.role == SERVE:
        if _refuses(other, me):
            return f"serve {other.process} refuses the links this {me.role} signs"
        return None
    if not serve_seen and _refuses(me, other) and _refuses(other, me):
        return "unrelated keys: a serve process honours the links of only one of them"
    return None


def key_warnings(
    me: KeyUse, others: Sequence[KeyUse], delivery: DeliverySettings, *, shared_database: bool
) -> list[str]:
    """One log line per disagreement between ``me`` and the recent ``others`` (newest first)."""
    hint = (
        f"give every worker and syndicator serve the same {delivery.signing_key_env}; "
        f"keep earlier keys in {delivery.previous_signing_keys_env} while their links may be "
        "in mailboxes"
    )
    lines: list[str] = []
    peers = [use for use in others if use.process != me.process]
    other_hosts = sorted({_host(use) for use in peers} - {_host(me)})
    if me.source == GENERATED and (shared_database or other_hosts):
        shared = "a PostgreSQL database" if shared_database else f"hosts {', '.join(other_hosts)}"
        lines.append(
            _line(
                "signing_key_generated",
                this=_describe(me),
                shared_with=shared,
                hint=f"{hint}; links signed with the generated key keep working",
            )
        )
    reported: set[tuple[str, str, tuple[str, ...]]] = set()
    serve_seen = any(use.role == SERVE for use in [me, *peers])
    for other in peers:
        problem = _problem(me, other, serve_seen=serve_seen)
        if problem is None:
            continue
        group = (other.role, other.signs, other.accepts)
        if group in reported:  # the same configuration again (cron runs): said once
            continue
        reported.add(group)
        lines.append(
            _line(
                "signing_key_mismatch",
                this=_describe(me),
                other=_describe(other),
                other_seen=other.seen_at.isoformat(timespec="seconds"),
                problem=problem,
                hint=hint,
            )
        )
    return lines


def key_problems(uses: Sequence[KeyUse]) -> list[str]:
    """Every disagreement among recorded processes, said once (for ``syndicator status``).

    Processes with the same role and keys (cron runs) count as one: the newest.
    """
    distinct: dict[tuple[str, str, tuple[str, ...]], KeyUse] = {}
    for use in uses:
        distinct.setdefault((use.role, use.signs, use.accepts), use)
    found: list[str] = []
    group = list(distinct.values())
    serve_seen = any(use.role == SERVE for use in group)
    for i, one in enumerate(group):
        for other in group[i + 1 :]:
            for verifier, signer in ((one, other), (other, one)):
                if verifier.role == SERVE and _refuses(verifier, signer):
                    found.append(
                        f"serve {verifier.process} refuses links signed with key {signer.signs} "
                        f"({signer.role} {signer.process})"
                    )
            if SERVE not in (one.role, other.role) and _problem(one, other, serve_seen=serve_seen):
                found.append(
                    f"{one.role} {one.process} and {other.role} {other.process} sign with "
                    f"unrelated keys ({one.signs}, {other.signs})"
                )
    return found


def _shared(database_url: str) -> bool:
    """PostgreSQL is how several workers share one database (SQLite is for one host)."""
    return database_url.startswith("postgres")


def check_keys(
    store: Storage, settings: Settings, role: Role, now: datetime, process: str | None = None
) -> list[str]:
    """Record this process's keys, log and return a warning per disagreement with the others."""
    me = key_use(signing_keys(store, settings.delivery), role, now, process)
    store.record_key_use(me, now - KEY_USE_WINDOW)
    others = store.key_uses(now - KEY_USE_WINDOW)
    lines = key_warnings(me, others, settings.delivery, shared_database=_shared(settings.database))
    for line in lines:
        log.warning(line)
    return lines


def renew_key_use(
    store: Storage, settings: Settings, role: Role, now: datetime, process: str | None = None
) -> None:
    """Record this process's keys again, silently, so it stays visible to the others."""
    me = key_use(signing_keys(store, settings.delivery), role, now, process)
    store.record_key_use(me, now - KEY_USE_WINDOW)


def forget_key_use(store: Storage, process: str | None = None) -> None:
    """On a clean stop: this process no longer verifies nor signs anything."""
    store.forget_key_use(process or process_name())
