"""Saved searches over the store: the pre-filter never misses what the matcher matches.

Run on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm); what matches is decided by the
one pure matcher, so both backends must give the same items as matching every item.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from syndicator.models import CollectResult, Item, TagResult
from syndicator.query import matches, parse, prefilter
from syndicator.store import SqlStore, open_store
from syndicator.store.schema import SCHEMA_VERSION
from syndicator.store.search import matching_items
from syndicator.store.search_index import TABLE

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# (source, title, summary, content, lang, topics, countries)
CORPUS = [
    ("unodc", "Minister resigns over bribery scandal", "Bribes paid.", "", "en", ["corruption"], ["BY"]),
    ("unodc", "Anti-corruption office opens inquiry", "", "An inquiry into money-laundering.", "en-GB", ["corruption"], ["UA"]),
    ("unodc", "Money laundering ring dismantled", "Laundering of money", "", "en", ["organized-crime"], ["UA", "PL"]),
    ("unodc", "Le ministère de la Justice révèle", "Blanchiment d'argent à Paris.", "", "fr", ["corruption"], ["FR"]),
    ("unodc", "MINISTERE: nouvelle enquête", "Corruption présumée", "", "fr-FR", [], ["FR"]),
    ("interpol", "Straße der Korruption", "Bestechung in München", "", "de", ["corruption"], ["DE"]),
    ("interpol", "Police in Łódź seize cocaine", "Kokaina", "", "pl", ["drug-trafficking"], ["PL"]),
    ("interpol", "打击腐败的新措施", "在Apple公司2024年的报告中提到洗钱。", "", "zh", ["corruption"], ["CN"]),
    ("interpol", "中国政府发布反恐声明", "恐怖主义", "", "zh-CN", ["terrorism"], ["CN"]),
    ("interpol", "การต่อต้านการทุจริต", "รัฐบาลไทยประกาศมาตรการใหม่", "", "th", ["corruption"], ["TH"]),
    ("interpol", "東京で麻薬密輸", "コカインを押収", "", "ja", ["drug-trafficking"], ["JP"]),
    ("interpol", "서울에서 부패 수사", "검찰이 발표했다", "", "ko", ["corruption"], ["KR"]),
    ("unodc", "Торговля людьми: новое дело", "Задержаны подозреваемые в Москве", "", "ru", ["trafficking-in-persons"], ["RU"]),
    ("unodc", "Terrorism financing case", "Funds went to a terrorist cell.", "", "en", ["terrorism"], []),
    ("unodc", "Football club fined for bribery", "The club paid.", "", "en", ["corruption"], ["GB"]),
    ("unodc", "A to Z of crime", "Item a is short.", "Full text: a b c.", None, [], []),
    ("unodc", "ｆｉｆａ statement", "FIFA said nothing", "", "en", [], ["CH"]),
    ("unodc", "Cocaine", "", "", "en", ["drug-trafficking"], ["EC"]),
    ("unodc", "Ringing phones", "A ring of bells", "", "en", [], []),
    ("unodc", "100% sure_thing", "under_score and 50% off", "", "en", [], []),
]

QUERIES = [
    "bribery",
    "bribe",
    "BRIBERY -football",
    '"money laundering"',
    "money-laundering",
    "laundering money",
    "ring",
    "ring OR cocaine",
    "ministere",
    "MINISTÈRE justice",
    "blanchiment",
    "strasse",
    "Straße",
    "lodz",
    "腐败",
    "腐",
    "洗钱 apple",
    "apple",
    "2024",
    "恐怖",
    "ทุจริต",
    "ไทย",
    "麻薬",
    "コカイン",
    "부패",
    "торговля",
    "москве",
    "fifa",
    "a",
    '"a b c"',
    "z",
    "100",
    "sure thing",
    "under_score",
    "country:FR",
    "country:UA country:PL",
    "country:CN -恐怖",
    "lang:fr",
    "lang:zh 腐败 OR 恐怖",
    "lang:en-gb",
    "topic:corruption country:FR",
    "topic:terrorism OR topic:drug-trafficking",
    "source:interpol corruption OR korruption OR 腐败",
    "(bribery OR inquiry) -(football OR club)",
    "terrorism OR terrorist",
    "inquiry OR country:PL",
    "nothing-like-this",
]


def fill(store: SqlStore) -> dict[int, int]:
    """Store and tag the corpus; corpus index → item id."""
    for source in ("unodc", "interpol"):
        items = tuple(
            Item(source, f"id{n}", title, summary=summary, content=content, lang=lang)
            for n, (src, title, summary, content, lang, _, _) in enumerate(CORPUS)
            if src == source
        )
        store.apply_collect(CollectResult(source_id=source, status="ok", items=items), NOW)
    ids: dict[int, int] = {}
    for stored in store.items_needing_tags("v1"):
        n = int(stored.item.identity[2:])
        ids[n] = stored.id
        topics, countries = CORPUS[n][5], CORPUS[n][6]
        store.save_tags(
            stored.id,
            TagResult(tuple(topics), dict.fromkeys(topics, 2.0), {}, None, tuple(countries)),
            "v1",
            NOW,
        )
    return ids


@pytest.mark.parametrize("query_text", QUERIES)
def test_prefilter_finds_every_match_on_both_backends(store: SqlStore, query_text: str) -> None:
    fill(store)
    query = parse(query_text)
    every = store.items_by_id(range(1, 100))
    expected = {s.id for s in every if matches(query, s)}
    candidates = {s.id for s in store.candidate_items(prefilter(query), limit=1000)}
    assert expected <= candidates
    assert {s.id for s in matching_items(store, query)} == expected
    assert {s.id for s in matching_items(store, query, batch=2)} == expected  # paging


def test_queries_find_what_a_reader_expects(store: SqlStore) -> None:
    ids = fill(store)

    def found(query_text: str) -> set[int]:
        return {s.id for s in matching_items(store, parse(query_text))}

    assert found("bribery -football") == {ids[0]}
    assert found('"money laundering"') == {ids[1], ids[2]}
    assert found("ministere") == {ids[3], ids[4]}
    assert found("腐败") == {ids[7]}
    assert found("apple") == {ids[7]}
    assert found("ทุจริต") == {ids[9]}
    assert found("country:UA country:PL") == {ids[1], ids[2], ids[6]}
    assert found("topic:corruption country:FR") == {ids[3]}
    assert found("lang:fr") == {ids[3], ids[4]}


def test_prefilter_narrows_the_candidates(store: SqlStore) -> None:
    """The index is used: a rare word's candidates are not the whole archive."""
    ids = fill(store)
    for query_text, most in (("blanchiment", 1), ("洗钱", 1), ("country:TH", 1), ("bribery OR 부패", 3)):
        candidates = store.candidate_items(prefilter(parse(query_text)), limit=1000)
        assert 0 < len(candidates) <= most, query_text
    assert len(ids) == len(CORPUS)


