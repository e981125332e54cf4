"""E-mailed releases (.eml): Subject, Date, and the text/plain (else text/html) body."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from syndicator.collect.dates import as_utc
from syndicator.collect.normalize import html_to_text, single_line
from syndicator.collect.releases.common import Release, ReleaseError, structure

MAX_CHARS = 1_000_000


def read_eml(data: bytes) -> Release:
    message = BytesParser(policy=policy.default).parsebytes(data)
    if not isinstance(message, EmailMessage):  # pragma: no cover - policy.default guarantees it
        raise ReleaseError("not an e-mail message")
    subject = single_line(str(message.get("Subject", "")))
    published = None
    raw_date = message.get("Date")
    if raw_date:
        try:
            published = as_utc(parsedate_to_datetime(str(raw_date)))
        except (TypeError, ValueError, IndexError, OverflowError):
            published = None
    part = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if part is not None:
        try:
            content = part.get_content()
        except (LookupError, UnicodeDecodeError, AssertionError) as exc:
            raise ReleaseError(f"cannot decode the message body: {exc}") from None
        text = str(content)
        if part.get_content_type() == "text/html":
            text = html_to_text(text, MAX_CHARS)
    title, body, published, topics = structure(text, title=subject or None, published_at=published)
    if not title:
        raise ReleaseError("no Subject and no text")
    message_id = message.get("Message-ID")
    return Release(
        title=title,
        paragraphs=body,
        published_at=published,
        declared_topics=topics,
        guid=single_line(str(message_id)) if message_id else None,
        author=single_line(str(message.get("From", ""))) or None,
    )
