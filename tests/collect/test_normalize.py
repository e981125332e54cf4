"""Text normalisation, identities and dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syndicator.collect.dates import parse_date
from syndicator.collect.identity import canonical_link, item_identity
from syndicator.collect.normalize import html_to_text, plain_text, single_line
from syndicator.collect.releases.common import date_line, structure


def test_single_line_collapses_and_cleans() -> None:
    assert single_line(" A\u0301\nB\tC\x00\x0b\u200b D ") == "Á B C D"
    assert single_line("don\x92t") == "don’t"


def test_html_to_text_sanitises_and_keeps_paragraphs() -> None:
    html = (
        "<div><p>One &amp; <b>two</b></p><script>alert(1)</script><style>p{}</style>"
        "<!-- generated 12:00 --><ul><li>a</li><li>b</li></ul>x<br>y</div>"
    )
    assert html_to_text(html, 1000) == "One & two\n\na\n\nb\n\nx\n\ny"


def test_plain_text_limits() -> None:
    text = plain_text("word " * 100, 50)
    assert len(text) <= 50
    assert text.endswith("…")


def test_canonical_link() -> None:
    assert (
        canonical_link("HTTPS://Example.ORG:443/a?b=1&utm_source=x#frag")
        == "https://example.org/a?b=1"
    )
    assert canonical_link("http://example.org:8080") == "http://example.org:8080/"


def test_identity_prefers_guid_then_link_then_title_and_date() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    assert item_identity(" g1 ", "https://x.org/", "T", when) == "guid:g1"
    assert item_identity(None, "https://x.org/a#b", "T", when) == "link:https://x.org/a"
    first = item_identity(None, None, "T", when, "body at 12:00")
    assert first == item_identity(None, None, "T", when, "body at 12:05")
    assert first.startswith("hash:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T08:30:00+02:00", datetime(2024, 5, 1, 6, 30, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("Fri, 16 Nov 2018 10:00:00 GMT", datetime(2018, 11, 16, 10, tzinfo=UTC)),
        ("16 November 2018", datetime(2018, 11, 16, tzinfo=UTC)),
        ("November 16, 2018", datetime(2018, 11, 16, tzinfo=UTC)),
        ("4 juin 2025", datetime(2025, 6, 4, tzinfo=UTC)),
        ("1er décembre 2024", datetime(2024, 12, 1, tzinfo=UTC)),
        ("8 de octubre de 2025", datetime(2025, 10, 8, tzinfo=UTC)),
        ("16. März 2018", datetime(2018, 3, 16, tzinfo=UTC)),
        ("16 ноября 2018 г.", datetime(2018, 11, 16, tzinfo=UTC)),
        ("31 February 2018", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("16 November 2018 - The importance", datetime(2018, 11, 16, tzinfo=UTC)),
        ("Vienna, 3 March 2021 – Text", datetime(2021, 3, 3, tzinfo=UTC)),
        ("Abidjan, 4 juin 2025 – Trente-deux", datetime(2025, 6, 4, tzinfo=UTC)),
        ("Lima, 8 de octubre de 2025 - La", datetime(2025, 10, 8, tzinfo=UTC)),
        ("12 March 2021", datetime(2021, 3, 12, tzinfo=UTC)),
        ("12 people were arrested in 2021", None),
        ("In 16 November 2018 - no", None),
    ],
)
def test_date_line(paragraph: str, expected: datetime | None) -> None:
    assert date_line(paragraph) == expected


def test_structure_further_information_variants() -> None:
    title, body, date, topics = structure(
        "T\n\nBody.\n\nFor further information:\nUNODC on Corruption;\n\nContacts: press@x.org"
    )
    assert title == "T"
    assert body == ("Body.", "Contacts: press@x.org")
    assert date is None
    assert topics == ("UNODC on Corruption",)
