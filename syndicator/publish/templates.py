"""How Jinja2 is set up for the page templates.

Where the templates folder is found is decided in one place for every stage,
:func:`syndicator.resources.default_templates_dir`; pages live in its
``pages/`` sub-folder.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PAGES = "pages"
"""Sub-folder of the templates folder holding the HTML page templates."""


def page_environment(templates_dir: Path) -> Environment:
    """A Jinja2 environment for the pages: autoescaped, strict about unknown names.

    Autoescaping is on for every template, whatever its extension, because
    every value we render came from someone else's press release.
    ``StrictUndefined`` turns a misspelt variable into an error instead of a
    silently empty page.
    """
    env = Environment(
        loader=FileSystemLoader(templates_dir / PAGES),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["isodate"] = isodate
    return env


def isodate(moment: datetime) -> str:
    """``2024-05-01``: locale-independent, so pages do not change with the server's locale."""
    return moment.strftime("%Y-%m-%d")