def test_since_and_limit(store: SqlStore) -> None:
    fill(store)
    later = NOW + timedelta(hours=2)
    store.apply_collect(
        CollectResult(source_id="unodc", status="ok", items=(Item("unodc", "new", "Bribery again"),)),
        later,
    )
    query = parse("bribery")
    assert len(matching_items(store, query)) == 3
    (newest,) = matching_items(store, query, since=later)
    assert newest.item.identity == "new"
    assert [s.item.identity for s in matching_items(store, query, limit=1, batch=1)] == ["new"]


def test_changed_text_is_reindexed_and_forgotten_sources_leave_the_index(store: SqlStore) -> None:
    fill(store)
    changed = Item("unodc", "id0", "Minister resigns over embezzlement", summary="Funds gone.")
    result = CollectResult(source_id="unodc", status="ok", items=(changed,))
    assert store.apply_collect(result, NOW + timedelta(hours=1)).updated == 1
    assert [s.item.identity for s in matching_items(store, parse("embezzlement"))] == ["id0"]
    assert store.candidate_items(prefilter(parse("bribes"))) == []
    store.forget_source("interpol")
    assert store.candidate_items(prefilter(parse("腐败 OR strasse"))) == []
    with store.engine.connect() as conn:
        left = conn.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar_one()
    assert left == store.item_count()


def test_version_7_database_gets_its_items_indexed(store_url: str) -> None:
    first = open_store(store_url)
    ids = fill(first)
    with first.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {TABLE}"))
        conn.execute(text("UPDATE meta SET value = '7' WHERE key = 'schema_version'"))
    first.close()
    migrated = open_store(store_url)
    try:
        assert migrated.schema_version == SCHEMA_VERSION
        found = matching_items(migrated, parse("腐败 OR ministere"))
        assert {s.id for s in found} == {ids[3], ids[4], ids[7]}
    finally:
        migrated.close()
