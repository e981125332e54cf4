"""Rendering: structure, headers, escaping, time zones, and a golden digest."""

from __future__ import annotations

import email
import os
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicator.deliver.render import Renderer, display_date, excerpt
from syndicator.deliver.tokens import TokenSigner
from syndicator.models import Item, StoredItem, Subscriber, Tagging
from syndicator.site import item_page
from syndicator.text import safe_url as safe_link

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
SUB = Subscriber(
    "ann@example.org",
    ("corruption", "terrorism"),
    cadence="daily",
    timezone="America/New_York",
    name="Ann Müller",
)
SUB_ZONE = ZoneInfo("America/New_York")


def stored(
    id: int,
    title: str,
    topics: dict[str, float],
    source: str = "osce",
    link: str | None = "https://example.org/x",
    summary: str = "A summary.",
    published_at: datetime | None = None,
) -> StoredItem:
    return StoredItem(
        id=id,
        item=Item(
            source_id=source,
            identity=f"i{id}",
            title=title,
            link=link,
            summary=summary,
            published_at=published_at,
        ),
        first_seen_at=NOW,
        last_changed_at=NOW,
        taggings=tuple(Tagging(t, s, ("evidence",)) for t, s in topics.items()),
    )


@pytest.fixture
def renderer(make_settings) -> Renderer:  # type: ignore[no-untyped-def]
    settings = make_settings(
        delivery={"unsubscribe_mailto": "unsubscribe@example.org", "reply_to": "desk@example.org"}
    )
    return Renderer(settings, TokenSigner("golden-key"))


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert text is not None
    assert page is not None
    return str(text.get_content()), str(page.get_content())


def reparse(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_digest_is_multipart_alternative_text_then_html(renderer: Renderer) -> None:
    items = [stored(1, "Bribery case", {"corruption": 2.0})]
    message = reparse(renderer.render("digest", SUB, items, "<d1@example.org>", NOW).message)
    assert message.get_content_type() == "multipart/alternative"
    types = [p.get_content_type() for p in message.iter_parts()]
    assert types == ["text/plain", "text/html"]
    assert message["From"] == "Syndicator <news@example.org>"
    assert message["To"] == "Ann Müller <ann@example.org>"
    assert message["Reply-To"] == "desk@example.org"
    assert message["Message-ID"] == "<d1@example.org>"
    assert message["Date"] == "Sat, 28 Nov 2026 06:30:00 +0000"
    assert message["Subject"] == "Syndicator daily digest, 28 Nov 2026: 1 new item"
    assert message["List-Id"] == "Syndicator digests <digests.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Precedence"] == "list"
    assert message["Auto-Submitted"] is None


def test_list_unsubscribe_has_a_working_https_link_and_mailto(renderer: Renderer) -> None:
    items = [stored(1, "Bribery case", {"corruption": 2.0})]
    message = reparse(renderer.render("digest", SUB, items, "<d1@example.org>", NOW).message)
    header = str(message["List-Unsubscribe"])
    assert "=?" not in header  # not mangled into encoded words by folding
    https, mailto = (h.strip().strip("<>") for h in header.split(","))
    assert https.startswith("https://news.example.org/unsubscribe?token=")
    assert TokenSigner("golden-key").verify(https.partition("token=")[2]) == "ann@example.org"
    assert mailto == "mailto:unsubscribe@example.org?subject=unsubscribe"
    text, page = parts(message)
    assert https in text
    assert https in page


def test_items_are_grouped_by_topic_in_taxonomy_order_listed_once(renderer: Renderer) -> None:
    items = [
        stored(1, "Attack plot", {"terrorism": 3.0}),
        stored(2, "Bribes for contracts", {"corruption": 2.0}),
        stored(3, "Bribes funding an attack", {"corruption": 1.5, "terrorism": 2.5}),
    ]
    message = renderer.render("digest", SUB, items, "<d2@example.org>", NOW).message
    text, page = parts(message)
    assert text.index("Corruption (1)") < text.index("Terrorism (2)")
    assert text.count("Bribes funding an attack") == 1
    assert "also: Corruption" in text
    assert page.count("Bribes funding an attack") == 1
    assert message["Subject"] == "Syndicator daily digest, 28 Nov 2026: 3 new items"


def test_hostile_title_and_link_are_neutralised(renderer: Renderer) -> None:
    hostile = stored(
        1,
        '<script>alert("x")</script> & <b>bold</b>',
        {"corruption": 2.0},
        link="javascript:alert(1)",
        summary="<img src=x onerror=alert(1)>Real <em>text</em> &amp; more",
    )
    rendered = renderer.render("alert", SUB, [hostile], "<a1@example.org>", NOW)
    text, page = parts(rendered.message)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "javascript:" not in page
    assert "onerror" not in page
    assert "Real text &amp; more" in page
    # The plain-text part is not HTML: no entities in it.
    assert '<script>alert("x")</script> & <b>bold</b>' in text
    assert "Real text & more" in text


