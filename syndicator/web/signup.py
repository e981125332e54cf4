"""Sign-up from the published pages, with double opt-in.

``POST {base}signup`` takes the form of the index and topic pages (email, topics,
digest cadence, alerts, a honeypot field, the page it came from). What to do is
decided by :func:`syndicator.service.signup.decide`; this module does the I/O:

* a new (or unconfirmed, or returning) address is stored ``pending`` with its
  consent (when, from which page, which confirmation message) and sent one
  confirmation mail whose link expires after ``signup.pending_days``;
* an address already subscribed is sent an "already subscribed" mail with its
  unsubscribe link, and nothing changes;
* the visitor sees the same page in every case, so the form tells nobody who
  is subscribed.

``GET {base}signup/confirm?token=…`` shows a button and changes nothing (mail
scanners open links); ``POST`` to the same URL activates the subscription.

Abuse limits: a per-client and a per-address limit (:mod:`syndicator.web.limits`,
in memory per process), a hidden field only robots fill in (answered like a
success, nothing stored or sent), a cross-site check suited to a form on static
pages (:func:`cross_site`), and the body and header bounds of
:mod:`syndicator.web.guard`. Unconfirmed sign-ups are deleted once their link has
expired, at startup and every hour.

The store and the signing key are the ones the unsubscribe routes open at startup
(:mod:`syndicator.web.unsubscribe`): both routes live in the same application.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from syndicator.addresses import AddressError, parse_address
from syndicator.config import Settings
from syndicator.deliver.confirm import SIGNUP_PAGE, SignupMailer
from syndicator.deliver.render import Rendered, unsubscribe_url
from syndicator.deliver.templates import load_template, make_environment
from syndicator.deliver.tokens import CONFIRM
from syndicator.deliver.transports import make_transport
from syndicator.errors import SyndicatorError
from syndicator.models import Cadence, Subscriber
from syndicator.service.signup import decide
from syndicator.site import INDEX_PAGE, SIGNUP_PATH, topic_page
from syndicator.store.protocol import RecipientEntry, Storage
from syndicator.web.guard import discard_body, read_form
from syndicator.web.limits import RateLimit
from syndicator.web.unsubscribe import SIGNER, STORE

PAGE = SIGNUP_PAGE
CONFIRM_PATH = f"{SIGNUP_PATH}/confirm"
HONEYPOT = "website"
EXPIRY_EVERY = timedelta(hours=1)
CADENCES: tuple[Cadence, ...] = ("daily", "weekly", "none")
log = logging.getLogger(__name__)

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the confirmation token is in the URL
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def cross_site(headers: Mapping[str, str], allowed: frozenset[str]) -> bool:
    """Did a browser send this POST from another site's page?

    ``Sec-Fetch-Site`` (every current browser) must say ``same-origin``; without it,
    ``Origin`` (which browsers send with every cross-site POST) must be one of
    ``allowed``. A request with neither comes from no browser, so no other site
    can have made a reader's browser send it: it is let through.
    """
    fetch_site = headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site != "same-origin"
    origin = headers.get("Origin")
    return origin is not None and origin not in allowed


def add_signup_routes(
    app: web.Application,
    settings: Settings,
    *,
    site_path: str,
    preview: bool = False,
    clock: Callable[[], datetime],
) -> None:
    """Answer the sign-up form at ``{site_path}signup`` and its confirmation link."""
    conf = settings.signup
    env = make_environment(settings.templates_dir)
    template = load_template(env, PAGE)
    mailer = SignupMailer.load(settings)
    per_client = RateLimit(conf.max_per_ip_per_hour, timedelta(hours=1))
    per_address = RateLimit(conf.max_mails_per_address_per_day, timedelta(days=1))
    allowed = frozenset({origin_of(settings.base_url_text)})
    pending_for = timedelta(days=conf.pending_days)
    pages = {INDEX_PAGE, *(topic_page(t.id) for t in settings.taxonomy.topics)}
    topic_ids = set(settings.taxonomy.ids)
    confirm_base = f"{settings.base_url_text}{CONFIRM_PATH}"

    def page(
        state: str, status: int, email: str = "", message: str = "", action: str = ""
    ) -> web.Response:
        headings = {
            "sent": "Check your mail",
            "confirm": "Confirm your subscription",
            "done": "You are subscribed",
            "invalid": "Link not valid",
            "refused": "Not accepted",
        }
        body = template.render(
            state=state,
            heading=headings[state],
            email=email,
            message=message,
            action=action,
            site_title=settings.publish.title,
            site_url=settings.base_url_text,
        )
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
        )

    def refused(status: int, message: str) -> web.Response:
        return page("refused", status, message=message)

    def from_elsewhere(request: web.Request) -> bool:
        origins = allowed | ({f"{request.scheme}://{request.host}"} if preview else set())
        return cross_site(request.headers, frozenset(origins))

    def send(rendered: Rendered) -> None:
        with make_transport(settings.delivery) as transport:
            transport.send(rendered)

    async def signup(request: web.Request) -> web.Response:
        now = clock()
        if from_elsewhere(request):
            await discard_body(request)
            log.info("event=signup_refused reason=cross_site")
            return refused(403, "This form only works from the pages of this site.")
        if not per_client.take(request.remote or "", now):
            await discard_body(request)
            log.info("event=signup_refused reason=client_limit")
            return refused(429, "Too many sign-ups from your network. Please try again later.")
        form = await read_form(request)

        def field(name: str) -> str:
            value = form.get(name, "")
            return value.strip() if isinstance(value, str) else ""

        try:
            address = parse_address(field("email")).address.lower()
        except AddressError:
            return refused(400, "Please give one valid email address.")
        topics = tuple(dict.fromkeys(t for t in form.getall("topics", []) if t in topic_ids))
        wanted = field("cadence") or "daily"
        cadence = next((c for c in CADENCES if c == wanted), None)
        alerts = field("alerts") in ("on", "yes", "1", "true")
        if not topics:
            return refused(400, "Please tick at least one topic.")
        if cadence is None or (cadence == "none" and not alerts):
            return refused(400, "Please choose a daily or weekly digest, or immediate alerts.")
        if field(HONEYPOT):
            log.info("event=signup_refused reason=honeypot")
            return page("sent", 200, email=address)  # a robot learns nothing
        source = field("page")
        source = source if source in pages else "(unknown page)"
        subscriber = Subscriber(address, topics, cadence=cadence, alerts=alerts)
        store = request.app[STORE]
        found = await asyncio.to_thread(store.find_recipient, address)
        decision = decide(found, mails_left=not per_address.full(address, now))
        log.info("event=signup action=%s reason=%s", decision.action, decision.reason)
        if decision.action == "nothing":
            return page("sent", 200, email=address)
        signer = request.app[SIGNER]
        if decision.action == "confirm":
            expires = now + pending_for
            token = signer.sign_until(address, CONFIRM, expires)
            link = f"{confirm_base}?{urlencode({'token': token})}"
            rendered = mailer.render("confirm", subscriber, link=link, expires=expires, date=now)
            consent = f"sign-up page {source}; confirmation {rendered.message_id}"
            entry = RecipientEntry(subscriber, "self", consent)
            await asyncio.to_thread(store.save_pending, entry, now)
        else:
            link = unsubscribe_url(settings, signer.sign(address))
            assert found is not None  # "already" is only decided for a known row
            rendered = mailer.render("already", found.subscriber, link=link, expires=None, date=now)
        per_address.note(address, now)
        try:
            await asyncio.to_thread(send, rendered)
        except SyndicatorError as exc:
            # Same answer as success: a different one would tell known addresses apart.
            log.error("event=signup_mail_failed kind=%s error=%s", decision.action, exc)
        return page("sent", 200, email=address)

    async def show_confirmation(request: web.Request) -> web.Response:
        await discard_body(request)
        token = request.query.get("token", "")
        email = request.app[SIGNER].verify_until(token, CONFIRM, clock()) if token else None
        if email is None:
            return page("invalid", 400)
        # Relative, so the button posts back to the URL the reader opened, token and all.
        return page("confirm", 200, email=email, action=f"?{request.query_string}")

    async def confirm(request: web.Request) -> web.Response:
        await discard_body(request)
        if from_elsewhere(request):
            log.info("event=signup_refused reason=cross_site")
            return refused(403, "This form only works from the pages of this site.")
        now = clock()
        token = request.query.get("token", "")
        email = request.app[SIGNER].verify_until(token, CONFIRM, now) if token else None
        if email is None:
            return page("invalid", 400)
        store = request.app[STORE]
        confirmed = await asyncio.to_thread(store.confirm_pending, email, now)
        if confirmed is None:
            found = await asyncio.to_thread(store.find_recipient, email)
            if found is None or found.status != "active":  # expired, or left since
                return page("invalid", 400)
        else:
            log.info("event=signup_confirmed recipient=%s", confirmed.id)
        return page("done", 200, email=email)

    async def expire(app: web.Application) -> AsyncIterator[None]:
        async def every_hour(store: Storage) -> None:
            while True:
                now = clock()
                try:
                    gone = await asyncio.to_thread(store.expire_pending, now - pending_for, now)
                    if gone:
                        log.info("event=signup_expired count=%s", gone)
                except SyndicatorError as exc:
                    log.warning("event=signup_expiry_failed error=%s", type(exc).__name__)
                await asyncio.sleep(EXPIRY_EVERY.total_seconds())

        task = asyncio.create_task(every_hour(app[STORE]))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(expire)  # after the unsubscribe routes' context opened the store
    app.router.add_post(f"{site_path}{SIGNUP_PATH}", signup)
    app.router.add_get(f"{site_path}{CONFIRM_PATH}", show_confirmation)
    app.router.add_post(f"{site_path}{CONFIRM_PATH}", confirm)
