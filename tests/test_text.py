"""Text hygiene: what XML cannot carry, excerpts, paragraphs, links a browser would run."""

from __future__ import annotations

import pytest

from syndicator import text


def test_clean_strips_characters_xml_forbids_and_c1_controls() -> None:
    dirty = "a\x00b\x0bc\x1fd\x7fe\x85f\ufffeg\ud800h\ti\nj\rk é €"
    assert text.clean(dirty) == "abcdefgh\ti\nj\rk é €"


def test_one_line_collapses_whitespace() -> None:
    assert text.one_line("  A\n\n  title\t with\x0b gaps ") == "A title with gaps"


def test_paragraphs_split_on_blank_lines_and_join_wrapped_lines() -> None:
    body = "First line\nwrapped.\r\n\r\nSecond.\n   \n\n\nThird."
    assert text.paragraphs(body) == ("First line wrapped.", "Second.", "Third.")


def test_excerpt_keeps_short_text_and_cuts_long_text_at_a_word() -> None:
    assert text.excerpt("Short text.") == "Short text."
    long = "word " * 200
    cut = text.excerpt(long, 50)
    assert len(cut) <= 50
    assert cut.endswith("…")
    assert cut.removesuffix("…").split() == ["word"] * len(cut.removesuffix("…").split())


def test_paragraphs_html_escapes_source_markup() -> None:
    html = text.paragraphs_html(("a <script>x</script> & b", "c"))
    assert html == "<p>a &lt;script&gt;x&lt;/script&gt; &amp; b</p>\n<p>c</p>"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.unodc.org/a?b=1#c", "https://www.unodc.org/a?b=1#c"),
        ("http://osce.org/x", "http://osce.org/x"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("/relative/path", None),
        ("https://exa mple.org/", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url_allows_only_absolute_http_links(url: str | None, expected: str | None) -> None:
    assert text.safe_url(url) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Plain title", "Plain title"),
        ("a\r\nBcc: x@y.org", "a Bcc: x@y.org"),
        ("a\x85b\u2028c\u2029d\x0be\x0cf\x1cg", "a b c d e f g"),
        ("Brib\u200dery\u200b \u202ering\u202c \u200fnow\u200e\ufeff", "Bribery ring now"),
        ("=?utf-8?q?=0D=0ABcc:_x@y.org?=", "= ?utf-8?q?=0D=0ABcc:_x@y.org?="),
        ("==?=?x", "== ?= ?x"),
        ("=\u200b?utf-8?q?x?=", "= ?utf-8?q?x?="),  # removing a character joins nothing
        ("=\x00?utf-8?q?x?=", "= ?utf-8?q?x?="),
        ("Коррупция  и\tотмывание", "Коррупция и отмывание"),
    ],
)
def test_header_value_leaves_nothing_to_break_decode_or_hide(value: str, expected: str) -> None:
    assert text.header_value(value) == expected


def test_header_value_cuts_at_the_limit() -> None:
    cut = text.header_value("=?x?q?y?= " + "word " * 100, 40)
    assert len(cut) == 40
    assert cut.startswith("= ?x?q?y?= word")
    assert cut.endswith("…")


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("OSCE Newsroom <newsroom@osce.example.org>", "OSCE Newsroom"),
        ("newsroom@osce.example.org (OSCE Newsroom)", "OSCE Newsroom"),
        ('"Doe, Jane" <jane@example.org>', "Doe, Jane"),
        ("Jane Doe jane@example.org", "Jane Doe"),
        ("UNODC Press Office", "UNODC Press Office"),
        ("newsroom@osce.example.org", None),
        ("<newsroom@osce.example.org>", None),
        ("  ", None),
        (None, None),
    ],
)
def test_author_name_keeps_the_name_and_drops_the_address(raw: str | None, name: str | None) -> None:
    assert text.author_name(raw) == name
