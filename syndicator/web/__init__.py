"""The public web application behind ``syndicator serve``: the output folder, unsubscribe
and sign-up (:mod:`syndicator.web.signup`, at ``{base_url}signup``).

Both are mounted where the public URLs say they are, so a plain pass-through proxy (or
no proxy at all) needs no path rewriting: with ``base_url:
https://feeds.example.org/syndicator/`` the folder is answered at ``/syndicator/…`` and
the unsubscribe endpoint at ``/syndicator/unsubscribe`` (or at the path of
``delivery.unsubscribe_url``); ``/`` redirects to ``/syndicator/``. The endpoint also
answers at ``/unsubscribe``, where earlier versions served it alone: a proxy that was
told to rewrite ``/syndicator/unsubscribe`` to ``/unsubscribe`` keeps working, and an
unsubscribe link in a mailbox must never stop working.

With ``preview`` the folder is answered at ``/`` and links to ``base_url`` are rewritten
to the local address (:mod:`syndicator.web.preview`), so a newcomer clicks through the
site before it is deployed.

Every route shares the bounds and quiet failures of :mod:`syndicator.web.guard`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web

from syndicator.config import Settings
from syndicator.service.app import open_database, utc_now
from syndicator.store.protocol import Storage
from syndicator.web.guard import guarded_application
from syndicator.web.signup import add_signup_routes
from syndicator.web.static import add_static_routes
from syndicator.web.unsubscribe import add_unsubscribe_routes

LEGACY_UNSUBSCRIBE = "/unsubscribe"


@dataclass(frozen=True)
class Mounts:
    """Where each part of the application answers (decoded paths)."""

    site: str
    """The output folder's mount point, ending in ``/``."""
    unsubscribe: str
    legacy_unsubscribe: str | None
    """``/unsubscribe``, kept for proxies set up for earlier versions (None: same path, preview)."""
    preview_of: str | None
    """In preview, the public base URL that the local address replaces in bodies."""


def mounts(settings: Settings, *, preview: bool = False) -> Mounts:
    """The paths of the public URLs, or their local equivalents in preview."""
    base = settings.base_url_text
    configured = settings.delivery.unsubscribe_url
    unsubscribe_url = configured or f"{base}unsubscribe"
    if not preview:
        path = _path(unsubscribe_url)
        return Mounts(
            _path(base), path, None if path == LEGACY_UNSUBSCRIBE else LEGACY_UNSUBSCRIBE, None
        )
    if unsubscribe_url.startswith(base):  # under the site: moves with it to the local root
        local = "/" + _path(unsubscribe_url)[len(_path(base)) :]
    else:
        local = _path(unsubscribe_url)
    return Mounts("/", local, None, base)


def _path(url: str) -> str:
    return unquote(urlsplit(url).path) or "/"


def make_app(
    settings: Settings,
    *,
    preview: bool = False,
    store_factory: Callable[[], Storage] | None = None,
    templates_dir: Path | None = None,
    clock: Callable[[], datetime] = utc_now,
    process: str | None = None,
) -> web.Application:
    """The application ``syndicator serve`` runs; the store is opened at startup.

    ``store_factory`` defaults to the configured database; ``clock`` and ``process`` are
    for tests (see :func:`syndicator.web.unsubscribe.add_unsubscribe_routes`).
    """
    where = mounts(settings, preview=preview)
    app = guarded_application()
    add_unsubscribe_routes(
        app,
        store_factory or (lambda: open_database(settings)),
        settings,
        paths=tuple(p for p in (where.unsubscribe, where.legacy_unsubscribe) if p is not None),
        templates_dir=templates_dir,
        clock=clock,
        process=process,
    )
    if settings.signup.enabled:
        add_signup_routes(app, settings, site_path=where.site, preview=preview, clock=clock)
    add_static_routes(app, settings.publish.output_dir, where.site, preview_of=where.preview_of)
    if where.site != "/":

        async def to_site(request: web.Request) -> web.Response:
            raise web.HTTPFound(location=quote(where.site))

        app.router.add_get("/", to_site)
    return app


def serve(settings: Settings, *, host: str, port: int, preview: bool = False) -> None:
    """Run the application until SIGINT/SIGTERM."""
    web.run_app(make_app(settings, preview=preview), host=host, port=port, print=None)
