"""Digest and alert messages: templates in, ``EmailMessage`` out. Pure.

Rendering depends only on its arguments (settings, subscriber, items, the
Message-ID and date fixed when the message was reserved, the signing key), so
a message retried after a failure is byte-for-byte the message first built,
and a golden-file test can pin the output down.

The message is ``multipart/alternative`` with the plain-text part first and the
HTML part last (RFC 2046: the last part is the richest). Both parts are UTF-8
quoted-printable, and the MIME boundary is derived from the Message-ID; since
quoted-printable encodes every ``=``, a ``=_`` boundary can never occur in a
body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment

from syndicator import i18n, site, text
from syndicator.addresses import Mailbox, parse_address
from syndicator.config import Settings
from syndicator.deliver.templates import load_template, make_environment
from syndicator.deliver.tokens import TokenSigner
from syndicator.i18n import N_, Nn_
from syndicator.models import StoredItem, Subscriber
from syndicator.store.protocol import DeliveryKind
from syndicator.teaser import teaser

_KIND_LABELS = {
    "daily": N_("daily digest"),
    "weekly": N_("weekly digest"),
    "alert": N_("alert"),
}
"""What the footer calls the message: "You receive this daily digest because ..."."""
_HEADINGS = {
    "daily": N_("Your daily digest, %(date)s"),
    "weekly": N_("Your weekly digest, %(date)s"),
}
_SUBJECTS = {
    "daily": Nn_(
        "%(site)s daily digest, %(date)s: %(count)d new item",
        "%(site)s daily digest, %(date)s: %(count)d new items",
    ),
    "weekly": Nn_(
        "%(site)s weekly digest, %(date)s: %(count)d new item",
        "%(site)s weekly digest, %(date)s: %(count)d new items",
    ),
}
"""One whole sentence per cadence, so a language can agree its words with the cadence."""
_INTRO = Nn_(
    "%(count)d new item on your topics since your last digest.",
    "%(count)d new items on your topics since your last digest.",
)
_NEW_ITEM = N_("New item")
_UNTITLED = N_("(untitled)")

EXCERPT_CHARS = 400
SUBJECT_CHARS = 180
POLICY = policy.default.clone(max_line_length=998)
"""Headers fold only at RFC 5322's hard limit: the default (78) would turn the long
unsubscribe URL in ``List-Unsubscribe`` into encoded words, which no client reads."""


# --------------------------------------------------------------------------- text helpers


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, skipping scripts and styles."""

    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4"}:
            self.parts.append("\n\n")  # a paragraph break: a dateline paragraph stays one

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(fragment: str) -> str:
    """The visible text of a possibly-HTML fragment, whitespace collapsed."""
    return " ".join(_visible_text(fragment).split())


def _visible_text(fragment: str) -> str:
    """The visible text of a possibly-HTML fragment, paragraph breaks kept."""
    if "<" in fragment or "&" in fragment:
        parser = _TextExtractor()
        parser.feed(fragment)
        parser.close()
        fragment = "".join(parser.parts)
    return fragment


def excerpt(fragment: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of the visible text, cut at a word, with an ellipsis."""
    return text.excerpt(plain_text(fragment), limit)


def _teaser(summary: str, content: str) -> str:
    """The first real sentences, without the dateline: the same rule as feeds and pages."""
    return teaser(_visible_text(summary), _visible_text(content), EXCERPT_CHARS)


def display_date(item: StoredItem, zone: ZoneInfo, language: str = i18n.SOURCE_LANGUAGE) -> str:
    """The item's date as the subscriber reads it, in their time zone and language.

    A publisher date of exactly midnight UTC almost always means "a date, no
    time"; converting it would move a 28 November release to 27 November for
    readers west of Greenwich, so such dates are shown as written.
    """
    when = item.sort_date
    published = item.item.published_at
    if published is not None and when == published:
        utc = published.astimezone(UTC)
        if (utc.hour, utc.minute, utc.second, utc.microsecond) == (0, 0, 0, 0):
            return i18n.short_date(utc.date(), language)
    return i18n.short_date_time(when.astimezone(zone), language)


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The one-click link (``delivery.unsubscribe_url`` or ``{base_url}unsubscribe``) + token."""
    base = settings.delivery.unsubscribe_url or f"{settings.base_url_text}unsubscribe"
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode({'token': token})}"


def _address(name: str | None, mailbox: Mailbox) -> Address | str:
    """A To/From/Reply-To value: the display name made header-safe, the ASCII address."""
    display = text.header_value(name, SUBJECT_CHARS) if name else ""
    return Address(display_name=display, addr_spec=mailbox.ascii) if display else mailbox.ascii


# --------------------------------------------------------------------------- view models


