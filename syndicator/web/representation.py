"""How a file of the output folder goes over HTTP: type, validators, encoding, headers.

Pure functions over bytes and request headers, so each rule is tested without a server.

* **Content types** per format, always with ``charset=utf-8`` for text (the files are
  UTF-8; a feed reader that guesses Latin-1 garbles every accent). OPML is sent as
  ``text/x-opml``: OPML 2.0 registers no media type, ``text/x-opml`` is what feed readers'
  import dialogs and the shipped nginx example use, and a browser offers it as a
  download (which is what a reader wants to do with it) rather than showing a tree.
  Defined here until publishing has its registry of formats.
* **Validators**: the ETag is a hash of the bytes sent before compression (so it is the
  same on every server behind a balancer and changes only with the content; in preview
  it is the rewritten body's); the gzip variant gets its own strong ETag
  (``"<hash>-gzip"``), since its bytes differ. Last-Modified is the file's mtime, which
  publishing leaves alone when a file is unchanged.
* **Conditional GET** (RFC 9110 §13.2.2): If-None-Match wins over If-Modified-Since, and
  is compared weakly, so a validator of either variant answers 304.
* **gzip** only when the client accepts it (``q`` above 0, ``*`` counts), for text types,
  with ``Vary: Accept-Encoding`` on every response that could have been compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from syndicator.publish.formats import media_type_for

UTF8 = "; charset=utf-8"
CONTENT_TYPES = {
    ".xml": "application/xml" + UTF8,
    ".txt": "text/plain" + UTF8,
    ".css": "text/css" + UTF8,
}
FEED_CACHE = "public, max-age=300"
"""Feed readers poll; five minutes keeps a crowd of them off the disk and is short
enough that a new release shows up within one collect interval."""
PREVIEW_CACHE = "no-cache"
"""A preview is looked at while republishing: always revalidate (a 304 costs nothing)."""
PAGE_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""The shipped pages need one inline ``<style>`` block and their sign-up form, posted to
this same server (``{base_url}signup``): no script runs, nothing is framed, no form goes
to another site. Images and style sheets from the same folder stay
allowed for customised templates."""
OTHER_POLICY = "default-src 'none'; sandbox"
"""Feeds and OPML are data: a browser that renders one (an XML view, an XSLT) runs nothing."""


def content_type(name: str) -> str:
    """The Content-Type header for a file name; unknown binaries as octet-stream.

    What publishing writes gets the media type of its output format (the one the
    feeds and pages announce), from the formats registry; every format is text.
    """
    registered = media_type_for(name.rsplit("/", 1)[-1].lower())
    if registered is not None:
        return registered + UTF8
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is None:
        return "application/octet-stream"
    return guessed + UTF8 if guessed.startswith("text/") else guessed


def compressible(media_type: str) -> bool:
    kind = media_type.split(";", 1)[0].strip()
    return kind.startswith("text/") or kind.endswith(("+xml", "+json", "/xml", "/json"))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip: listed (or ``x-gzip``, or ``*``) with q > 0.

    An explicit ``gzip;q=0`` refuses it even when ``*`` is allowed.
    """
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding.lower()] = weight
    for name in ("gzip", "x-gzip"):
        if name in weights:
            return weights[name] > 0
    return weights.get("*", 0.0) > 0


def body_etag(body: bytes) -> str:
    """An opaque strong validator of the identity bytes (without quotes)."""
    return hashlib.sha256(body).hexdigest()[:32]


def gzip_etag(identity: str) -> str:
    return f"{identity}-gzip"


def compress(body: bytes) -> bytes:
    """gzip with a fixed header time, so the same file always compresses to the same bytes."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def http_time(mtime: float) -> datetime:
    """An mtime at the one-second precision of HTTP dates (else 304 could never match)."""
    return datetime.fromtimestamp(int(mtime), UTC)


@dataclass(frozen=True)
class Validator:
    """What a conditional request brought: If-None-Match values, If-Modified-Since."""

    none_match: Sequence[str] | None
    """Entity tags without quotes and W/; ``"*"`` matches anything."""
    modified_since: datetime | None


def not_modified(request: Validator, etag: str, last_modified: datetime) -> bool:
    """Whether a GET/HEAD with these preconditions gets 304 for this representation."""
    if request.none_match is not None:
        return any(tag in ("*", etag) for tag in request.none_match)
    if request.modified_since is not None:
        return last_modified <= request.modified_since
    return False
