"""Where rendered messages go: an outbox folder of ``.eml`` files, or SMTP.

A transport is a context manager used for one deliver run: ``open`` (enter)
checks it can work at all, ``send`` hands over one message and raises a
:class:`DeliveryError` naming the subscriber, whose class says what became of
the message (:mod:`syndicator.errors`), ``close`` (exit) releases everything, on
success or error. ``unavailable`` tells the run when to stop using it.

The outbox derives the file name from the Message-ID, so writing a message
twice makes one file. An SMTP retry carries the same Message-ID, but a server
that already accepted the first copy delivers a second one: that is why the
ledger sends a message whose outcome is unknown at most once more
(:mod:`syndicator.deliver.outcomes`). SMTP lives in :mod:`syndicator.deliver.smtp`.

``delivery.transport`` names an entry of a registry of factories (delivery
settings → transport): ``outbox`` and ``smtp`` are registered at the end of this
module, and :func:`register_transport` adds another (a queue, an HTTP mail API)
without touching the deliver run.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from syndicator.atomic import atomic_write, remove_stale_temporaries, temp_prefix
from syndicator.config import DeliverySettings
from syndicator.deliver.render import Rendered
from syndicator.deliver.smtp import SmtpTransport
from syndicator.errors import DeliveryError, OutputError

log = logging.getLogger(__name__)


class Transport(Protocol):
    """What the orchestration needs from a transport."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @property
    def unavailable(self) -> str | None:
        """Why the transport can take no more messages in this run; None while it can."""
        ...

    def send(self, rendered: Rendered, time_left: float | None = None) -> None:
        """Hand one message over within ``time_left`` seconds; a :class:`DeliveryError`
        subclass tells what became of a message that was not accepted."""
        ...


# --------------------------------------------------------------------------- outbox


def outbox_filename(rendered: Rendered) -> str:
    """``<UTC date>-<safe Message-ID>.eml``: sortable by time, stable for one message.

    The date is the message's own ``Date`` header (fixed at reservation), not the
    time of writing, so a retry maps to the same name.
    """
    message = rendered.message
    date = parsedate_to_datetime(str(message["Date"]))
    stamp = date.strftime("%Y%m%dT%H%M%SZ")
    mid = rendered.message_id.strip().strip("<>")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", mid).strip("._")[:80]
    # The hash keeps two Message-IDs that differ only in unsafe characters apart.
    tag = hashlib.sha256(mid.encode("utf-8")).hexdigest()[:8]
    return f"{stamp}-{safe}-{tag}.eml"


class OutboxTransport:
    """Writes each message to ``<outbox>/<name>.eml`` atomically (temp file + rename).

    A reader of the folder (a test, an operator, a mail pickup daemon) never sees
    half a message, and a message already in the folder is not written again.
    """

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = outbox_dir

    def __enter__(self) -> Self:
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.outbox_dir, prefix=temp_prefix() + "probe-"):
                pass
            # A run killed mid-write left its temporary behind; one deliver run works at
            # a time (the deliver lease), so what is stale now is nobody's write.
            for path in remove_stale_temporaries(self.outbox_dir):
                log.info("removed stale temporary file %s", path)
        except OSError as exc:
            raise OutputError(f"outbox folder {self.outbox_dir} cannot be written") from exc
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    @property
    def unavailable(self) -> str | None:
        return None  # a folder that cannot be written fails the run when it opens

    def path_for(self, rendered: Rendered) -> Path:
        return self.outbox_dir / outbox_filename(rendered)

    def send(self, rendered: Rendered, time_left: float | None = None) -> None:
        target = self.path_for(rendered)
        if target.exists():
            return  # written by an earlier attempt that crashed before mark_sent
        try:
            atomic_write(target, rendered.message.as_bytes())  # private: mode 0600
        except OSError as exc:
            raise DeliveryError(rendered.email, f"cannot write {target.name}") from exc


# --------------------------------------------------------------------------- registry

TransportFactory = Callable[[DeliverySettings], Transport]
"""Builds the transport of one deliver run from the delivery settings."""

_TRANSPORTS: dict[str, TransportFactory] = {}


def register_transport(name: str, factory: TransportFactory) -> None:
    """Make ``name`` a valid ``delivery.transport``; a name is registered once."""
    if name in _TRANSPORTS:
        raise ValueError(f"transport {name!r} is already registered")
    _TRANSPORTS[name] = factory


def unregister_transport(name: str) -> None:
    """Forget a transport (a test that registered one cleans up with this)."""
    _TRANSPORTS.pop(name, None)


def known_transports() -> tuple[str, ...]:
    return tuple(sorted(_TRANSPORTS))


def make_transport(delivery: DeliverySettings) -> Transport:
    """The transport ``delivery.transport`` names (config validation checked the name)."""
    try:
        factory = _TRANSPORTS[delivery.transport]
    except KeyError:
        raise LookupError(
            f"delivery.transport: {delivery.transport!r} is not registered; "
            f"known: {', '.join(known_transports())}"
        ) from None
    return factory(delivery)


def _smtp(delivery: DeliverySettings) -> Transport:
    assert delivery.smtp is not None  # the settings validator guarantees it
    return SmtpTransport(delivery.smtp)


register_transport("outbox", lambda delivery: OutboxTransport(delivery.outbox_dir))
register_transport("smtp", _smtp)

__all__ = [
    "OutboxTransport",
    "SmtpTransport",
    "Transport",
    "TransportFactory",
    "make_transport",
    "outbox_filename",
    "register_transport",
    "unregister_transport",
]