@dataclass(frozen=True, slots=True)
class ItemView:
    """One item as the templates see it: every field already chosen and made safe."""

    id: int
    title: str
    link: str | None
    source: str
    date: str
    summary: str
    also: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopicGroup:
    id: str
    title: str
    link: str | None
    items: tuple[ItemView, ...]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready for a transport, with the envelope addresses SMTP needs."""

    email: str
    """The subscriber as the store knows them: reports, failures and the ledger use it."""
    message: EmailMessage
    envelope_from: str
    envelope_to: str
    """``email`` with an IDNA domain: the one and only SMTP recipient."""

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


KINDS: tuple[DeliveryKind, ...] = ("digest", "alert")
UNSUBSCRIBE_PAGE = "email/unsubscribe_page.html"
"""The page ``syndicator serve`` answers an unsubscribe link with (:mod:`syndicator.web`);
named here, beside the messages' templates, so ``syndicator check`` loads it without the web app."""


class Renderer:
    """Builds digest and alert messages for one configuration and one signing key.

    The templates are loaded when the renderer is made, once per run: a missing
    or broken template fails the run before any message is reserved, and no
    message pays for a template lookup.
    """

    def __init__(
        self,
        settings: Settings,
        signer: TokenSigner,
        templates_dir: Path | None = None,
        environment: Environment | None = None,
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.env = environment if environment is not None else make_environment(templates_dir)
        self._templates = {
            (kind, ext): load_template(self.env, f"email/{kind}.{ext}")
            for kind in KINDS
            for ext in ("txt", "html")
        }
        self._sender = settings.delivery.sender_mailbox
        self.domain = self._sender.domain
        """Domain of the From address, for Message-IDs and List-Id."""
        self._topic_titles = {t.id: t.title for t in settings.taxonomy.topics}
        self._pages_url = settings.base_url_text if "html" in settings.publish.formats else None
        """Where the published pages are, if they are published: topic headings and
        items without a link of their own point there."""
        self._source_titles: Mapping[str, str] = {s.id: s.title or s.id for s in settings.sources}

    # ---- public ----------------------------------------------------------------------

    def render(
        self,
        kind: DeliveryKind,
        subscriber: Subscriber,
        items: Sequence[StoredItem],
        message_id: str,
        date: datetime,
    ) -> Rendered:
        """The message of ``kind`` carrying ``items``; ``date`` is when it was reserved."""
        if not items:
            raise ValueError("a message needs at least one item")
        if kind == "alert" and len(items) != 1:
            raise ValueError("an alert carries exactly one item")
        zone = ZoneInfo(subscriber.timezone)
        local_day = date.astimezone(zone).date()
        language = self.language_of(subscriber)
        gettext = i18n.gettext_for(language)
        ngettext = i18n.ngettext_for(language)
        unsubscribe = unsubscribe_url(self.settings, self.signer.sign(subscriber.email))
        context = self._common_context(kind, subscriber, unsubscribe, language)
        if kind == "digest":
            groups = self._groups(subscriber, items, zone, language)
            count = sum(len(g.items) for g in groups)
            cadence = subscriber.cadence if subscriber.cadence in _SUBJECTS else "daily"
            singular, plural = _SUBJECTS[cadence]
            subject = ngettext(singular, plural, count) % {
                "site": self.settings.publish.title,
                "date": i18n.short_date(local_day, language),
                "count": count,
            }
            context |= {
                "heading": gettext(_HEADINGS[cadence])
                % {"date": i18n.long_date(local_day, language)},
                "intro": ngettext(*_INTRO, count) % {"count": count},
                "groups": groups,
            }
        else:
            (stored,) = items
            # Tags may have changed since the alert was reserved: fall back to all its topics.
            topics = self._subscribed_topics(subscriber, stored) or list(stored.topics)
            titles = [self._topic_titles.get(t, t) for t in topics] or [gettext(_NEW_ITEM)]
            view = self._view(stored, zone, (), language)
            # From the stored title, not the body's view of it: the header rule sees it all.
            title = text.header_value(stored.item.title) or view.title
            subject = f"[{self.settings.publish.title}] {', '.join(titles)}: {title}"
            context |= {"item": view, "alert_topics": titles}
        subject = text.header_value(subject, SUBJECT_CHARS)
        context["subject"] = subject
        plain = self._templates[kind, "txt"].render(context)
        page = self._templates[kind, "html"].render(context)
        recipient = parse_address(subscriber.email)
        message = self._message(
            kind, subscriber.name, recipient, subject, (plain, page), message_id, date, unsubscribe
        )
        return Rendered(
            email=subscriber.email,
            message=message,
            envelope_from=self._sender.ascii,
            envelope_to=recipient.ascii,
        )

    # ---- context -----------------------------------------------------------------------

    def language_of(self, subscriber: Subscriber) -> str:
        """The subscriber's language, else ``delivery.language``, else English."""
        return i18n.pick(subscriber.language, self.settings.delivery.language)

    def _common_context(
        self, kind: DeliveryKind, subscriber: Subscriber, unsubscribe: str, language: str
    ) -> dict[str, object]:
        label = _KIND_LABELS.get(subscriber.cadence if kind == "digest" else "alert")
        return {
            "language": language,
            "kind": kind,
            "kind_label": i18n.gettext_for(language)(label) if label else kind,
            "cadence": subscriber.cadence,
            "site_title": self.settings.publish.title,
            "site_url": self.settings.base_url_text,
            "subscriber_email": subscriber.email,
            "subscriber_name": subscriber.name,
            "subscribed_topics": [self._topic_titles.get(t, t) for t in subscriber.topics],
            "unsubscribe_url": unsubscribe,
        }

    def _subscribed_topics(self, subscriber: Subscriber, stored: StoredItem) -> list[str]:
        """The item's topics this subscriber follows, strongest evidence first."""
        wanted = set(subscriber.topics)
        ranked = sorted(stored.taggings, key=lambda t: (-t.score, t.topic))
        return [t.topic for t in ranked if t.topic in wanted]

    def _view(
        self, stored: StoredItem, zone: ZoneInfo, also: Sequence[str], language: str
    ) -> ItemView:
        item = stored.item
        return ItemView(
            id=stored.id,
            title=text.one_line(item.title, 300) or i18n.gettext_for(language)(_UNTITLED),
            link=text.safe_url(item.link)
            or self._page_url(site.item_page(item.source_id, item.identity)),
            source=self._source_titles.get(item.source_id, item.source_id),
            date=display_date(stored, zone, language),
            summary=_teaser(item.summary, item.content),
            also=tuple(self._topic_titles.get(t, t) for t in also),
        )

    def _page_url(self, page: str) -> str | None:
        return None if self._pages_url is None else self._pages_url + page

    def _groups(
        self, subscriber: Subscriber, items: Sequence[StoredItem], zone: ZoneInfo, language: str
    ) -> list[TopicGroup]:
        """Items grouped by topic, in taxonomy order, newest first within a topic.

        An item on two followed topics is listed once, under its strongest one,
        and names the others: a digest that repeats itself is a digest skimmed.
        """
        placed: dict[str, list[tuple[StoredItem, list[str]]]] = {}
        for stored in items:
            topics = self._subscribed_topics(subscriber, stored)
            if not topics:
                # Tags changed since the store chose it; it still belongs to this message.
                topics = [subscriber.topics[0]] if subscriber.topics else ["other"]
            placed.setdefault(topics[0], []).append((stored, topics[1:]))
        order = [t.id for t in self.settings.taxonomy.topics]
        ranked = sorted(placed, key=lambda t: (order.index(t) if t in order else len(order), t))
        groups = []
        for topic in ranked:
            entries = sorted(placed[topic], key=lambda e: (e[0].sort_key, e[0].id), reverse=True)
            groups.append(
                TopicGroup(
                    id=topic,
                    title=self._topic_titles.get(topic, topic),
                    link=self._page_url(site.topic_page(topic)) if topic in order else None,
                    items=tuple(self._view(s, zone, also, language) for s, also in entries),
                )
            )
        return groups

    # ---- headers -----------------------------------------------------------------------

    def _message(
        self,
        kind: DeliveryKind,
        name: str | None,
        recipient: Mailbox,
        subject: str,
        bodies: tuple[str, str],
        message_id: str,
        date: datetime,
        unsubscribe: str,
    ) -> EmailMessage:
        delivery = self.settings.delivery
        plain, page = bodies
        message = EmailMessage()
        # Every text that is not ours goes through text.header_value (see its docstring);
        # addresses are validated ones, in their ASCII form.
        message["From"] = _address(self._sender.name, self._sender)
        message["To"] = _address(name, recipient)
        reply_to = delivery.reply_to_mailbox
        if reply_to is not None:
            message["Reply-To"] = _address(reply_to.name, reply_to)
        message["Subject"] = subject
        message["Date"] = format_datetime(date.astimezone(UTC))
        message["Message-ID"] = message_id
        list_name = f"{self.settings.publish.title} {kind}s"
        message["List-Id"] = formataddr(
            (text.header_value(list_name, SUBJECT_CHARS), f"{kind}s.{self.domain}")
        )
        links = [f"<{unsubscribe}>"]
        mailto = delivery.unsubscribe_mailbox
        if mailto is not None:
            links.append(f"<mailto:{mailto.ascii}?subject=unsubscribe>")
        message["List-Unsubscribe"] = ", ".join(links)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if kind == "alert":
            # RFC 3834: machine-generated, so autoresponders must not answer it.
            message["Auto-Submitted"] = "auto-generated"
            message["Precedence"] = "bulk"
        else:
            message["Precedence"] = "list"
        message.set_content(plain, subtype="plain", charset="utf-8", cte="quoted-printable")
        message.add_alternative(page, subtype="html", charset="utf-8", cte="quoted-printable")
        for part in message.iter_parts():
            del part["MIME-Version"]  # belongs to the top level only
        # Only now: the bodies are encoded at the default 76 columns quoted-printable needs.
        message.policy = POLICY
        digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32]
        message.set_boundary(f"=_{digest}")
        return message
