"""The two mails a sign-up can cause: "confirm your subscription" and "already subscribed".

Built from ``email/confirm.txt`` and ``email/confirm.html`` (one pair, the ``kind``
variable tells them apart) with the same headers, encodings and address rules as
digests and alerts (:mod:`syndicator.deliver.render`), and handed to the configured
transport like them: there is one way mail leaves this program.

A confirmation carries no ``List-Unsubscribe``: the reader is not on any list yet,
and ignoring the mail is the way to say no. The "already subscribed" mail carries
the reader's unsubscribe link, until a preference centre exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from jinja2 import Template

from syndicator import text
from syndicator.addresses import parse_address
from syndicator.config import Settings
from syndicator.deliver.render import POLICY, SUBJECT_CHARS, Rendered, _address
from syndicator.deliver.templates import load_template, make_environment
from syndicator.models import Subscriber

SignupMail = Literal["confirm", "already"]
TEMPLATES = ("email/confirm.txt", "email/confirm.html")
SIGNUP_PAGE = "email/signup_page.html"
"""The pages ``syndicator serve`` answers a sign-up and a confirmation link with
(:mod:`syndicator.web.signup`); named here so ``syndicator check`` loads it without the web app."""


@dataclass(frozen=True, slots=True)
class SignupMailer:
    """Renders sign-up mails for one configuration; templates loaded once, at startup."""

    settings: Settings
    plain: Template
    html: Template

    @classmethod
    def load(cls, settings: Settings) -> SignupMailer:
        env = make_environment(settings.templates_dir)
        plain, html = (load_template(env, name) for name in TEMPLATES)
        return cls(settings, plain, html)

    def render(
        self,
        kind: SignupMail,
        subscriber: Subscriber,
        *,
        link: str,
        expires: datetime | None,
        date: datetime,
    ) -> Rendered:
        """``link`` is the confirmation link (``confirm``) or the unsubscribe link (``already``)."""
        settings = self.settings
        site = settings.publish.title
        if kind == "confirm":
            subject = f"Confirm your subscription to {site}"
        else:
            subject = f"You are already subscribed to {site}"
        subject = text.header_value(subject, SUBJECT_CHARS)
        titles = {t.id: t.title for t in settings.taxonomy.topics}
        context = {
            "kind": kind,
            "subject": subject,
            "link": link,
            "expires": f"{expires.astimezone(UTC):%d %B %Y %H:%M} UTC" if expires else "",
            "site_title": site,
            "site_url": settings.base_url_text,
            "subscriber_email": subscriber.email,
            "topics": [titles.get(t, t) for t in subscriber.topics],
            "cadence": subscriber.cadence,
            "alerts": subscriber.alerts,
        }
        sender = settings.delivery.sender_mailbox
        recipient = parse_address(subscriber.email)
        message = EmailMessage()
        message["From"] = _address(sender.name, sender)
        message["To"] = _address(None, recipient)
        message["Subject"] = subject
        message["Date"] = format_datetime(date.astimezone(UTC))
        message["Message-ID"] = make_msgid(idstring=f"signup-{kind}", domain=sender.domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no autoresponder replies
        message.set_content(
            self.plain.render(context), subtype="plain", charset="utf-8", cte="quoted-printable"
        )
        message.add_alternative(
            self.html.render(context), subtype="html", charset="utf-8", cte="quoted-printable"
        )
        for part in message.iter_parts():
            del part["MIME-Version"]
        message.policy = POLICY
        return Rendered(
            email=subscriber.email,
            message=message,
            envelope_from=sender.ascii,
            envelope_to=recipient.ascii,
        )
