"""``syndicator serve --preview``: the published site, clickable on this machine.

Every absolute link in the output starts with ``base_url`` (feed self links, item pages,
canonical links, the OPML list), and ``base_url`` is the public site, which may not
exist yet. The preview serves the folder at the root of the local address and replaces
``base_url`` with that address in the bodies of HTML pages, feeds and the OPML list as
they are sent: in memory, per response, never on disk (the published files stay exactly
what the public site will serve). Relative links need nothing: the folder's layout is
the same.

The local address is the one the browser used (the ``Host`` header), so the links work
whether it opened ``127.0.0.1``, ``localhost`` or the machine's LAN address; a Host
header that is not a plain host name or address (with an optional port) is not trusted
and the listening address is used instead.
"""

from __future__ import annotations

import re

from aiohttp import web

REWRITTEN = frozenset({".html", ".rss", ".atom", ".json", ".opml", ".xml"})
"""The files whose links are rewritten: every format publishing writes."""

_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?")


def local_origin(request: web.BaseRequest) -> str:
    """``http://host:port/`` as the client reached us, validated (see the module docstring)."""
    host = request.headers.get("Host", "")
    if not _HOST.fullmatch(host):
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if isinstance(sockname, tuple) and len(sockname) >= 2:
            address = str(sockname[0])
            host = f"[{address}]:{sockname[1]}" if ":" in address else f"{address}:{sockname[1]}"
        else:
            host = "127.0.0.1"
    return f"http://{host}/"


def rewrite_links(body: bytes, public: str, local: str) -> bytes:
    """``body`` with every occurrence of the public base URL replaced by the local one.

    Both URLs end with ``/``, so ``https://example.org/feeds/`` never matches inside
    ``https://example.org/feeds-old/``.
    """
    return body.replace(public.encode("utf-8"), local.encode("utf-8"))


def rewritable(name: str) -> bool:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return suffix in REWRITTEN
