"""Which network addresses the collector may talk to (no SSRF by default).

A feed URL comes from configuration, but redirects and DNS answers come from
the outside world: a public name can resolve to 127.0.0.1 or to a cloud
metadata address. So the check is made on the addresses actually used, at
every hop: IP literals are checked before the request, :class:`GuardedResolver`
filters what DNS returns before aiohttp connects, and its
:meth:`~GuardedResolver.open_socket` (the connector's socket factory) checks
the very address each socket is about to connect to, so no request is ever
sent to a refused address, whatever path led there. Only global unicast
addresses pass, unless allow-listed in ``CollectSettings.allow_networks``.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import ipaddress
import re
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiohttp import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddressError(OSError):
    """A host resolved only to addresses we refuse to connect to."""


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Global addresses only, plus the allow-listed networks and host names."""

    networks: tuple[IPNetwork, ...] = ()
    hostnames: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, allow: Iterable[str]) -> AddressPolicy:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for entry in allow:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                names.add(entry.strip().lower().rstrip("."))
        return cls(tuple(networks), frozenset(names))

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hostnames

    def address_allowed(self, address: str | IPAddress) -> bool:
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        if any(ip in net for net in self.networks if net.version == ip.version):
            return True
        if isinstance(ip, ipaddress.IPv6Address):
            # An IPv4 address inside IPv6 (::ffff:10.0.0.1, 6to4 2002:0a00:0001::) reaches
            # that IPv4 host: judge it as such.
            embedded = ip.ipv4_mapped or ip.sixtofour
            if embedded is not None:
                return self.address_allowed(embedded)
            if ip.is_site_local:  # fec0::/10, deprecated but still routed inside some sites
                return False
        return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")


def odd_ipv4_spelling(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host names in a legacy numeric spelling, else None.

    ``2130706433``, ``0x7f000001``, ``017700000001``, ``127.1`` and ``0177.0.0.1``
    all mean 127.0.0.1 to the C library (``inet_aton``, which ``getaddrinfo``
    uses), but neither :mod:`ipaddress` nor an allow-list written in dotted
    decimal recognises them: they are the classic way to slip an internal
    address past an address filter. We ask ``inet_aton`` itself, so we read
    them exactly as a connect would. Standard dotted decimal is not "odd".
    """
    if not _NUMERIC_HOST.fullmatch(host) or ip_literal(host) is not None:
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host.removesuffix(".")))
    except (OSError, ValueError):
        return None


class DetachedResolver(AbstractResolver):
    """getaddrinfo in threads of our own, which a cycle does not wait for at its end.

    Give it as many threads as fetches may run at once (the Fetcher passes
    ``concurrency``): lookups waiting for a thread count against the connect
    timeout, so with a slow DNS server and too few threads, fetches queued
    behind other lookups would time out though their own lookup is quick.
    Threads are started only when needed.

    aiohttp's ThreadedResolver uses the event loop's default executor, and
    ``asyncio.run`` waits for that executor's threads before returning: on a
    machine whose DNS server is unreachable, one stuck lookup would hold the
    whole cycle long after its connect timeout. Our threads are abandoned
    instead (``shutdown(wait=False)``) and end when the lookup gives up.
    """

    def __init__(self, threads: int = 8) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="syndicator-dns")

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        lookup = functools.partial(
            socket.getaddrinfo, host, port, family, socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG
        )
        infos = await loop.run_in_executor(self._executor, lookup)
        results: list[ResolveResult] = []
        for fam, _, proto, _, address in infos:
            results.append(
                ResolveResult(
                    hostname=host,
                    host=str(address[0]).split("%", 1)[0],
                    port=int(address[1]),
                    family=fam,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                )
            )
        if not results:
            raise OSError(None, f"DNS lookup of {host} returned no address")
        return results

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class GuardedResolver(AbstractResolver):
    """Resolve with the system resolver, then drop every address the policy refuses.

    It also knows which lookups are still running, so that a connect timeout
    can say "the DNS lookup did not finish" rather than blame TCP or TLS
    (aiohttp shields lookups, so they outlive the request that timed out).
    """

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else DetachedResolver()
        self._running: collections.Counter[str] = collections.Counter()
        self._vouched: set[str] = set()
        """Addresses of allow-listed host names, which may be non-public."""

    def resolving(self, host: str) -> bool:
        """Whether a lookup of ``host`` has started and not finished."""
        return self._running[host.lower()] > 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        key = host.lower()
        self._running[key] += 1
        try:
            results = await self._inner.resolve(host, port, family)
        finally:
            self._running[key] -= 1
            if self._running[key] <= 0:
                del self._running[key]
        if self._policy.host_allowed(host):
            self._vouched.update(r["host"] for r in results)
            return results
        kept = [r for r in results if self._policy.address_allowed(r["host"])]
        if not kept:
            shown = ", ".join(sorted({r["host"] for r in results}))
            raise BlockedAddressError(
                f"{host} resolves only to non-public address(es) {shown}; "
                "add them to collect.allow_networks to allow"
            )
        return kept

    def open_socket(self, addr_info: AddrInfoType) -> socket.socket:
        """The connector's socket factory: refuse to connect to an address the policy refuses.

        The last check, on the address the socket is about to connect to (after
        DNS, whatever the path), and before a single byte of the request is sent.
        """
        family, type_, proto, _, sockaddr = addr_info
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in self._vouched and not self._policy.address_allowed(address):
            raise BlockedAddressError(
                f"refusing to connect to non-public address {address}; "
                "add it to collect.allow_networks to allow"
            )
        return socket.socket(family=family, type=type_, proto=proto)

    async def close(self) -> None:
        await self._inner.close()
