"""How Jinja2 is set up for the page templates.

Where the templates folder is found is decided in one place for every stage,
:func:`syndicator.resources.default_templates_dir`; pages live in its
``pages/`` sub-folder.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment

from syndicator.templating import make_environment

PAGES = "pages"
"""Sub-folder of the templates folder holding the HTML page templates."""


def page_environment(templates_dir: Path) -> Environment:
    """The pages' environment: every template autoescaped (every value we render came
    from someone else's press release), with the ``isodate`` filter."""
    return make_environment(templates_dir / PAGES, filters={"isodate": isodate})


def isodate(moment: datetime) -> str:
    """``2024-05-01``: locale-independent, so pages do not change with the server's locale."""
    return moment.strftime("%Y-%m-%d")
