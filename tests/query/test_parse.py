"""The query language: what parses into what, and where each mistake is reported."""

from __future__ import annotations

import pytest

from syndicator.errors import QuerySyntaxError, SyndicatorError
from syndicator.query import parse
from syndicator.query.syntax import MAX_QUERY_CHARS, All, Any, Filter, Not, Term


def test_words_are_anded_and_or_binds_tighter() -> None:
    root = parse("corruption bribery OR kickback").root
    assert isinstance(root, All)
    first, second = root.nodes
    assert isinstance(first, Term)
    assert first.words == ("corruption",)
    assert isinstance(second, Any)
    assert [n.words for n in second.nodes if isinstance(n, Term)] == [("bribery",), ("kickback",)]


def test_phrases_exclusions_groups_and_filters() -> None:
    root = parse('"Money Laundering" -(sport OR football) country:by lang:pt_BR').root
    assert isinstance(root, All)
    phrase, excluded, country, lang = root.nodes
    assert isinstance(phrase, Term)
    assert phrase.needle == " money laundering "
    assert isinstance(excluded, Not)
    assert isinstance(excluded.node, Any)
    assert country == Filter("country", "BY", 48)
    assert lang == Filter("lang", "pt-br", 56)


def test_words_are_folded_and_split_like_the_text() -> None:
    term = parse("Anti-Corruption").root
    assert isinstance(term, Term)
    assert (term.words, term.substring) == (("anti", "corruption"), False)
    accented = parse("MINISTÈRE").root
    assert isinstance(accented, Term)
    assert accented.words == ("ministere",)


def test_unspaced_scripts_are_substrings() -> None:
    chinese, thai = parse("腐败 คอร์รัปชัน").root.nodes  # type: ignore[union-attr]
    assert isinstance(chinese, Term)
    assert chinese.substring
    assert chinese.needle == "腐败"
    assert isinstance(thai, Term)
    assert thai.substring


def test_same_filters_side_by_side_are_ored_different_ones_anded() -> None:
    root = parse("country:BY corruption country:UA topic:terrorism").root
    assert isinstance(root, All)
    countries, word, topic = root.nodes
    assert countries == Any((Filter("country", "BY", 8), Filter("country", "UA", 30)), 8)
    assert isinstance(word, Term)
    assert topic == Filter("topic", "terrorism", 39)


def test_lower_case_or_is_a_word() -> None:
    root = parse("war or peace").root
    assert isinstance(root, All)
    assert len(root.nodes) == 3


@pytest.mark.parametrize(
    ("query", "position", "reason"),
    [
        ("", 0, "the query is empty"),
        ("   ", 0, "the query is empty"),
        ('fraud "money laundering', 6, "this quote is never closed"),
        ('fraud ""', 6, "these quotes hold nothing to look for"),
        ('fraud " .. "', 6, "these quotes hold nothing to look for"),
        ("fraud OR", 6, '"OR" needs something on its right'),
        ("OR fraud", 0, '"OR" needs something on its left'),
        ("fraud OR OR bribery", 6, '"OR" needs something on its right'),
        ("(fraud OR) bribery", 7, '"OR" needs something on its right'),
        ("-sport", 0, "only exclusions"),
        ("-sport -football", 0, "only exclusions"),
        ("fraud OR -sport", 9, 'each side of "OR" needs something to look for'),
        ("fraud - sport", 6, 'a "-" must touch what it excludes'),
        ("fraud -", 6, 'a "-" must touch what it excludes'),
        ("fraud colour:red", 6, 'unknown filter "colour:"'),
        ("fraud country:", 14, '"country:" needs a value'),
        ("fraud country:XX", 14, 'unknown country code "XX"'),
        ("fraud -country:zz", 15, 'unknown country code "zz"'),
        ("fraud lang:qqq", 11, 'unknown language code "qqq"'),
        ("fraud (bribery", 6, 'this "(" is never closed'),
        ("fraud ()", 6, "nothing to look for here"),
        ("fraud) bribery", 5, 'this ")" closes nothing'),
        ("fraud &&", 6, 'has no letters or digits'),
        ("腐败 country:QQ", 11, 'unknown country code "QQ"'),
        ("x" * (MAX_QUERY_CHARS + 1), MAX_QUERY_CHARS, "at most"),
        (" ".join(["w"] * 51), 100, "at most 50 terms"),
    ],
)
def test_mistakes_are_reported_at_their_position(query: str, position: int, reason: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.position == position
    assert reason in caught.value.reason


def test_message_points_at_the_mistake_with_a_caret() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse('fraud "money')
    assert str(caught.value).splitlines()[1:] == ['  fraud "money', "        ^"]
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, SyndicatorError)


def test_caret_counts_wide_characters_twice() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("腐败 colour:red")
    assert str(caught.value).splitlines()[2] == "  " + " " * 5 + "^"


def test_topics_and_sources_are_checked_when_known() -> None:
    parse("topic:corruption source:unodc", topics={"corruption"}, sources={"unodc"})
    with pytest.raises(QuerySyntaxError) as caught:
        parse("fraud topic:corruptoin", topics={"corruption"})
    assert (caught.value.position, caught.value.reason) == (12, 'unknown topic "corruptoin"')
    with pytest.raises(QuerySyntaxError) as caught:
        parse("source:nope fraud", sources={"unodc"})
    assert caught.value.position == 7
    assert parse("topic:anything").root == Filter("topic", "anything", 6)  # no taxonomy given
