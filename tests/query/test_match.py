"""The one matcher: words, phrases, OR, exclusions, filters, scripts without spaces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syndicator.models import Item, StoredItem, Tagging
from syndicator.query import ItemView, explain, matches, parse

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def view(title: str, body: str = "", **kw: object) -> ItemView:
    return ItemView.of(title, body, kw.pop("source_id", "src"), **kw)  # type: ignore[arg-type]


RELEASE = view(
    "Minister résigns over BRIBERY scandal",
    "The anti-corruption office opened an inquiry into money-laundering. "
    "Football clubs were not involved.",
    topics={"corruption"},
    countries={"BY", "UA"},
    lang="en-GB",
    source_id="unodc",
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bribery", True),
        ("BRIBERY minister", True),
        ("bribe", False),  # words match whole, not as prefixes
        ("resigns", True),  # accents folded on the text's side
        ("RÉSIGNS", True),  # ... and on the query's
        ("corruption", True),  # "anti-corruption" is the words "anti corruption"
        ('"anti corruption office"', True),
        ('"office anti corruption"', False),  # phrases keep their order
        ('"money laundering"', True),
        ("money-laundering", True),
        ('"scandal the"', False),  # no phrase runs from the title into the body
        ("bribery terrorism", False),
        ("terrorism OR bribery", True),
        ("bribery -football", False),
        ("bribery -cricket", True),
        ('bribery -"football clubs"', False),
        ("(terrorism OR inquiry) minister", True),
        ("-(terrorism OR inquiry) minister", False),
        ("topic:corruption", True),
        ("topic:terrorism", False),
        ("country:ua bribery", True),
        ("country:FR bribery", False),
        ("country:FR country:BY", True),  # same filter side by side: either
        ("country:BY lang:fr", False),  # different filters: both
        ("lang:en", True),  # a language stands for its regional forms
        ("lang:en-gb bribery", True),
        ("lang:en-us bribery", False),
        ("source:unodc", True),
        ("source:other OR bribery", True),
        ("bribery -source:unodc", False),
    ],
)
def test_what_matches(query: str, expected: bool) -> None:
    assert matches(parse(query), RELEASE) is expected


CHINESE = view("打击腐败的新措施", "在Apple公司2024年的报告中提到洗钱。", countries={"CN"}, lang="zh")
THAI = view("การต่อต้านการทุจริต", "รัฐบาลไทยประกาศมาตรการใหม่")


@pytest.mark.parametrize(
    ("query", "item", "expected"),
    [
        ("腐败", CHINESE, True),  # inside a longer run of characters
        ("洗钱", CHINESE, True),
        ("腐败 洗钱", CHINESE, True),
        ("恐怖", CHINESE, False),
        ("apple", CHINESE, True),  # a Latin word inside Chinese text is still a word
        ("appl", CHINESE, False),
        ("2024", CHINESE, True),
        ('"apple公司"', CHINESE, True),
        ("腐败 country:CN lang:zh", CHINESE, True),
        ("腐败 -洗钱", CHINESE, False),
        ("ทุจริต", THAI, True),
        ("ไทย", THAI, True),
        ("ทุจริต -ไทย", THAI, False),
    ],
)
def test_scripts_without_spaces_match_inside_words(
    query: str, item: ItemView, expected: bool
) -> None:
    assert matches(parse(query), item) is expected


def test_compatibility_forms_and_case_fold() -> None:
    assert matches(parse("FIFA"), view("ｆｉｆａ statement"))  # full-width letters
    assert matches(parse("strasse"), view("Straße closed"))
    assert matches(parse("Straße"), view("STRASSE closed"))
    assert matches(parse("Łódź"), view("Police in lodz"))


def test_stored_items_are_matched_on_title_and_text() -> None:
    stored = StoredItem(
        id=1,
        item=Item("unodc", "g1", "Seizure in port", summary="cocaine", lang="en", content=""),
        first_seen_at=NOW,
        last_changed_at=NOW,
        taggings=(Tagging("drug-trafficking", 2.0, ()),),
        countries=("EC",),
    )
    assert matches(parse("cocaine topic:drug-trafficking country:EC"), stored)
    with_content = StoredItem(
        id=2,
        item=Item("unodc", "g2", "Seizure", summary="cocaine", content="heroin"),
        first_seen_at=NOW,
        last_changed_at=NOW,
    )
    assert not matches(parse("cocaine"), with_content)  # the content is the text
    assert matches(parse("heroin"), with_content)


def test_explain_names_what_matched() -> None:
    query = parse("(terrorism bribery) OR inquiry OR minister country:BY -football")
    assert explain(query, RELEASE) is None
    query = parse("(terrorism bribery) OR inquiry OR minister country:BY")
    assert explain(query, RELEASE) == ("inquiry", "minister", "country:BY")
    assert explain(parse("terrorism"), RELEASE) is None
