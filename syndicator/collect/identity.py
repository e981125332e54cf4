"""What makes an item the same item from one cycle to the next.

The identity must be stable: if it changed whenever a body changed, every edit
would look like a new release and subscribers would get duplicates. So it is
built from the most stable thing we have: the publisher's guid, else the
canonical link, else a hash of the title and date (never the body, which may
embed the time it was generated). Files use their path inside the folder.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "mc_", "fbclid", "gclid", "at_medium", "at_campaign")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_link(link: str) -> str:
    """Lowercase scheme and host, no default port, no fragment, no tracking parameters."""
    try:
        parts = urlsplit(link.strip())
        port = parts.port
    except ValueError:
        return link.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def link_identity(link: str) -> str:
    """The identity an item gets from its link (``link:`` + canonical link).

    Also how a page source tells, before fetching, that a release is stored.
    """
    return "link:" + canonical_link(link)


def content_hash(*parts: str | None) -> str:
    """A short, stable hash of the given strings (None and '' are the same)."""
    digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode("utf-8"))
    return digest.hexdigest()[:32]


def item_identity(
    guid: str | None,
    link: str | None,
    title: str,
    published_at: datetime | None,
    fallback_text: str = "",
) -> str:
    """``guid:…``, else ``link:…`` (canonical), else ``hash:…`` of title and date.

    The body enters the hash only when there is neither title nor date, so a
    page that stamps "now" into its body does not mint a new item every cycle.
    """
    if guid and guid.strip():
        return "guid:" + guid.strip()
    if link and link.strip():
        return link_identity(link)
    date = published_at.isoformat() if published_at else ""
    if title or date:
        return "hash:" + content_hash(title, date)
    return "hash:" + content_hash(fallback_text)


def path_identity(relative_path: str) -> str:
    """Identity of a release file: its path relative to the folder, with forward slashes."""
    return "path:" + relative_path
