"""SMTP delivery with RFC 5321's timeouts and an outcome for every kind of failure.

smtplib's ``send_message`` runs the whole transaction under one socket timeout
and fails alike whatever went wrong. Here each step of the transaction is its
own call with its own timeout, because *where* it failed decides what the
ledger must do (the outcomes are the classes in :mod:`syndicator.errors`):

============================================  ==========================================
what happened                                 outcome
============================================  ==========================================
no connection, no greeting, TLS or login      ServerUnavailable: nobody is blamed, the
refused; 5xx to MAIL FROM (our sender);       message stays pending and the run stops
any message after two timeouts in the run     using SMTP
4xx anywhere; the connection lost or timed    DeliveryError (temporary): retried later
out before the whole message was sent
5xx to RCPT TO                                RecipientRefused: failed, a bounce
5xx to DATA or to the final dot               MessageRejected: failed, nobody blamed
no answer (timeout, lost connection) after    OutcomeUnknown: it may have been delivered
the final dot was sent
============================================  ==========================================

RFC 5321 §4.5.3.2 lets a server take 10 minutes to answer the final dot (it may
be scanning the message) but only minutes for the other steps, so the final
dot has its own timeout (``smtp.data_timeout``) and the others share
``smtp.timeout``. Every wait is also cut to the time the run has left.
"""

from __future__ import annotations

import io
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from email.generator import BytesGenerator
from email.policy import EmailPolicy
from types import TracebackType
from typing import Self, TypeVar

from syndicator.config import SmtpSettings
from syndicator.deliver.render import Rendered
from syndicator.errors import (
    DeliveryError,
    MessageRejected,
    OutcomeUnknown,
    RecipientRefused,
    ServerUnavailable,
)

HANGS_PER_RUN = 2
"""Timeouts in one run after which the server is not tried again in that run."""
MIN_WAIT = 0.1
"""Shortest wait for an answer, even when the run's time is (almost) up."""
QUIT_WAIT = 5.0
"""How long a polite QUIT may take at the end of a run."""

T = TypeVar("T")
_LEADING_DOT = re.compile(rb"(?m)^\.")


class _Lost(Exception):
    """The connection broke or timed out during one step of the transaction."""

    def __init__(self, step: str, timed_out: bool, whole_message_sent: bool) -> None:
        super().__init__(step)
        self.step = step
        self.timed_out = timed_out
        self.whole_message_sent = whole_message_sent


class _Refused(Exception):
    """The server answered a step with something other than going on."""

    def __init__(self, step: str, code: int, reply: bytes) -> None:
        text = reply.decode("utf-8", "replace").replace("\n", " ").strip()
        super().__init__(f"{step} answered {code} {text}".rstrip())
        self.step = step
        self.code = code


def _timed_out(exc: BaseException) -> bool:
    """smtplib reports a timeout as a disconnection; the timeout is in the chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _payload(rendered: Rendered) -> tuple[bytes, list[str]]:
    """The message as SMTP carries it (CRLF lines, leading dots doubled, ending in CRLF)
    and the MAIL FROM options it needs; serialised as smtplib's ``send_message`` does."""
    message = rendered.message
    international = not (rendered.envelope_from.isascii() and rendered.envelope_to.isascii())
    policy = message.policy
    if international and isinstance(policy, EmailPolicy):
        policy = policy.clone(utf8=True)  # headers in UTF-8, as SMTPUTF8 allows
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=policy).flatten(message, linesep="\r\n")
    data = _LEADING_DOT.sub(b"..", buffer.getvalue())
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data, (["SMTPUTF8", "BODY=8BITMIME"] if international else [])


