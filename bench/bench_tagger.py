"""Tagger throughput, side by side with two bare scans of the same vocabulary.

Run standalone: ``.venv/bin/python bench/bench_tagger.py [--seconds N]``.

* ``regex``: one compiled regular expression per topic (all its terms, every
  language, word-bounded), ``findall`` over the lower-cased text: the naive way.
* ``aho-corasick``: one automaton of all terms with word-boundary checks and
  nothing else: the floor of any real matcher.
* ``tagger (full)``: :meth:`Tagger.tag` with the language *not* given, so
  detection, normalisation, countries, exclusions, scoring and evidence are all
  included; ``tagger (language given)``: the same with the record's language,
  as when a source declares it.

Documents are the dev set's releases (``../shared/data/dev.jsonl`` beside the
repository) and our own labelled releases (``tests/tagging/data/*.jsonl``, which
add Italian, Portuguese, Polish and Dutch), each padded to about 2 KB with other
releases of its language; else generated text in six languages. All languages
are mixed in one stream and the full tagger detects each one.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import ahocorasick

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syndicator.config import TaxonomySettings  # noqa: E402
from syndicator.tagging import Tagger  # noqa: E402
from syndicator.tagging.matcher import WILDCARDS  # noqa: E402
from syndicator.tagging.vocabulary import load_vocabulary  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev.jsonl"
OWN = sorted((ROOT / "tests" / "tagging" / "data").glob("*.jsonl"))
TOPICS = (
    ("organized-crime", "Organized crime"),
    ("trafficking-in-persons", "Trafficking in persons"),
    ("drug-trafficking", "Drug trafficking"),
    ("corruption", "Corruption"),
    ("terrorism", "Terrorism"),
)
DOC_BYTES = 2000
FILLER = {
    "en": "The meeting in Vienna brought together officials from many countries to discuss",
    "ru": "Совещание в Вене собрало представителей многих стран для обсуждения",
    "uk": "Нарада у Відні зібрала представників багатьох країн для обговорення",
    "fr": "La réunion à Vienne a rassemblé des responsables de nombreux pays pour discuter",
    "es": "La reunión en Viena reunió a funcionarios de muchos países para debatir",
    "de": "Das Treffen in Wien brachte Vertreter vieler Länder zusammen, um zu erörtern",
}


def documents() -> tuple[list[tuple[str, str]], str]:
    """(title, text) pairs of about 2 KB and where they came from."""
    if DEV.exists():
        records = [
            json.loads(line)
            for path in (DEV, *OWN)
            for line in path.read_text("utf-8").splitlines()
            if line
        ]
        docs = []
        for i, record in enumerate(records):
            text = record["text"]
            j = i
            while len(text.encode()) < DOC_BYTES:
                j = (j + 1) % len(records)
                if records[j]["lang"] == record["lang"]:
                    text += "\n\n" + records[j]["text"]
            # Cyrillic letters take two bytes in UTF-8: keep every text near 2 KB.
            chars = DOC_BYTES // 2 if record["lang"] in {"ru", "uk"} else DOC_BYTES
            while len(text[:chars].encode()) > DOC_BYTES * 1.1:  # accented text: 2-byte letters
                chars -= 50
            docs.append((record["title"], text[:chars]))
        langs = ", ".join(sorted({r["lang"] for r in records}))
        return docs, f"{len(docs)} releases ({langs}) padded to ~2 KB"
    rng = random.Random(7)
    vocab = load_vocabulary()
    docs = []
    for lang, filler in FILLER.items():
        terms = [
            t.replace("*", "").replace("~", "")
            for topic in vocab.topics.values()
            for t in topic.terms.get(lang, {})
        ]
        for _ in range(40):
            words: list[str] = []
            while len(" ".join(words).encode()) < DOC_BYTES:
                words += [filler, rng.choice(terms), "."]
            docs.append((filler, " ".join(words)))
    return docs, f"{len(docs)} generated ~2 KB releases in six languages"


def topic_terms() -> dict[str, list[str]]:
    vocab = load_vocabulary()
    return {
        tid: [t for terms in vocab.topics[tid].terms.values() for t in terms] for tid, _ in TOPICS
    }


def regex_scanner() -> Callable[[str, str], int]:
    """One compiled alternation per topic, word-bounded, wildcards as regex."""
    compiled = []
    for terms in topic_terms().values():
        parts = []
        for term in sorted(set(terms), key=len, reverse=True):
            words = []
            for word in term.lower().split():
                if word[-1] in WILDCARDS:
                    words.append(re.escape(word[:-1]) + WILDCARDS[word[-1]])
                else:
                    words.append(re.escape(word))
            parts.append(r"[\s-]+".join(words))
        compiled.append(re.compile(r"\b(?:" + "|".join(parts) + r")\b"))

    def scan(title: str, text: str) -> int:
        lowered = f"{title}\n{text}".lower()
        return sum(len(rx.findall(lowered)) for rx in compiled)

    return scan


def aho_scanner() -> Callable[[str, str], int]:
    """One automaton of every term's literal prefix, with word-boundary checks only."""
    automaton = ahocorasick.Automaton()
    for terms in topic_terms().values():
        for term in terms:
            key = term.lower().rstrip("*~").replace("*", "").replace("~", "")
            automaton.add_word(key, len(key))
    automaton.make_automaton()

    def scan(title: str, text: str) -> int:
        lowered = f"{title}\n{text}".lower()
        size = len(lowered)
        found = 0
        for end, length in automaton.iter(lowered):
            start = end - length + 1
            if (start == 0 or not lowered[start - 1].isalnum()) and (
                end + 1 == size or not lowered[end + 1].isalnum()
            ):
                found += 1
        return found

    return scan