def test_header_injection_through_a_title_is_impossible(renderer: Renderer) -> None:
    item = stored(1, "Title\r\nBcc: victim@example.org", {"corruption": 2.0})
    message = reparse(renderer.render("alert", SUB, [item], "<a2@example.org>", NOW).message)
    assert message["Bcc"] is None
    assert "Title Bcc: victim@example.org" in str(message["Subject"])


def test_alert_headers_and_subject(renderer: Renderer) -> None:
    item = stored(7, "Arrests in smuggling ring", {"terrorism": 2.0, "corruption": 1.0})
    message = renderer.render("alert", SUB, [item], "<a3@example.org>", NOW).message
    assert message["Subject"] == "[Syndicator] Terrorism, Corruption: Arrests in smuggling ring"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Precedence"] == "bulk"
    assert message["List-Id"] == "Syndicator alerts <alerts.example.org>"
    with pytest.raises(ValueError, match="exactly one"):
        renderer.render("alert", SUB, [item, item], "<a4@example.org>", NOW)


def test_dates_are_shown_in_the_subscribers_zone() -> None:
    item = stored(1, "t", {}, published_at=datetime(2026, 11, 27, 3, 15, tzinfo=UTC))
    assert display_date(item, SUB_ZONE) == "26 Nov 2026 22:15 EST"
    # A bare date (midnight UTC) is not moved to the previous day in New York.
    dated = stored(2, "t", {}, published_at=datetime(2026, 11, 27, tzinfo=UTC))
    assert display_date(dated, SUB_ZONE) == "27 Nov 2026"


def test_excerpt_and_links() -> None:
    long = "word " * 200
    cut = excerpt(long, 50)
    assert cut.endswith("…")
    assert len(cut) <= 51
    assert excerpt("<p>a</p><p>b</p><script>x()</script>") == "a b"
    assert safe_link("https://ok.example/a?b=1") == "https://ok.example/a?b=1"
    bad_links = [None, "", "javascript:alert(1)", "data:text/html,x", "//no-scheme", "ftp://x/y"]
    bad_links += ["https://ok.example/a\nInjected line", "https://ok.example/a b", "http://x/\x00"]
    for bad in bad_links:
        assert safe_link(bad) is None


def test_render_is_deterministic(renderer: Renderer) -> None:
    """A retried message is the same bytes: boundary and date come from the dispatch."""
    items = [stored(1, "Bribery case", {"corruption": 2.0})]
    one = renderer.render("digest", SUB, items, "<d9@example.org>", NOW).message.as_bytes()
    two = renderer.render("digest", SUB, items, "<d9@example.org>", NOW).message.as_bytes()
    assert one == two


