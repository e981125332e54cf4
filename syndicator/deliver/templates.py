"""Where the email templates live and how Jinja2 is set up to read them.

One place decides both, so the renderer, the unsubscribe page and the tests
agree. HTML and XML templates are autoescaped (an item title is untrusted text
from someone else's website); ``.txt`` templates are not, since escaping
``&`` as ``&amp;`` in a plain-text part is a bug, not a defence.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, Template, TemplateNotFound, TemplateSyntaxError

from syndicator import templating
from syndicator.errors import OutputError
from syndicator.resources import default_templates_dir


def make_environment(templates_dir: Path | None = None) -> Environment:
    """The email environment, rooted at ``templates_dir`` (templates are named ``email/...``):
    ``.txt`` templates unescaped, everything else escaped (:mod:`syndicator.templating`)."""
    root = templates_dir if templates_dir is not None else default_templates_dir()
    return templating.make_environment(root, unescaped_extensions=("txt",))


def load_template(env: Environment, name: str) -> Template:
    """``name`` from ``env``, or an :class:`OutputError` naming it (missing or unparsable).

    Templates are loaded when a run starts, so a broken one stops the run before
    any message is reserved or any request is served.
    """
    try:
        return env.get_template(name)
    except TemplateNotFound as exc:
        raise OutputError(f"email template {exc.name!r} not found in {_searchpath(env)}") from None
    except TemplateSyntaxError as exc:
        where = f"{exc.filename or name}:{exc.lineno}"
        raise OutputError(f"email template {where}: {exc.message}") from None


def _searchpath(env: Environment) -> str:
    paths = getattr(env.loader, "searchpath", None)
    return ", ".join(str(p) for p in paths) if paths else "the template loader"
