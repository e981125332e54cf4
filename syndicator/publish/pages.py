"""Static HTML pages: an index of topics, one page per topic and one per item.

Rendering is pure (channels and entries in, bytes out); the orchestrator writes
the files. Pages carry no "generated at" stamp, so an unchanged channel gives an
unchanged page and the writer leaves the file alone.

Item pages live one folder down (``items/<uuid>.html``); templates put ``root``
("" or "../") before every link to another page so the folder can be copied
anywhere and still work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError
from jinja2 import Environment, TemplateError, TemplateNotFound, TemplateSyntaxError

from syndicator.errors import OutputError
from syndicator.publish.channels import Channel, Entry
from syndicator.publish.formats import output_format


@dataclass(frozen=True, slots=True)
class Site:
    """What every page shows about the site as a whole."""

    title: str
    description: str
    language: str
    base_url: str
    opml: str | None
    """File name of the OPML list, when it is published."""
    signup_url: str | None = None
    """Where the sign-up form posts (``{base_url}signup``); None: no form (``signup.enabled``)."""
    signup_topics: tuple[tuple[str, str], ...] = ()
    """(id, title) of every topic, for the form's check boxes."""


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One feed of a channel as a page links to it."""

    format: str
    label: str
    href: str
    """Relative to the pages, so a copy of the folder still works."""
    url: str
    """Absolute, for ``<link rel="alternate">``."""
    media_type: str
    title: str


def feed_links(channel: Channel) -> tuple[FeedLink, ...]:
    """The feeds of ``channel`` that are published, in settings order."""
    return tuple(
        FeedLink(
            format=fmt.name,
            label=fmt.label,
            href=channel.file_name(fmt.name),
            url=channel.feed_url(fmt.name),
            media_type=fmt.media_type,
            title=f"{channel.title} ({fmt.label})",
        )
        for fmt in map(output_format, channel.formats)
    )


def render_index(
    env: Environment, site: Site, everything: Channel, topics: Sequence[Channel]
) -> bytes:
    """``index.html``: every topic with its count and feeds, then the latest items."""
    return _render(env, "index.html", site=site, channel=everything, topics=topics)


def render_topic(env: Environment, site: Site, channel: Channel) -> bytes:
    """``<topic>.html``: the topic's recent items, newest first."""
    return _render(env, "topic.html", site=site, channel=channel)


def render_item(env: Environment, site: Site, entry: Entry) -> bytes:
    """``items/<uuid>.html``: one item whole, with its topics, countries and original link."""
    countries = country_names(entry.countries, site.language)
    return _render(env, "item.html", root="../", site=site, entry=entry, countries=countries)


def country_names(codes: Iterable[str], language: str) -> list[str]:
    """The countries' names (CLDR, via Babel) in the pages' language, else in English;
    a code Babel does not know is shown as it is."""
    names = _territories(language)
    return [names.get(code.upper(), code) for code in codes]


@cache
def _territories(language: str) -> Mapping[str, str]:
    try:
        return Locale.parse(language.replace("-", "_")).territories
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en").territories


def _render(env: Environment, name: str, root: str = "", **context: Any) -> bytes:
    """Render one page; any template fault becomes an :class:`OutputError` naming the template.

    ``extends``, ``include`` and ``import`` are resolved while rendering, so a
    missing or broken base template, like a misspelt variable, surfaces here and
    not in ``get_template``.
    """
    try:
        template = env.get_template(name)
        return template.render(feed_links=feed_links, root=root, **context).encode("utf-8")
    except TemplateNotFound as exc:
        raise OutputError(f"page template {exc.name!r} not found in {_searchpath(env)}") from None
    except TemplateSyntaxError as exc:
        where = f"{exc.filename or name}:{exc.lineno}"
        raise OutputError(f"page template {where}: {exc.message}") from None
    except TemplateError as exc:
        raise OutputError(f"page template {name}: {exc.message}") from exc


def _searchpath(env: Environment) -> str:
    paths = getattr(env.loader, "searchpath", None)
    return ", ".join(str(p) for p in paths) if paths else "the template loader"