def test_digest_matches_golden_file(renderer: Renderer) -> None:
    """The whole message, checked in (rss2email-style). Set SYNDICATOR_REGEN_GOLDEN=1 to update."""
    items = [
        stored(
            11,
            "OSCE supports anti-corruption training for judges in Central Asia",
            {"corruption": 2.4},
            link="https://www.osce.org/news/anti-corruption-training",
            summary="<p>Judges from five countries met in <b>Almaty</b> to discuss "
            "asset declarations &amp; conflict-of-interest rules.</p>",
            published_at=datetime(2026, 11, 26, 14, 5, tzinfo=UTC),
        ),
        stored(
            12,
            "UNODC report: terrorist financing through cash couriers",
            {"terrorism": 3.1, "corruption": 1.2},
            source="unodc",
            link="https://www.unodc.org/unodc/press/cash-couriers",
            summary="Cash couriers remain a favoured channel. " * 15,
            published_at=datetime(2026, 11, 27, tzinfo=UTC),
        ),
        stored(13, 'Untitled fragment <with> "quotes"', {"terrorism": 1.0}, link=None),
    ]
    message = renderer.render("digest", SUB, items, "<golden-digest@example.org>", NOW).message
    actual = message.as_bytes(policy=message.policy.clone(linesep="\n")).decode("ascii")
    expected_file = GOLDEN / "digest.eml"
    if os.environ.get("SYNDICATOR_REGEN_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        expected_file.write_text(actual, encoding="ascii", newline="\n")
    assert actual == expected_file.read_text(encoding="ascii")


def test_a_dateline_summary_gives_way_to_the_content(renderer: Renderer) -> None:
    item = StoredItem(
        id=1,
        item=Item(
            source_id="osce",
            identity="d",
            title="Release",
            summary="24 February 2026",
            content="24 February 2026 - Analysts from five units met to discuss virtual assets.",
        ),
        first_seen_at=NOW,
        last_changed_at=NOW,
        taggings=(Tagging("corruption", 2.0, ()),),
    )
    text, _ = parts(renderer.render("alert", SUB, [item], "<s@example.org>", NOW).message)
    assert "met to discuss virtual assets" in " ".join(text.split())


def test_digest_topic_headings_link_to_our_topic_pages(make_settings) -> None:  # type: ignore[no-untyped-def]
    """Not to the organisation's page configured as the topic's ``link`` (issue 8)."""
    topics = [
        {"id": "corruption", "title": "Corruption", "link": "https://www.unodc.org/corruption/"},
        {"id": "terrorism", "title": "Terrorism"},
    ]
    renderer = Renderer(make_settings(taxonomy={"topics": topics}), TokenSigner("k"))
    items = [stored(1, "Bribes", {"corruption": 2.0}), stored(2, "Plot", {"terrorism": 2.0})]
    _, page = parts(renderer.render("digest", SUB, items, "<h1@example.org>", NOW).message)
    assert '<a href="https://news.example.org/corruption.html"' in page
    assert '<a href="https://news.example.org/terrorism.html"' in page
    assert "www.unodc.org/corruption" not in page


def test_an_item_without_a_link_links_to_its_own_page(make_settings) -> None:  # type: ignore[no-untyped-def]
    item = stored(5, "From a folder", {"corruption": 2.0}, link=None)
    page_url = f"https://news.example.org/{item_page('osce', 'i5')}"
    renderer = Renderer(make_settings(), TokenSigner("k"))
    for kind in ("digest", "alert"):
        text, page = parts(renderer.render(kind, SUB, [item], f"<{kind}@example.org>", NOW).message)
        assert page_url in text, kind
        assert f'<a href="{page_url}"' in page, kind
    # Without published pages there is no page to link to, and no link at all.
    renderer = Renderer(make_settings(publish={"formats": ["atom"]}), TokenSigner("k"))
    text, page = parts(renderer.render("alert", SUB, [item], "<a@example.org>", NOW).message)
    assert "/items/" not in text
    assert "/items/" not in page
    assert "<a href" not in page.split("<h3", 1)[1].split("</h3>", 1)[0]


def test_digest_lists_an_undated_item_below_the_dated_ones_of_its_day(
    renderer: Renderer,
) -> None:
    seen = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    dated = stored(1, "Dated that morning", {"corruption": 2.0},
                   published_at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    undated = StoredItem(
        id=2,
        item=Item(source_id="osce", identity="u", title="Undated, seen that evening"),
        first_seen_at=seen,
        last_changed_at=seen,
        taggings=(Tagging("corruption", 2.0, ()),),
    )
    text, _ = parts(renderer.render("digest", SUB, [undated, dated], "<o@example.org>", NOW).message)
    assert text.index("Dated that morning") < text.index("Undated, seen that evening")


def test_alert_matches_golden_file(renderer: Renderer) -> None:
    """A whole alert, checked in: a dateline-only summary and no link of its own.
    Message-ID and date are fixed by the caller (and the MIME boundary derives from the
    Message-ID), so nothing volatile needs normalising."""
    item = StoredItem(
        id=21,
        item=Item(
            source_id="unodc",
            identity="releases/2026-02-24-virtual-assets.md",
            title="Financial intelligence units tackle terrorist financing through virtual assets",
            summary="24 February 2026",
            content="24 February 2026\n\nBishkek – Analysts from the financial intelligence "
            "units of five countries met in Bishkek. They examined crypto-asset wallets.\n\n"
            "A second paragraph.",
            published_at=datetime(2026, 2, 24, tzinfo=UTC),
        ),
        first_seen_at=NOW,
        last_changed_at=NOW,
        taggings=(Tagging("terrorism", 3.0, ()), Tagging("corruption", 1.0, ())),
    )
    message = renderer.render("alert", SUB, [item], "<golden-alert@example.org>", NOW).message
    actual = message.as_bytes(policy=message.policy.clone(linesep="\n")).decode("ascii")
    expected_file = GOLDEN / "alert.eml"
    if os.environ.get("SYNDICATOR_REGEN_GOLDEN"):
        expected_file.write_text(actual, encoding="ascii", newline="\n")
    assert actual == expected_file.read_text(encoding="ascii")
    text, _ = parts(message)
    assert "Analysts from the financial intelligence units" in text
    assert "24 February 2026" not in text  # the teaser dropped the dateline
