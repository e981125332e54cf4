"""Saved-search matching: the store's pre-filter + the matcher, against a naive loop.

Run standalone (not collected by pytest)::

    .venv/bin/python bench/bench_query.py [--items 100000] [--queries 10000] [--sample 0.01]
    .venv/bin/python bench/bench_query.py --url postgresql+psycopg://postgres@127.0.0.1/test

* ``indexed``: for each query, :func:`syndicator.store.search.matching_items` (the
  search index narrows, :func:`syndicator.query.matches` decides), over the whole
  archive; every query in turn.
* ``naive``: every item read once and prepared (:meth:`ItemView.of_stored`), then
  every query × every item through the same matcher. Timed on a sample of the
  queries (``--sample``) and scaled to all of them; the sampled queries' results are
  checked to be the same both ways.

Items are synthetic but shaped like releases: a title and a body of words drawn,
Zipf-like, from a few hundred common words of English, French, Spanish, German
and Russian plus a long tail of names (people, places, organisations), and a
sixth of them in Chinese without spaces; each with one or two topics, up to two
countries and a language. Queries mix single rare words, two words, phrases
taken from items, OR lists, exclusions, country and topic filters, and Chinese.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, insert, update  # noqa: E402

from syndicator.models import CollectResult, Item  # noqa: E402
from syndicator.query import ItemView, Query, matches, parse  # noqa: E402
from syndicator.store import SqlStore, open_store  # noqa: E402
from syndicator.store import schema as t  # noqa: E402
from syndicator.store.search import matching_items  # noqa: E402

NOW = datetime(2026, 3, 1, tzinfo=UTC)
_COMMON_TEXT = {
    "en": (
        "the of and to in a for on is by with said police minister court government report "
        "new case national security public office year people authorities officials "
        "investigation arrested charged million support law international week statement "
        "according country region former president official"
    ),
    "fr": (
        "le la les de des du et en un une pour dans par sur est police ministre justice "
        "gouvernement enquete rapport affaire national securite public annee personnes "
        "autorites millions soutien droit international semaine"
    ),
    "es": (
        "el la los las de del y en un una para por con es policia ministro justicia "
        "gobierno investigacion informe caso nacional seguridad publico ano personas "
        "autoridades millones apoyo ley internacional semana"
    ),
    "de": (
        "der die das und in zu den mit von ist fur auf polizei minister gericht regierung "
        "bericht fall nationale sicherheit jahr menschen behorden ermittlungen millionen "
        "unterstutzung gesetz internationale woche"
    ),
    "ru": (
        "и в на с по что для не от о полиция министр суд правительство доклад дело "
        "национальной безопасности года люди власти расследование миллионов закон"
    ),
}
COMMON = {lang: text.split() for lang, text in _COMMON_TEXT.items()}
CHINESE = (
    "政府 警方 部长 法院 报告 案件 国家 安全 公共 腐败 "
    "洗钱 贩毒 恐怖 调查 逮捕 国际 支持 法律 声明 地区"
)
TOPICS = "corruption terrorism drug-trafficking organized-crime cybercrime"
COUNTRIES = "BY UA PL FR DE ES RU CN US GB IT NL BR MX CO EC NG KE ZA IN"
SYLLABLES = "ka ro vi men ta li so ne dor ba ru sel ko ma gun tri pe la zu fen"


def tail_words(rng: random.Random, n: int) -> list[str]:
    """Names that do not exist (people, places, organisations): the long tail."""
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choices(SYLLABLES.split(), k=rng.randint(2, 4))))
    return sorted(words)


def zipf(n: int) -> list[float]:
    """Cumulative Zipf weights (``random.choices`` would add them up on every call)."""
    return list(itertools.accumulate(1.0 / (rank + 1) for rank in range(n)))


class Corpus:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tail = tail_words(self.rng, 20_000)
        self.tail_weights = zipf(len(self.tail))
        self.chinese_weights = zipf(len(CHINESE.split()))
        self.common = {w for words in COMMON.values() for w in words}
        self.common_weights = {lang: zipf(len(words)) for lang, words in COMMON.items()}

    def words(self, lang: str, k: int) -> list[str]:
        rng = self.rng
        if lang == "zh":
            return rng.choices(CHINESE.split(), cum_weights=self.chinese_weights, k=k)
        common = COMMON[lang]
        n_tail = max(1, k // 6)
        out = rng.choices(common, cum_weights=self.common_weights[lang], k=k - n_tail)
        out += rng.choices(self.tail, cum_weights=self.tail_weights, k=n_tail)
        rng.shuffle(out)
        return out

    def item(self, n: int) -> tuple[Item, list[str], list[str]]:
        rng = self.rng
        lang = rng.choice(["en", "en", "fr", "es", "de", "ru", "zh"])
        joiner = "" if lang == "zh" else " "
        title = joiner.join(self.words(lang, 8))
        if lang == "zh":  # Chinese releases quote Latin names inside the text
            body = joiner.join(self.words(lang, 60)) + rng.choice(self.tail)
        else:
            body = ". ".join(" ".join(self.words(lang, 12)).capitalize() for _ in range(5))
        topics = rng.sample(TOPICS.split(), rng.randint(1, 2))
        countries = rng.sample(COUNTRIES.split(), rng.randint(0, 2))
        return (
            Item("bench", f"i{n}", title.capitalize(), summary=body, lang=lang),
            topics,
            countries,
        )

    def query(self, sample_item: ItemView) -> str:
        rng = self.rng
        rare = lambda: rng.choice(self.tail[50:5000])  # noqa: E731 - a specific name
        kind = rng.random()
        if kind < 0.35:
            return rare()
        if kind < 0.50:
            return f"{rare()} {rare()}"
        if kind < 0.60:  # a phrase a reader saw in a release, around a name in it
            words = sample_item.text.split()
            names = [n for n, w in enumerate(words) if w.isascii() and w not in self.common]
            if not names:
                return rare()
            at = rng.choice(names)
            return '"' + " ".join(words[max(0, at - 1) : at + 1]) + '"'
        if kind < 0.70:
            return " OR ".join(rare() for _ in range(3))
        if kind < 0.80:
            return f"{rare()} -{rng.choice(COMMON['en'])}"
        if kind < 0.90:
            return f"country:{rng.choice(COUNTRIES.split())} {rare()}"
        if kind < 0.95:
            return f"topic:{rng.choice(TOPICS.split())} {rare()} OR {rare()}"
        return f"{rng.choice(CHINESE.split())} {rare()}"


def fill(store: SqlStore, corpus: Corpus, count: int) -> None:
    batch = 2000
    for start in range(0, count, batch):
        made = [corpus.item(n) for n in range(start, min(count, start + batch))]
        store.apply_collect(
            CollectResult("bench", "ok", items=tuple(item for item, _, _ in made)), NOW
        )
        with store.engine.begin() as conn:  # tags straight in: the tagger is not measured here
            ids = dict(
                conn.execute(
                    t.items.select()
                    .with_only_columns(t.items.c.identity, t.items.c.id)
                    .where(t.items.c.identity.in_([i.identity for i, _, _ in made]))
                ).all()
            )
            conn.execute(
                insert(t.taggings),
                [
                    {"item_id": ids[i.identity], "topic": topic, "score": 2.0, "evidence": []}
                    for i, topics, _ in made
                    for topic in topics
                ],
            )
            conn.execute(
                update(t.items)
                .where(t.items.c.id == bindparam("row"))
                .values(countries=bindparam("codes")),
                [{"row": ids[i.identity], "codes": codes} for i, _, codes in made],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument(
        "--sample", type=float, default=0.01, help="share of queries the naive loop runs"
    )
    parser.add_argument("--url", help="database URL (default: a new SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{folder}/bench.sqlite3"
        store = open_store(url)
        corpus = Corpus(args.seed)
        began = time.perf_counter()
        fill(store, corpus, args.items)
        print(f"stored {store.item_count():,} items in {time.perf_counter() - began:.1f} s")

        began = time.perf_counter()
        views = [ItemView.of_stored(s) for s in store.items_by_id(range(1, args.items + 1))]
        prepare = time.perf_counter() - began
        texts: list[str] = [corpus.query(corpus.rng.choice(views)) for _ in range(args.queries)]
        queries: list[Query] = [parse(q) for q in texts]

        began = time.perf_counter()
        indexed: list[set[int]] = []
        for query in queries:
            indexed.append({s.id for s in matching_items(store, query)})
        indexed_time = time.perf_counter() - began

        sampled = max(1, round(len(queries) * args.sample))
        chosen = corpus.rng.sample(range(len(queries)), sampled)
        ids = [s.id for s in store.items_by_id(range(1, args.items + 1))]
        began = time.perf_counter()
        naive: dict[int, set[int]] = {}
        for q in chosen:
            query = queries[q]
            naive[q] = {i for i, v in zip(ids, views, strict=True) if matches(query, v)}
        naive_sampled = time.perf_counter() - began
        naive_time = prepare + naive_sampled * len(queries) / sampled
        store.close()

    wrong = [texts[q] for q in chosen if naive[q] != indexed[q]]
    matched = sum(len(found) for found in indexed)
    print(
        f"{len(queries):,} queries, {matched:,} matches in all ({matched / len(queries):.1f} each)"
    )
    each = indexed_time / len(queries) * 1000
    print(f"indexed (pre-filter + matcher): {indexed_time:8.1f} s  ({each:.2f} ms a query)")
    print(
        f"naive loop (every item × query): {naive_time:8.1f} s  (read and prepared once: "
        f"{prepare:.1f} s; {sampled} queries timed: {naive_sampled:.1f} s, scaled)"
    )
    print(f"ratio naive / indexed: {naive_time / indexed_time:.0f}×")
    if wrong:
        print(f"MISMATCH between the two ways on {len(wrong)} sampled queries: {wrong[:5]}")
        sys.exit(1)
    print(f"the {sampled} sampled queries match the same items both ways")


if __name__ == "__main__":
    main()
