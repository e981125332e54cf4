"""Claims of docs/collection.md pinned here: address classes, future dates, in-process parsing."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from collect_helpers import LONG, NOW, Script, article, listing
from feeds_data import rss_items

from syndicator.collect import collect_sources
from syndicator.collect.feeds import parse_feed
from syndicator.collect.safety import AddressPolicy, BlockedAddressError, GuardedResolver
from syndicator.config import CollectSettings, FeedSource, PageSource

REFUSED = [
    "127.0.0.1",  # loopback
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local (cloud metadata)
    "100.64.0.1",  # CGNAT
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "0.0.0.0",  # unspecified
    "::1",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "fec0::1",  # site-local
    "not-an-address",
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_global_addresses_are_refused(address: str) -> None:
    assert not AddressPolicy().address_allowed(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "2606:4700:4700::1111", "2002:5db8:d70e::1"],  # 6to4 of the first
)
def test_global_addresses_are_allowed(address: str) -> None:
    assert AddressPolicy().address_allowed(address)


def test_allow_list_takes_networks_and_host_names() -> None:
    policy = AddressPolicy.from_settings(["10.0.0.0/8", "127.0.0.1", "Intranet.Example."])
    assert policy.address_allowed("10.9.8.7")
    assert policy.address_allowed("127.0.0.1")
    assert not policy.address_allowed("127.0.0.2")
    assert not policy.address_allowed("192.168.1.1")
    assert policy.host_allowed("intranet.example")


def test_future_dates_are_kept() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Ahead</title><guid>1</guid>"
        b"<pubDate>Fri, 01 Jan 2099 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    [item] = parse_feed(body, {}, "http://x/feed", source_id="s", settings=CollectSettings()).items
    assert item.published_at == datetime(2099, 1, 1, 10, 0, tzinfo=UTC)


def test_parse_workers_0_parses_and_extracts_in_process(
    server: Script, settings: CollectSettings
) -> None:
    server.add("/press", listing(["/press/1"]))
    server.add("/press/1", article("Release one", "2024-01-02", LONG))
    server.add(
        "/feed",
        # RSS 0.91 is not the fast path's: it goes to feedparser, here in-process
        '<rss version="0.91"><channel><title>t</title>'
        "<item><title>Old format</title><link>http://example.org/1</link></item></channel></rss>",
    )
    inline = settings.model_copy(update={"parse_workers": 0})
    page, feed = collect_sources(
        [PageSource(id="p", url=server.url("/press")), FeedSource(id="f", url=server.url("/feed"))],
        {},
        inline,
        NOW,
    )
    assert [i.title for i in page.items] == ["Release one"]
    assert [i.title for i in feed.items] == ["Old format"]


def test_socket_guard_refuses_the_address_about_to_be_connected() -> None:
    """The connector's last check, whatever led aiohttp to the address."""
    guard = GuardedResolver(AddressPolicy.from_settings(["10.0.0.0/8"]))
    tcp = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
        guard.open_socket((*tcp, ("127.0.0.1", 80)))
    guard.open_socket((*tcp, ("10.1.2.3", 80))).close()


def test_allow_listed_host_name_works_for_large_bodies(server: Script) -> None:
    """An allow-listed name may resolve to a non-public address; a big answer (whose
    connection is still open when its headers arrive) must not be refused then."""
    server.add("/feed", rss_items(2000))
    settings = CollectSettings(allow_networks=("localhost",), min_host_interval=0)
    [result] = collect_sources(
        [FeedSource(id="f", url=server.url("/feed", host="localhost"))], {}, settings, NOW
    )
    assert result.status == "ok", result.error_message
    assert len(result.items) == settings.max_entries
