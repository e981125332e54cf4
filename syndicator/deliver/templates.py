"""Where the email templates live and how Jinja2 is set up to read them.

One place decides both, so the renderer, the unsubscribe page and the tests
agree. HTML and XML templates are autoescaped (an item title is untrusted text
from someone else's website); ``.txt`` templates are not, since escaping
``&`` as ``&amp;`` in a plain-text part is a bug, not a defence.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from syndicator.resources import default_templates_dir


def make_environment(templates_dir: Path | None = None) -> Environment:
    """A Jinja2 environment rooted at ``templates_dir`` (templates are named ``email/...``).

    ``StrictUndefined`` turns a misspelt variable into an error in the tests
    instead of a silently empty line in a subscriber's inbox.
    """
    root = templates_dir if templates_dir is not None else default_templates_dir()
    return Environment(
        loader=FileSystemLoader(str(root)),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml"),
            disabled_extensions=("txt",),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
