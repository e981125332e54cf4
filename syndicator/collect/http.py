"""The one HTTP client of the collect stage: polite, bounded, and SSRF-safe.

We own this layer rather than letting feedparser fetch (as reader does), so
that every request is conditional, every byte is bounded, and every failure
becomes a :class:`FetchError` with a stable ``error_class``:

* politeness: a global concurrency limit, a per-host limit of
  ``per_host`` connections and ``min_host_interval`` seconds between request
  starts to one host, and a descriptive User-Agent with a contact;
* bounds: connect (DNS lookup included) and read timeouts from aiohttp plus
  our own total deadline over all hops (a server dripping one byte a second
  cannot hold a fetch past it); Content-Length and decoded size capped while
  decoding;
* redirects followed by hand, at most ``max_redirects``, each hop re-checked
  (scheme, address, loops); 301/308 chains report ``permanent_url``;
* addresses: see :mod:`syndicator.collect.safety`.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import aiohttp

from syndicator import __version__
from syndicator.collect.clock import Clock, wall_clock
from syndicator.collect.decode import BoundedDecoder, TooLarge, UnsupportedEncoding
from syndicator.collect.safety import (
    AddressPolicy,
    BlockedAddressError,
    DetachedResolver,
    GuardedResolver,
    ip_literal,
    odd_ipv4_spelling,
)
from syndicator.config import CollectSettings
from syndicator.models import Caching

FEED_ACCEPT = (
    "application/feed+json, application/atom+xml, application/rss+xml, application/rdf+xml, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.5, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})


class FetchError(Exception):
    """A fetch failed; ``error_class`` is one of the stable words the store keeps."""

    def __init__(
        self,
        error_class: str,
        message: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.status = status
        self.headers: Mapping[str, str] = headers or {}


@dataclass(frozen=True, slots=True)
class Response:
    """A final (non-redirect) response; ``body`` is decoded and read only for 2xx.

    ``received_at`` is when its status line and headers arrived (the fetcher's
    clock): a Retry-After or max-age counts from then, not from the cycle's start.
    """

    url: str
    status: int
    headers: Mapping[str, str]
    received_at: datetime
    body: bytes = b""
    permanent_url: str | None = None


def user_agent(settings: CollectSettings) -> str:
    return settings.user_agent.replace("{version}", __version__).replace(
        "{contact}", settings.contact
    )


class HostGate:
    """At most ``per_host`` requests in flight to one host, starts ``interval`` seconds apart."""

    def __init__(self, per_host: int, interval: float) -> None:
        self._slots = asyncio.Semaphore(per_host)
        self._order = asyncio.Lock()
        self._interval = interval
        self._next_start = 0.0

    @asynccontextmanager
    async def slot(self, shared: asyncio.Semaphore) -> AsyncIterator[None]:
        """A slot of this host, then one of ``shared`` (the overall limit).

        The interval counts from when the request really starts, i.e. once it
        also holds a ``shared`` slot: timed from the host slot alone, requests
        queued behind a full ``shared`` would all start together when it frees.
        Waiting for ``shared`` under ``_order`` only holds back this host's
        later requests, which may not start before this one anyway.
        """
        async with self._slots:
            async with self._order:
                loop = asyncio.get_running_loop()
                wait = self._next_start - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await shared.acquire()
                self._next_start = loop.time() + self._interval
            try:
                yield
            finally:
                shared.release()


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers.items():
        name = key.lower()
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class Fetcher:
    """An aiohttp session with our limits; use as ``async with Fetcher(settings) as f``."""

    def __init__(self, settings: CollectSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock if clock is not None else wall_clock()
        """Stamps each response's ``received_at``; the cycle passes its own."""
        self.policy = AddressPolicy.from_settings(settings.allow_networks)
        self._global = asyncio.Semaphore(settings.concurrency)
        self._gates: dict[str, HostGate] = {}
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        self._resolver = GuardedResolver(self.policy, DetachedResolver(threads=s.concurrency))
        connector = aiohttp.TCPConnector(
            limit=s.concurrency,
            limit_per_host=s.per_host,
            resolver=self._resolver,
            ttl_dns_cache=300,
            socket_factory=self._resolver.open_socket,
            ssl=ssl.create_default_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            trust_env=False,
            timeout=aiohttp.ClientTimeout(
                total=None, connect=s.connect_timeout, sock_read=s.read_timeout
            ),
            headers={"User-Agent": user_agent(s), "Accept-Encoding": "gzip, deflate"},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _gate(self, host: str) -> HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = HostGate(self.settings.per_host, self.settings.min_host_interval)
            self._gates[host] = gate
        return gate

    def check_url(self, url: str) -> str:
        """Refuse non-HTTP schemes, non-public IP literals and numeric address spellings
        (``http://2130706433/``) before any connection, at every hop."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError as exc:
            raise FetchError("http_error", f"invalid URL {url!r}: {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise FetchError("blocked_address", f"refusing non-HTTP URL {url} (http/https only)")
        if not host:
            raise FetchError("http_error", f"URL without a host: {url!r}")
        odd = odd_ipv4_spelling(host)
        if odd is not None:
            # Refused whatever the allow-list says: it names addresses in dotted decimal,
            # and no genuine feed spells its address this way.
            raise FetchError(
                "blocked_address",
                f"refusing {url}: host {host} is the IPv4 address {odd} in a "
                "non-standard numeric spelling",
            )
        literal = ip_literal(host)
        if literal is not None and not self.policy.address_allowed(literal):
            raise FetchError(
                "blocked_address",
                f"refusing non-public address {host} in {url}; "
                "add it to collect.allow_networks to allow",
            )
        return host.lower()

    async def fetch(
        self, url: str, *, caching: Caching | None = None, accept: str = FEED_ACCEPT
    ) -> Response:
        """GET ``url`` conditionally, following redirects by hand; raise FetchError on failure.

        Non-2xx final statuses (304, 404, 410, 429...) are returned, not raised:
        what they mean is the caller's decision.
        """
        headers = {"Accept": accept}
        if caching is not None:
            if caching.etag:
                headers["If-None-Match"] = caching.etag
            if caching.last_modified:
                headers["If-Modified-Since"] = caching.last_modified
        remaining = self.settings.total_timeout
        current = url
        seen = [url]
        permanent: str | None = None
        all_permanent = True
        loop = asyncio.get_running_loop()
        for _hop in range(self.settings.max_redirects + 1):
            host = self.check_url(current)
            async with self._gate(host).slot(self._global):
                started = loop.time()
                response = await self._one(current, headers, remaining)
                remaining -= loop.time() - started
            if response.status in REDIRECTS and "location" in response.headers:
                target = urljoin(current, response.headers["location"].strip())
                if urlsplit(target).scheme not in ("http", "https"):
                    raise FetchError(
                        "blocked_address",
                        f"{current} redirects to a non-HTTP URL {target} (refused)",
                        status=response.status,
                    )
                if target in seen:
                    raise FetchError(
                        "http_error",
                        f"redirect loop: {' -> '.join([*seen, target])}",
                        status=response.status,
                    )
                if response.status in PERMANENT and all_permanent:
                    permanent = target
                else:
                    all_permanent = False
                seen.append(target)
                current = target
                continue
            return replace(response, url=current, permanent_url=permanent)
        raise FetchError(
            "http_error",
            f"too many redirects (more than {self.settings.max_redirects}) from {url}",
        )

    async def _one(self, url: str, headers: dict[str, str], remaining: float) -> Response:
        """One request, no redirects, under what is left of the total deadline."""
        assert self._session is not None, "use Fetcher as an async context manager"
        s = self.settings
        try:
            async with asyncio.timeout(max(remaining, 0.001)):
                async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
                    answer = Response(
                        url=url,
                        status=resp.status,
                        headers=_lower_headers(resp.headers),
                        received_at=self.clock(),
                    )
                    if not 200 <= resp.status < 300:
                        return answer
                    return replace(answer, body=await self._read(resp, url))
        except aiohttp.ConnectionTimeoutError:
            host = urlsplit(url).hostname or ""
            if self._resolver is not None and self._resolver.resolving(host):
                raise FetchError(
                    "timeout",
                    f"DNS lookup of {host} for {url} did not finish within the "
                    f"{s.connect_timeout:g}s connect timeout",
                ) from None
            raise FetchError(
                "timeout",
                f"could not connect to {url} within {s.connect_timeout:g}s "
                "(DNS lookup, TCP or TLS handshake)",
            ) from None
        except aiohttp.SocketTimeoutError:
            raise FetchError(
                "timeout", f"{url} sent nothing for {s.read_timeout:g}s (read timeout)"
            ) from None
        except TimeoutError:
            raise FetchError(
                "timeout", f"no complete answer from {url} within the {s.total_timeout:g}s deadline"
            ) from None
        except aiohttp.ClientConnectorCertificateError as exc:
            raise FetchError(
                "tls_error", f"TLS certificate of {url} rejected: {exc.certificate_error}"
            ) from None
        except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
            raise FetchError("tls_error", f"TLS handshake with {url} failed: {exc}") from None
        except aiohttp.ClientConnectorError as exc:
            raise _connector_error(url, exc) from None
        except aiohttp.InvalidURL as exc:
            raise FetchError("http_error", f"invalid URL {url!r}: {exc}") from None
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
            raise FetchError(
                "connection_error",
                f"{url} sent a malformed HTTP response ({protocol_reason(exc)})",
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            detail = str(exc) or type(exc).__name__
            raise FetchError("connection_error", f"connection to {url} failed: {detail}") from None

    async def _read(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        limit = self.settings.max_bytes
        declared = resp.content_length
        if declared is not None and declared > limit:
            raise FetchError(
                "too_large", f"{url} announces {declared} bytes, over the {limit}-byte cap"
            )
        try:
            # Several Content-Encoding headers are one list, applied in order.
            encoding = ", ".join(resp.headers.getall("Content-Encoding", ()))
            decoder = BoundedDecoder(encoding, limit)
            parts: list[bytes] = []
            received = 0
            async for chunk in resp.content.iter_any():
                received += len(chunk)
                if received > limit:
                    raise TooLarge
                parts.append(decoder.feed(chunk))
            parts.append(decoder.flush())
        except TooLarge:
            raise FetchError(
                "too_large", f"body of {url} exceeds the {limit}-byte cap (cut off while reading)"
            ) from None
        except UnsupportedEncoding as exc:
            raise FetchError("http_error", f"cannot decode body of {url}: {exc}") from None
        return b"".join(parts)


_QUOTED = re.compile(r"\n|\bb?['\"]|<")


def protocol_reason(exc: aiohttp.ClientError) -> str:
    """What was wrong with a response, without the bytes aiohttp quotes.

    aiohttp's parser errors quote what they choked on: the "status line" of a
    response that followed a body longer than its Content-Length is the rest of
    that body (hundreds of kilobytes of it). Only the reason before the quote
    is kept, e.g. "Bad status line" or "Got more than 8190 bytes when reading".
    """
    message = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
    reason = _QUOTED.split(str(message), maxsplit=1)[0].strip(" :,=")
    return reason[:200] or type(exc).__name__


def _connector_error(url: str, exc: aiohttp.ClientConnectorError) -> FetchError:
    cause: BaseException | None = exc.os_error
    seen = 0
    while cause is not None and seen < 5:
        if isinstance(cause, BlockedAddressError):
            return FetchError("blocked_address", f"refusing to fetch {url}: {cause}")
        cause = cause.__cause__ or cause.__context__
        seen += 1
    host = exc.host
    reason = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
    if isinstance(exc.os_error, ConnectionRefusedError):
        reason = "connection refused"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FetchError("connection_error", f"cannot resolve host {host} for {url}: {reason}")
    return FetchError(
        "connection_error", f"cannot connect to {host}:{exc.port} for {url}: {reason}"
    )