class SmtpTransport:
    """One SMTP connection for a whole deliver run, opened on the first message.

    The connection is always closed on exit, error or not (unlike rss2email's
    sender). Once the server is found unusable (see the module docstring) the
    transport says why in :attr:`unavailable` and refuses every further message
    at once, so the run stops instead of waiting out a timeout per subscriber.
    """

    def __init__(self, settings: SmtpSettings, context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.context = context if context is not None else ssl.create_default_context()
        self._client: smtplib.SMTP | None = None
        self._unavailable: str | None = None
        self._hangs = 0

    @property
    def unavailable(self) -> str | None:
        """Why this server takes no more mail in this run; None while it does."""
        return self._unavailable

    @property
    def server(self) -> str:
        return f"SMTP server {self.settings.host}:{self.settings.port}"

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
            if client.sock is not None:
                client.sock.settimeout(min(self.settings.timeout, QUIT_WAIT))
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
        self._client = self._connect(None)
        self.close()

    def _drop(self) -> None:
        """Forget a connection in an unknown state; the next message opens a new one."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    # ---- one message ------------------------------------------------------------------

    def send(self, rendered: Rendered, time_left: float | None = None) -> None:
        """Hand one message over, or raise the :class:`DeliveryError` saying what became
        of it; ``time_left`` (seconds) cuts every wait so the run keeps its deadline."""
        email = rendered.email
        if self._unavailable is not None:
            raise ServerUnavailable(email, self._unavailable)
        end = None if time_left is None else time.monotonic() + time_left
        data, options = _payload(rendered)
        for attempt in (1, 2):
            reused = self._client is not None
            client = self._connected(email, end)
            try:
                self._transaction(client, rendered, data, options, end)
                return
            except _Lost as lost:
                self._drop()
                if lost.timed_out:
                    self._hung(lost.step)
                elif reused and attempt == 1 and lost.step == "MAIL FROM":
                    continue  # the server closed a connection idle since the last message
                what = "no answer" if lost.timed_out else "connection lost"
                if lost.whole_message_sent:
                    raise OutcomeUnknown(
                        email, f"{what} after the final dot ({lost.step}): it may have arrived"
                    ) from lost.__cause__
                raise DeliveryError(email, f"{what} at {lost.step}") from lost.__cause__
            except _Refused as refused:
                if refused.code == 421 and reused and attempt == 1 and refused.step == "MAIL FROM":
                    self._drop()  # the server said goodbye to the idle connection: reconnect
                    continue
                raise self._classify(email, refused) from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _classify(self, email: str, refused: _Refused) -> DeliveryError:
        """The outcome of an answer that was not "go on"; see the module docstring."""
        code, step, what = refused.code, refused.step, f"{self.server}: {refused}"
        if code == 421 or not 400 <= code < 600:
            self._drop()  # 421: the server is closing the connection; other codes: confusion
            return DeliveryError(email, what)
        if code < 500:
            return DeliveryError(email, what)
        if step == "RCPT TO":
            return RecipientRefused(email, what)
        if step == "MAIL FROM":
            self._unavailable = f"{what} (our sender refused; check delivery.sender)"
            return ServerUnavailable(email, self._unavailable)
        return MessageRejected(email, what)

    def _hung(self, step: str) -> None:
        self._hangs += 1
        if self._hangs >= HANGS_PER_RUN:
            self._unavailable = (
                f"{self.server} stopped answering {self._hangs} times in this run (last at {step})"
            )

    def _transaction(
        self,
        client: smtplib.SMTP,
        rendered: Rendered,
        data: bytes,
        options: list[str],
        end: float | None,
    ) -> None:
        timeout = self.settings.timeout
        if options and not client.has_extn("smtputf8"):
            raise MessageRejected(
                rendered.email, f"{self.server} offers no SMTPUTF8, which this address needs"
            )

        def step(name: str, call: Callable[[], tuple[int, bytes]], go_on: range) -> None:
            code, reply = self._step(client, name, timeout, end, call)
            if code not in go_on:
                if code != 421:  # after 421 the server closes the connection itself
                    self._reset(client, end)
                raise _Refused(name, code, reply)

        step("MAIL FROM", lambda: client.mail(rendered.envelope_from, options), range(200, 300))
        step("RCPT TO", lambda: client.rcpt(rendered.envelope_to), range(200, 300))
        step("DATA", lambda: client.docmd("DATA"), range(354, 355))
        self._step(client, "the message data", timeout, end, lambda: client.send(data))
        # From here on the server may have the whole message: a lost answer is no proof
        # that it was not delivered.
        self._step(client, "the final dot", timeout, end, lambda: client.send(b".\r\n"), sent=True)
        code, reply = self._step(
            client,
            "the answer to the final dot",
            self.settings.data_timeout,
            end,
            client.getreply,
            sent=True,
        )
        if not 200 <= code < 300:
            raise _Refused("the end of DATA", code, reply)

    def _step(
        self,
        client: smtplib.SMTP,
        name: str,
        timeout: float,
        end: float | None,
        call: Callable[[], T],
        sent: bool = False,
    ) -> T:
        """One step under its own timeout, cut to the run's time left."""
        if end is not None:
            timeout = max(MIN_WAIT, min(timeout, end - time.monotonic()))
        try:
            if client.sock is None:
                raise smtplib.SMTPServerDisconnected("not connected")
            client.sock.settimeout(timeout)
            return call()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Lost(name, _timed_out(exc), whole_message_sent=sent) from exc

    def _reset(self, client: smtplib.SMTP, end: float | None) -> None:
        """End a refused transaction so the connection serves the next message (RSET)."""
        try:
            code, _ = self._step(client, "RSET", self.settings.timeout, end, client.rset)
        except _Lost:
            code = 0
        if code != 250:
            self._drop()

    # ---- the connection ---------------------------------------------------------------

    def _connected(self, email: str, end: float | None) -> smtplib.SMTP:
        if self._client is None:
            try:
                self._client = self._connect(end)
            except (smtplib.SMTPException, OSError) as exc:
                self._unavailable = f"{self.server} unavailable: {type(exc).__name__}: {exc}"
                raise ServerUnavailable(email, self._unavailable) from exc
        return self._client

    def _connect(self, end: float | None) -> smtplib.SMTP:
        s = self.settings

        def wait() -> float:
            if end is None:
                return s.timeout
            return max(MIN_WAIT, min(s.timeout, end - time.monotonic()))

        client: smtplib.SMTP
        if s.security == "tls":
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=wait(), context=self.context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=wait())  # connect and greeting
        try:
            steps: list[Callable[[], object]] = [client.ehlo_or_helo_if_needed]
            if s.security == "starttls":  # refuses to go on in the clear if not offered
                steps.append(lambda: client.starttls(context=self.context))
                steps.append(client.ehlo_or_helo_if_needed)
            if s.username:
                steps.append(lambda: client.login(s.username or "", s.password or ""))
            for call in steps:
                if client.sock is None:
                    raise smtplib.SMTPServerDisconnected("connection closed while opening")
                client.sock.settimeout(wait())
                call()
        except BaseException:
            client.close()
            raise
        return client
