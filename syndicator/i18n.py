"""The languages of the fixed text in digests, alerts and the pages readers open from them.

English is the source text: the templates and the code say it, and an English
reader gets it untouched. Every other language has a Babel catalogue,
``syndicator/locale/<lang>/LC_MESSAGES/syndicator.po``, shipped compiled
(``.mo``) beside it; ``tests/deliver/test_i18n.py`` fails when a compiled file
lags behind its source or a catalogue misses a message (docs/delivery.md says
how to add a language).

Templates translate with ``_("...")`` and ``ngettext(...)`` (Jinja2's i18n
extension, new style: ``_("Hello %(name)s", name=x)``, arguments escaped in
HTML). The language comes from the render context's ``language``, so one
environment serves every reader, and a template rendered without one (or with
a language we do not ship) reads in English.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_time
from babel.support import NullTranslations, Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "syndicator"
SOURCE_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "ru")
"""The languages we ship; a reader's or the default language must be one of them."""


def N_(message: str) -> str:
    """Marks ``message`` for the catalogues (``pybabel extract -k N_``); it is translated
    where it is used, in the reader's language."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a counted message for the catalogues (``-k Nn_:1,2``, extracted like
    ``ngettext``); translate it with :func:`ngettext_for`."""
    return singular, plural


def check_language(value: str) -> str:
    """``value`` as a shipped language code (``"fr"``, ``"FR"``), else a ``ValueError``
    naming the shipped ones."""
    code = value.strip().lower().replace("_", "-")
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {value!r}; shipped: {', '.join(LANGUAGES)}")
    return code


def pick(*preferences: str | None) -> str:
    """The first of ``preferences`` we ship, else English: a reader's language set
    before a language was removed, or edited in the database by hand, must not stop mail."""
    for wanted in preferences:
        if wanted and wanted.strip().lower() in LANGUAGES:
            return wanted.strip().lower()
    return SOURCE_LANGUAGE


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language``; English (and anything unknown) translates
    to itself."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return NullTranslations()
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as handle:
        return Translations(handle, domain=DOMAIN)


def _context_language(context: Context) -> str:
    return pick(context.get("language"))


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(_context_language(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(_context_language(context)).ngettext(singular, plural, n)


def install(env: Environment) -> None:
    """Give ``env`` the i18n extension, translating into each render's ``language``."""
    env.add_extension("jinja2.ext.i18n")
    # The extension wraps these in its new-style callables, which pass the context on.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )


# --------------------------------------------------------------------------- dates


def long_date(day: date, language: str) -> str:
    """``4 December 2026``, ``4 décembre 2026``, ``4 декабря 2026 г.``: a heading's date."""
    if language == SOURCE_LANGUAGE:
        return f"{day.day} {day:%B %Y}"
    return format_date(day, format="long", locale=language)


def short_date(day: date, language: str) -> str:
    """``4 Dec 2026``, ``4 déc. 2026``: a date in a subject or beside an item."""
    if language == SOURCE_LANGUAGE:
        return f"{day.day} {day:%b %Y}"
    return format_date(day, format="medium", locale=language)


def short_date_time(local: datetime, language: str) -> str:
    """The date and the 24-hour time of an already-local ``local``, then its zone's
    abbreviation: ``4 Dec 2026 14:05 CET``."""
    if language == SOURCE_LANGUAGE:
        shown = f"{local.day} {local:%b %Y %H:%M}"
    else:
        clock = format_time(local.time(), "HH:mm", locale=language)
        shown = f"{short_date(local.date(), language)} {clock}"
    return f"{shown} {local.tzname() or ''}".rstrip()


def gettext_for(language: str) -> Callable[[str], str]:
    """``gettext`` of ``language``, for text the code builds (page headings)."""
    return translations(pick(language)).gettext


def ngettext_for(language: str) -> Callable[[str, str, int], str]:
    """``ngettext`` of ``language``, for counted text the code builds (subjects)."""
    return translations(pick(language)).ngettext
