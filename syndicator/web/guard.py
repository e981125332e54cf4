"""Bounds and quiet failures for the public HTTP endpoint (``syndicator serve``).

The endpoint faces the internet: anyone can send it a 50 MB upload, a body
that never ends, a broken multipart message or a 100 KB URL. None of that may
cost memory, and none of it may put a stack trace in the operator's log (a
trace per request is a way to fill a disk, and it buries the lines that
matter). So:

* every size the request can grow by has a small bound: the body
  (:data:`MAX_BODY_BYTES`, answered 413), the request line and each header
  (answered 400 by aiohttp's parser) and the number of headers;
* a form that cannot be parsed is the client's mistake, answered 400
  (:func:`read_form`), and a body that is not a form 415;
* anything else that goes wrong in a handler is answered 500 with a short
  body, and logged as one line naming the exception class
  (:func:`contain_errors`); the trace is logged only at debug level;
* aiohttp's own server log (protocol errors it meets before any handler runs)
  goes to ``syndicator.http`` as one line without a trace, and the access log
  leaves out the query string, which carries the subscriber's signed address.

:func:`guarded_application` makes an :class:`aiohttp.web.Application` with all
of this built in, through ``handler_args``, so every way of serving it (the
command, the tests' server) gets the same bounds.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

MAX_BODY_BYTES = 8 * 1024
"""A one-click POST body is ``List-Unsubscribe=One-Click`` (26 bytes); a confirmation form
with the token in it stays under 1 KiB. 8 KiB leaves room for chatty multipart encoders."""
MAX_LINE_BYTES = 4096
"""Request line (method, URL, version): an unsubscribe URL is well under 1 KiB."""
MAX_FIELD_BYTES = 8190
"""One header line; aiohttp's default, what a proxy's forwarding headers may need."""
MAX_HEADERS = 100
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
"""The bodies RFC 8058 allows for a one-click POST, and what an HTML form sends."""

HTTP_LOG = logging.getLogger("syndicator.http")
"""Our own lines: one per request (access) and one per handler failure."""
SERVER_LOG = logging.getLogger("syndicator.http.server")
"""What aiohttp's server reports itself, rewritten to one line by :class:`_OneLineServerLog`."""

# What aiohttp's form parser raises for a body it cannot make sense of: a missing or
# wrong multipart boundary (ValueError), an unknown charset (LookupError), an unknown
# part encoding (RuntimeError), an undecodable part (TypeError), a bad compressed or
# chunked stream (RequestPayloadError, HttpProcessingError). The body is bounded and
# wholly the client's, so each of these means "malformed request", not a bug of ours.
_MALFORMED_FORM: tuple[type[Exception], ...] = (
    ValueError,
    LookupError,
    RuntimeError,
    TypeError,
    web.RequestPayloadError,
    HttpProcessingError,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers={"Cache-Control": "no-store"})


@web.middleware
async def contain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse an announced oversized body at once; turn a handler's crash into a short 500.

    HTTP errors raised on purpose (404, 405, 413, 400, …) pass through unchanged.
    """
    try:
        length = request.content_length
        if length is not None and length > request.client_max_size:
            raise web.HTTPRequestEntityTooLarge(
                max_size=request.client_max_size, actual_size=length
            )
        return await handler(request)
    except web.HTTPException as exc:
        if request.body_exists and not request.content.is_eof():
            # The rest of a refused body is not worth reading (aiohttp would drain it for
            # up to ten seconds): answer, then close the connection.
            exc.force_close()
        raise
    except Exception as exc:
        # The class name only: the message may quote the request, and a trace per
        # request is noise; ``--log-level debug`` shows it for a developer.
        HTTP_LOG.error(
            "event=http_error method=%s path=%s error=%s",
            request.method,
            request.rel_url.raw_path,
            type(exc).__name__,
        )
        HTTP_LOG.debug("event=http_error_trace", exc_info=exc)
        return _plain(500, "Internal error. Please try again later.")


async def discard_body(request: web.Request) -> None:
    """Read and drop a body nobody asked for, within the bound (413 beyond it)."""
    if request.body_exists:
        try:
            await request.read()
        except (web.RequestPayloadError, HttpProcessingError) as exc:
            raise web.HTTPBadRequest(text="Malformed request body.\n") from exc


async def form_text(request: web.Request, name: str) -> str:
    """Text field ``name`` of the form in the body ("" when absent or there is no body).

    415 for a body that is not a form; 400 for a form that cannot be parsed.
    """
    value = (await read_form(request)).get(name, "")
    return value if isinstance(value, str) else ""


async def read_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The whole form in the body, within the bound (empty when there is no body).

    415 for a body that is not a form; 400 for a form that cannot be parsed.
    """
    if request.body_exists and request.content_type not in FORM_TYPES:
        raise web.HTTPUnsupportedMediaType(text=f"Send {' or '.join(sorted(FORM_TYPES))}.\n")
    try:
        return await request.post()
    except _MALFORMED_FORM as exc:
        raise web.HTTPBadRequest(text="Malformed form body.\n") from exc


class _OneLineServerLog(logging.Filter):
    """aiohttp logs protocol errors (a too-long URL, a broken chunk) with a full trace.

    Rewritten here as one ``event=`` line naming the exception class; a client's
    malformed request is logged at info level, anything else at its own level.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is None:
            return True
        error = record.exc_info[1]
        name = type(error).__name__ if error is not None else "unknown"
        client_fault = isinstance(error, HttpProcessingError | web.RequestPayloadError)
        record.msg = "event=%s error=%s"
        record.args = ("http_bad_request" if client_fault else "http_server_error", name)
        record.exc_info = None
        record.exc_text = None
        if client_fault:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return SERVER_LOG.isEnabledFor(record.levelno)


class AccessLog(AbstractAccessLogger):
    """One line per request without the query string (the token names the subscriber)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        # raw_path is percent-encoded: no space or control character reaches the log.
        self.logger.info(
            "event=http_request method=%s path=%s status=%s bytes=%s ms=%.1f",
            request.method,
            request.rel_url.raw_path,
            response.status,
            response.body_length,
            time * 1000,
        )


SERVER_LOG.addFilter(_OneLineServerLog())


def guarded_application() -> web.Application:
    """An application with the bounds, the error middleware and the quiet logs above."""
    return web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[contain_errors],
        handler_args={
            "max_line_size": MAX_LINE_BYTES,
            "max_field_size": MAX_FIELD_BYTES,
            "max_headers": MAX_HEADERS,
            "logger": SERVER_LOG,
            "access_log_class": AccessLog,
            "access_log": HTTP_LOG,
        },
    )
