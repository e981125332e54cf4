"""One exception tree for the whole project.

Callers catch :class:`SyndicatorError` at the edge (the CLI, the scheduler) and
branch on the resource that failed: a source, a subscriber, the store, an output,
the configuration. I/O errors are translated into these classes only at the
boundary where they happen, so a bug elsewhere still surfaces as a traceback.
"""

from __future__ import annotations

import unicodedata
from typing import ClassVar, Literal

DeliveryOutcome = Literal["temporary", "refused", "rejected", "unavailable", "unknown"]
"""What became of one attempt to hand a message over, when it was not sent."""


class SyndicatorError(Exception):
    """Root of every error Syndicator raises on purpose.

    ``str()`` includes the cause, so a one-line log of the error tells the
    operator what happened without a traceback.
    """

    cause_worded: bool = False
    """True when the message already says, in the project's words, what the cause
    says (e.g. a driver error the store has translated): ``str()`` then leaves the
    cause's own text out, while ``__cause__`` keeps it for code and tracebacks."""

    def __str__(self) -> str:
        message = super().__str__()
        cause = self.__cause__
        if cause is not None and not self.cause_worded and str(cause) and str(cause) not in message:
            return f"{message}: {type(cause).__name__}: {cause}"
        return message


class ConfigError(SyndicatorError, ValueError):
    """The configuration file is missing, unreadable or invalid.

    The message names the file and, where there is one, the key path.
    """


class SourceError(SyndicatorError):
    """Collecting one source failed; the cycle records it and goes on.

    ``error_class`` is a short stable word (``timeout``, ``too_large``,
    ``parse_error``, ...) that the store keeps and ``syndicator sources`` shows.
    """

    def __init__(self, source_id: str, message: str, error_class: str = "error") -> None:
        super().__init__(f"source {source_id!r}: {message}")
        self.source_id = source_id
        self.error_class = error_class


class StorageError(SyndicatorError):
    """The database could not be reached, migrated or written."""


class SchemaVersionError(StorageError):
    """The database was written by a newer Syndicator than this one."""


class OutputError(SyndicatorError):
    """An output folder (feeds, pages, outbox) cannot be written."""


class SubscriberError(SyndicatorError):
    """An operator's change to a subscriber that cannot be made (the configuration owns
    the address, the reader unsubscribed); the message names the address and why."""

    def __init__(self, subscriber: str, message: str) -> None:
        super().__init__(f"subscriber {subscriber!r}: {message}")
        self.subscriber = subscriber


class DeliveryError(SyndicatorError):
    """A message could not be handed to its transport (SMTP, outbox), for now.

    This class itself is a *temporary* failure (a 4xx answer, a connection lost
    before the end of the data, a full disk): nothing can have reached the
    reader, the message stays pending and a later run sends it again. The
    subclasses are the outcomes that must not be retried that way; the deliver
    run turns each into a ledger state (:mod:`syndicator.deliver.outcomes`).
    """

    outcome: ClassVar[DeliveryOutcome] = "temporary"

    def __init__(self, subscriber: str, message: str) -> None:
        super().__init__(f"subscriber {subscriber!r}: {message}")
        self.subscriber = subscriber


class RecipientRefused(DeliveryError):
    """The server refused the address for good (5xx to RCPT TO): the message fails and
    the address earns a bounce; the message is not sent again."""

    outcome: ClassVar[DeliveryOutcome] = "refused"


class MessageRejected(DeliveryError):
    """The server refused this message for good (5xx to DATA or to its end): the message
    fails, the address is not blamed, and the reader's next messages go on."""

    outcome: ClassVar[DeliveryOutcome] = "rejected"


class ServerUnavailable(DeliveryError):
    """The server cannot take mail from us this run: unreachable, no greeting, TLS or
    login refused, our sender refused (5xx to MAIL FROM), or it stopped answering twice.
    Nobody is blamed, the message stays pending, and the run stops using the server."""

    outcome: ClassVar[DeliveryOutcome] = "unavailable"


class OutcomeUnknown(DeliveryError):
    """The whole message went out but no answer came back (a timeout or a dropped
    connection after the final dot): it may have been delivered. It is never sent again
    in the same run, and at most once more later."""

    outcome: ClassVar[DeliveryOutcome] = "unknown"


class TaggingError(SyndicatorError, ValueError):
    """The taxonomy or a tagging request is invalid."""


class LeaseLostError(SyndicatorError):
    """A lease this process held was taken over or broken while its work was under way.

    Raised at the work's next checkpoint (before the next message, file, batch or
    source), so the stage stops instead of doing more next to its new holder.
    """

    def __init__(self, lease: str, message: str) -> None:
        super().__init__(f"lease {lease!r}: {message}")
        self.lease = lease


class QuerySyntaxError(SyndicatorError, ValueError):
    """A saved search (alert query) does not parse or names something unknown.

    ``position`` is the 0-based character offset of the mistake in ``query``;
    ``str()`` shows the query with a caret under it, so a form or a log line
    can point at the mistake without a parser of its own.
    """

    def __init__(self, query: str, position: int, reason: str) -> None:
        self.query = query
        self.position = position
        self.reason = reason
        shown = "".join(" " if c in "\t\r\n" else c for c in query)
        super().__init__(
            f"{reason} (at character {position + 1}):\n  {shown}\n  {_caret(shown, position)}"
        )


def _caret(shown: str, position: int) -> str:
    """Spaces up to ``position`` (two under wide East Asian characters), then ``^``."""
    pad = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in shown[:position])
    return " " * pad + "^"
