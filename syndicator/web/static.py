"""The output folder over HTTP: GET and HEAD under the mount point, nothing else.

Which file a path names is decided in :mod:`syndicator.web.files` (no dotfiles, no way
out of the folder, no listings); how its bytes go out in
:mod:`syndicator.web.representation` (types, ETag/Last-Modified, 304, gzip). Every
refusal is a plain 404 with no trace in the log, like an unknown file; other methods get
405 from the router. Without a preview the bytes are the file's, byte for byte.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote

from aiohttp import hdrs, web

from syndicator.web import representation as rep
from syndicator.web.files import AddSlash, NotServed, StaticFile, find
from syndicator.web.preview import local_origin, rewritable, rewrite_links

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
COMPRESS_IN_THREAD = 64 * 1024
"""Bodies larger than this are compressed in a worker thread, off the event loop."""


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text="Not found.\n", headers={"Cache-Control": "no-store", **_ALWAYS})


def add_static_routes(
    app: web.Application, root: Path, mount: str, *, preview_of: str | None = None
) -> None:
    """Serve ``root`` at ``mount`` (a path ending in ``/``).

    ``preview_of``: the public base URL whose occurrences are replaced by the local
    address in every page, feed and OPML body (``syndicator serve --preview``).
    """

    async def handle(request: web.Request) -> web.Response:
        tail = request.match_info["tail"]
        try:
            found = await asyncio.to_thread(find, root, tail)
        except NotServed:
            raise _not_found() from None
        if isinstance(found, AddSlash):
            raise web.HTTPMovedPermanently(location=quote(f"{mount}{tail}/"))
        return await respond(request, found)

    async def respond(request: web.Request, found: StaticFile) -> web.Response:
        name = found.path.name
        media_type = rep.content_type(name)
        body = found.body
        if preview_of is not None and rewritable(name):
            body = rewrite_links(body, preview_of, local_origin(request))
        headers = dict(_ALWAYS)
        headers["Cache-Control"] = rep.PREVIEW_CACHE if preview_of is not None else rep.FEED_CACHE
        headers["Content-Security-Policy"] = (
            rep.PAGE_POLICY if media_type.startswith("text/html") else rep.OTHER_POLICY
        )
        etag = rep.body_etag(body)
        gzipped = False
        if rep.compressible(media_type):
            headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
            gzipped = rep.accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING))
            if gzipped:
                etag = rep.gzip_etag(etag)
        last_modified = rep.http_time(found.mtime)
        validator = rep.Validator(
            none_match=(
                None
                if request.if_none_match is None
                else [tag.value for tag in request.if_none_match]
            ),
            modified_since=request.if_modified_since,
        )
        if rep.not_modified(validator, etag, last_modified):
            response = web.Response(status=304, headers=headers)
        else:
            if gzipped:
                if len(body) > COMPRESS_IN_THREAD:
                    body = await asyncio.to_thread(rep.compress, body)
                else:
                    body = rep.compress(body)
                headers[hdrs.CONTENT_ENCODING] = "gzip"
            headers[hdrs.CONTENT_TYPE] = media_type
            response = web.Response(body=body, headers=headers)
        response.etag = etag
        response.last_modified = last_modified
        return response

    async def add_slash(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(location=quote(mount))

    app.router.add_get(mount + "{tail:.*}", handle)
    if mount != "/":
        app.router.add_get(mount.rstrip("/"), add_slash)