def rate(
    scan: Callable[[str, str], object], docs: Sequence[tuple[str, str]], seconds: float
) -> float:
    """Documents per second, best of repeated passes within ``seconds``."""
    best = 0.0
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        for title, text in docs:
            scan(title, text)
        elapsed = time.perf_counter() - start
        best = max(best, len(docs) / elapsed)
        if time.perf_counter() > deadline:
            return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="time per contender")
    args = parser.parse_args(argv)
    docs, origin = documents()
    size = sum(len(f"{t}\n{x}".encode()) for t, x in docs) / len(docs)
    settings = TaxonomySettings.model_validate(
        {"topics": [{"id": i, "title": t} for i, t in TOPICS]}
    )
    started = time.perf_counter()
    tagger = Tagger.from_settings(settings)
    build = time.perf_counter() - started

    languages = {title: tagger.tag(title, text).lang for title, text in docs}

    def tag(title: str, text: str) -> object:
        return tagger.tag(title, text)

    def tag_given(title: str, text: str) -> object:
        return tagger.tag(title, text, lang=languages[title])

    print(f"documents: {origin}, mean {size:.0f} bytes (UTF-8)")
    print(f"tagger built in {build * 1000:.0f} ms, version {tagger.version}")
    results = {
        "regex per topic": rate(regex_scanner(), docs, args.seconds),
        "aho-corasick + boundaries": rate(aho_scanner(), docs, args.seconds),
        "tagger (full)": rate(tag, docs, args.seconds),
        "tagger (language given)": rate(tag_given, docs, args.seconds),
    }
    for name, value in results.items():
        print(f"{name:<28}{value:>10,.0f} docs/s {value * size / 1e6:>8.1f} MB/s")
    full = results["tagger (full)"]
    print(f"tagger / regex per topic:      {full / results['regex per topic']:.2f}x")
    print(f"tagger / aho-corasick bare:    {full / results['aho-corasick + boundaries']:.2f}x")
    given = results["tagger (language given)"]
    print(f"tagger, language given / regex: {given / results['regex per topic']:.2f}x")
    print(f"tagger, language given / aho:   {given / results['aho-corasick + boundaries']:.2f}x")
    print(
        f"target 10,000 docs/s on one core: detected {'met' if full >= 10_000 else 'NOT met'}, "
        f"given {'met' if given >= 10_000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
