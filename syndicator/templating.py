"""The one way Jinja2 is set up, for the HTML pages and for email alike.

Both uses render text from other people's press releases, so both escape by
default and both use ``StrictUndefined`` (a misspelt variable is an error, not a
silently empty line on a page or in an inbox). They differ only in what they
pass here: pages escape every template, email leaves its ``.txt`` templates
unescaped (``&amp;`` in a plain-text part is a bug, not a defence), and pages add
their date filter. Both get ``_()`` and ``ngettext()`` translating into the render
context's ``language`` (:mod:`syndicator.i18n`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from syndicator import i18n


def make_environment(
    folder: Path,
    *,
    unescaped_extensions: tuple[str, ...] = (),
    filters: Mapping[str, Callable[..., Any]] | None = None,
) -> Environment:
    """An environment reading templates from ``folder``.

    Every template is autoescaped except those whose extension is in
    ``unescaped_extensions`` (without the dot); templates from strings are escaped too.
    """
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(
            enabled_extensions=(),
            disabled_extensions=unescaped_extensions,
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters or {})
    i18n.install(env)
    return env
