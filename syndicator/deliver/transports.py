"""Where rendered messages go: an outbox folder of ``.eml`` files, or SMTP.

A transport is a context manager used for one deliver run: ``open`` (enter)
checks it can work at all, ``send`` hands over one message and raises
:class:`DeliveryError` naming the subscriber when that one message could not be
handed over, ``close`` (exit) releases everything, on success or error.

Both transports are safe to call twice with the same message, which is what
makes "retry the pending dispatch" harmless: the outbox derives the file name
from the Message-ID, and an SMTP retry carries the same Message-ID, which
receiving systems use to drop a duplicate.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import tempfile
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from syndicator.atomic import atomic_write
from syndicator.config import SmtpSettings
from syndicator.deliver.render import Rendered
from syndicator.errors import DeliveryError, OutputError


class Transport(Protocol):
    """What the orchestration needs from a transport."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def send(self, rendered: Rendered) -> None:
        """Hand one message over; :class:`DeliveryError` if it could not be."""
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
            with tempfile.NamedTemporaryFile(dir=self.outbox_dir, prefix=".probe-"):
                pass
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

    def path_for(self, rendered: Rendered) -> Path:
        return self.outbox_dir / outbox_filename(rendered)

    def send(self, rendered: Rendered) -> None:
        target = self.path_for(rendered)
        if target.exists():
            return  # written by an earlier attempt that crashed before mark_sent
        try:
            atomic_write(target, rendered.message.as_bytes())  # private: mode 0600
        except OSError as exc:
            raise DeliveryError(rendered.email, f"cannot write {target.name}") from exc


# --------------------------------------------------------------------------- SMTP


class SmtpTransport:
    """One SMTP connection for a whole deliver run, opened on the first message.

    The connection is always closed on exit, error or not (unlike rss2email's
    sender). When connecting fails, the rest of the run fails fast with the same
    error instead of waiting out a timeout per subscriber; the next run tries
    again. A recipient the server refuses fails that subscriber only: smtplib
    resets the transaction and the connection goes on serving the others.
    """

    def __init__(self, settings: SmtpSettings, context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.context = context if context is not None else ssl.create_default_context()
        self._client: smtplib.SMTP | None = None
        self._connect_error: str | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def probe(self) -> None:
        """Connect, greet, STARTTLS and log in as configured, then QUIT; send nothing.

        For ``syndicator check --smtp``: the same steps a deliver run takes, so a
        server that passes here accepts the run's connection. Raises what smtplib
        raises (:class:`smtplib.SMTPException`, :class:`OSError`); the caller words it.
        """
        self.close()
        self._client = self._connect()
        try:
            self._client.ehlo_or_helo_if_needed()
        finally:
            self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        client: smtplib.SMTP
        if s.security == "tls":
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                client.starttls(context=self.context)
            if s.username:
                client.login(s.username, s.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _client_for(self, email: str) -> smtplib.SMTP:
        if self._connect_error is not None:
            raise DeliveryError(email, self._connect_error)
        if self._client is None:
            s = self.settings
            try:
                self._client = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self._connect_error = (
                    f"SMTP server {s.host}:{s.port} unavailable: {type(exc).__name__}: {exc}"
                )
                raise DeliveryError(email, self._connect_error) from exc
        return self._client

    def send(self, rendered: Rendered) -> None:
        email = rendered.email
        for attempt in (1, 2):
            client = self._client_for(email)
            try:
                client.send_message(
                    rendered.message, from_addr=rendered.envelope_from, to_addrs=[email]
                )
                return
            except smtplib.SMTPServerDisconnected as exc:
                # The server dropped an idle or overused connection: reconnect once.
                self._client = None
                client.close()
                if attempt == 2:
                    raise DeliveryError(email, "SMTP server disconnected") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = exc.recipients.get(email, (0, b""))
                text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
                raise DeliveryError(email, f"recipient refused: {code} {text}") from exc
            except smtplib.SMTPResponseException as exc:
                raise DeliveryError(email, f"SMTP error {exc.smtp_code}") from exc
            except (smtplib.SMTPException, OSError) as exc:
                # The connection is in an unknown state; drop it, the next message reconnects.
                self._client = None
                client.close()
                raise DeliveryError(email, "SMTP delivery failed") from exc
