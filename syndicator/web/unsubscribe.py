"""The one-click unsubscribe endpoint (RFC 8058), as a small aiohttp application.

``GET /unsubscribe?token=…`` shows a confirmation page with a button and changes
nothing: link scanners and mail previews fetch every URL in a message, and an
unsubscribe on GET would quietly unsubscribe whole companies.
``POST /unsubscribe?token=…`` unsubscribes. It is what a mail client sends for
the ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` header (body
``List-Unsubscribe=One-Click``) and what the confirmation form sends; both are
accepted, since the signed token is the only proof that matters. With the token
in the URL the body is read (within its bound) and ignored; without it the
token must come in a form body.

Every request is bounded and every failure answered briefly without a stack
trace in the log: see :mod:`syndicator.web.guard`.

Unsubscribing twice, or with a genuine token for an address the store does not
know, still answers "unsubscribed": the answer reveals nothing about who is
subscribed. The store is synchronous, so its calls run in a worker thread.
``syndicator serve`` mounts these routes beside the output folder
(:func:`syndicator.web.make_app`); :func:`make_unsubscribe_app` serves them alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from syndicator import i18n
from syndicator.config import Settings
from syndicator.deliver.keys import KEY_USE_REFRESH, check_keys, forget_key_use, renew_key_use
from syndicator.deliver.render import UNSUBSCRIBE_PAGE
from syndicator.deliver.templates import load_template, make_environment
from syndicator.deliver.tokens import TokenSigner, signer_for
from syndicator.errors import SyndicatorError
from syndicator.i18n import N_
from syndicator.store.protocol import Storage
from syndicator.web.guard import discard_body, form_text, guarded_application

STORE = web.AppKey("store", Storage)
SIGNER = web.AppKey("signer", TokenSigner)
PAGE = UNSUBSCRIBE_PAGE
log = logging.getLogger(__name__)

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def make_unsubscribe_app(
    store_factory: Callable[[], Storage],
    settings: Settings,
    *,
    path: str = "/unsubscribe",
    templates_dir: Path | None = None,
    clock: Callable[[], datetime] = _utc_now,
    process: str | None = None,
) -> web.Application:
    """A guarded application (:mod:`syndicator.web.guard`) with only the unsubscribe routes."""
    app = guarded_application()
    add_unsubscribe_routes(
        app,
        store_factory,
        settings,
        paths=(path,),
        templates_dir=templates_dir,
        clock=clock,
        process=process,
    )
    return app


_HEADINGS = {
    "confirm": N_("Unsubscribe"),
    "done": N_("You are unsubscribed"),
    "invalid": N_("Link not valid"),
}


def language_of(store: Storage, email: str) -> str | None:
    """The reader's own language, so the page reads like the message they came from."""
    found = store.find_recipient(email)
    return found.subscriber.language if found is not None else None


def add_unsubscribe_routes(
    app: web.Application,
    store_factory: Callable[[], Storage],
    settings: Settings,
    *,
    paths: tuple[str, ...],
    templates_dir: Path | None = None,
    clock: Callable[[], datetime] = _utc_now,
    process: str | None = None,
) -> None:
    """Answer GET and POST at each of ``paths``; the store is opened at startup, closed at cleanup.

    The page template comes from ``templates_dir``, else the configured
    ``templates_dir``, else the shipped templates (as for the messages). At
    startup the server records its keys under ``process`` (``host:pid`` by
    default) and warns about processes whose links it would refuse
    (:func:`syndicator.deliver.keys.check_keys`).
    """
    env = make_environment(templates_dir or settings.templates_dir)
    template = load_template(env, PAGE)

    async def store_context(app: web.Application) -> AsyncIterator[None]:
        store = await asyncio.to_thread(store_factory)
        try:
            app[SIGNER] = await asyncio.to_thread(signer_for, store, settings.delivery)
            app[STORE] = store
            try:
                await asyncio.to_thread(check_keys, store, settings, "serve", clock(), process)
            except SyndicatorError as exc:  # a warning about warnings: never stop the endpoint
                log.warning("event=signing_key_check_failed error=%s", type(exc).__name__)
            renewal = asyncio.create_task(renew_keys(store))
            try:
                yield
            finally:
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal
                await asyncio.to_thread(forget_key_use, store, process)
        finally:
            await asyncio.to_thread(store.close)

    async def renew_keys(store: Storage) -> None:
        """Keep this server's key record fresh, so workers started later compare with it."""
        while True:
            await asyncio.sleep(KEY_USE_REFRESH.total_seconds())
            try:
                await asyncio.to_thread(renew_key_use, store, settings, "serve", clock(), process)
            except SyndicatorError as exc:
                log.warning("event=signing_key_renew_failed error=%s", type(exc).__name__)

    def page(
        state: str, status: int, email: str = "", action: str = "", language: str | None = None
    ) -> web.Response:
        language = i18n.pick(language, settings.delivery.language)
        body = template.render(
            state=state,
            heading=i18n.gettext_for(language)(_HEADINGS[state]),
            email=email,
            action=action,
            site_title=settings.publish.title,
            site_url=settings.base_url_text,
            language=language,
        )
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
        )

    async def confirm(request: web.Request) -> web.Response:
        await discard_body(request)
        token = request.query.get("token", "")
        email = request.app[SIGNER].verify(token) if token else None
        if email is None:
            return page("invalid", 400)
        # Relative, so the form posts back to the URL the reader opened even when a
        # proxy serves this app under another path (``delivery.unsubscribe_url``).
        language = await asyncio.to_thread(language_of, request.app[STORE], email)
        return page(
            "confirm", 200, email=email, action=f"?{request.query_string}", language=language
        )

    async def unsubscribe(request: web.Request) -> web.Response:
        token = request.query.get("token", "")
        if token:
            await discard_body(request)  # "List-Unsubscribe=One-Click" adds nothing to the token
        else:
            token = await form_text(request, "token")
        email = request.app[SIGNER].verify(token) if token else None
        if email is None:
            return page("invalid", 400)
        store = request.app[STORE]
        await asyncio.to_thread(store.unsubscribe, email, clock())
        language = await asyncio.to_thread(language_of, store, email)
        return page("done", 200, email=email, language=language)

    app.cleanup_ctx.append(store_context)
    for path in paths:
        app.router.add_get(path, confirm)
        app.router.add_post(path, unsubscribe)
