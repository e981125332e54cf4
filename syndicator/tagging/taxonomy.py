"""Compile the vocabulary file and the operator's settings into one frozen taxonomy.

Everything the tagger needs at tag time is decided here, once: which patterns go
into the automaton, what each one means in each language (topic weights,
exclusions, context, country), the thresholds, and a digest of all of it. The
digest is the tagger version the store compares to decide what to re-tag, so
any change of a term, weight or threshold in YAML or config changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from syndicator.config import TaxonomySettings, TopicSettings
from syndicator.errors import TaggingError
from syndicator.tagging.matcher import literal_length
from syndicator.tagging.normalize import normalize
from syndicator.tagging.vocabulary import (
    ANY_LANG,
    NetworkRule,
    Scoring,
    Vocabulary,
    load_countries,
    load_demonyms,
    load_vocabulary,
)

ALGORITHM = "3"
"""Bump when the scoring code changes meaning, so stored tags are recomputed."""
_CYRILLIC_ENDINGS = set("аяоеиыьйуюіїє")
_INFLECTED = {"ru", "uk"}
_POLISH_ENDINGS = set("aeoyiąę")


@dataclass(frozen=True, slots=True)
class Role:
    """What one pattern means in one document language."""

    term: str
    lang: str
    weights: tuple[tuple[int, float], ...] = ()
    excludes: frozenset[int] = frozenset()
    context: int = -1
    country: str | None = None
    marker: bool = False
    """The heading of a "Further information" section."""
    specificity: int = 0
    """Letters before the first wildcard: breaks ties between matches of the same span."""
    key: str = ""
    """The normalised term, to tell evidence whether the text matched it verbatim."""
    positive: frozenset[int] = frozenset()
    """Topics this pattern counts for (positive weight), for the agenda rule."""
    topical: bool = False
    """It has weights or exclusions, so it takes part in the overlap resolution."""
    network: frozenset[int] = frozenset()
    """Topics for which this term only names a criminal group (see ``NetworkRule``)."""
    cue: frozenset[int] = frozenset()
    """Topics for which this pattern is an action word on such a group."""
    plain: bool = False
    """Topical and nothing else (no country, context, action word or heading), so the
    scorer's first pass can skip the other checks; False is always safe."""


@dataclass(frozen=True, slots=True)
class ContextRule:
    name: str
    factor: float
    min_hits: int
    topics: frozenset[int]


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """A topic's compiled :class:`~syndicator.tagging.vocabulary.NetworkRule`."""

    support: float
    secondary: float
    yield_to: frozenset[int]


@dataclass(frozen=True, slots=True)
class CompiledTaxonomy:
    """The taxonomy ready for matching: patterns, their roles per language, the knobs."""

    topic_ids: tuple[str, ...]
    thresholds: tuple[float, ...]
    scoring: Scoring
    patterns: tuple[str, ...]
    roles: Mapping[str, tuple[Role | None, ...]]
    """Document language (a vocabulary language, or ``*`` for any other) → role per pattern."""
    contexts: tuple[ContextRule, ...]
    aliases: tuple[tuple[str, ...], ...]
    """Per topic: normalised labels and link fragments that declare it."""
    headings: tuple[str, ...]
    """Headings of a "Further information" section, as written."""
    digest: str
    networks: Mapping[int, NetworkSpec] = field(default_factory=dict)
    """Topic index → its network rule, for the topics that have one."""


@dataclass(slots=True)
class _Entry:
    lang: str
    term: str
    weights: dict[int, float] = field(default_factory=dict)
    excludes: set[int] = field(default_factory=set)
    context: int = -1
    country: str | None = None
    marker: bool = False
    network: set[int] = field(default_factory=set)
    cue: set[int] = field(default_factory=set)


def country_terms(name: str, lang: str) -> list[str]:
    """Patterns for a country name, with case endings for Russian and Ukrainian."""
    if lang == "pl":
        # Kolumbia → Kolumbii, Kolumbię; Pakistan → Pakistanu, Pakistanie
        last = name.split()[-1]
        if len(last) < 5 or not last.isalpha():
            return [name]
        if last[-1].casefold() in _POLISH_ENDINGS:
            return [name, name[:-1] + "+"]
        return [name + "~"]
    if lang not in _INFLECTED:
        return [name] if lang != "de" or name.endswith("s") else [name, name + "s"]
    words = name.split()
    last = words[-1]
    if len(last) < 5 or not last.isalpha():
        return [name]
    if last[-1].casefold() not in _CYRILLIC_ENDINGS:
        return [" ".join([*words[:-1], last + "~"])]  # Казахстан → Казахстана
    # Данія → Данії, Данією; the bare stem ("дані", data) must not match.
    return [name, " ".join([*words[:-1], last[:-1] + "+"])]


class _Builder:
    def __init__(self, topic_ids: tuple[str, ...]) -> None:
        self.index = {t: i for i, t in enumerate(topic_ids)}
        self.entries: dict[str, dict[str, _Entry]] = defaultdict(dict)

    def entry(self, term: str, lang: str) -> _Entry:
        key = normalize(term).strip()
        if not key:
            raise TaggingError(f"empty term in language {lang!r}")
        per_lang = self.entries[key]
        if lang not in per_lang:
            per_lang[lang] = _Entry(lang=lang, term=term)
        return per_lang[lang]

    def roles(self, lang: str) -> tuple[Role | None, ...]:
        """Role per pattern for documents in ``lang``; ``*`` means a language we lack."""
        out: list[Role | None] = []
        for key, per_lang in self.entries.items():
            if lang == ANY_LANG:
                chosen = list(per_lang.values())
            else:
                chosen = [e for code, e in per_lang.items() if code in (lang, ANY_LANG)]
            out.append(_merge(key, chosen) if chosen else None)
        return tuple(out)


def _merge(key: str, entries: list[_Entry]) -> Role:
    """One role from the entries of several languages for the same normalised ``key``.

    A language's own weight replaces the ``*`` one. Where several languages give the
    term a weight (only for releases in a language without vocabulary, which use every
    language's terms), the highest counts, so the order of the vocabulary file never
    matters; evidence then names the last of those languages in code order.
    """
    entries = sorted(entries, key=lambda e: (e.lang != ANY_LANG, e.lang))
    weights: dict[int, float] = {}
    specific: dict[int, float] = {}
    excludes: set[int] = set()
    context = -1
    country = None
    marker = False
    network: set[int] = set()
    cue: set[int] = set()
    for e in entries:
        marker = marker or e.marker
        network |= e.network
        cue |= e.cue
        if e.lang == ANY_LANG:
            weights.update(e.weights)
        else:
            for topic, weight in e.weights.items():
                specific[topic] = max(weight, specific.get(topic, weight))
        excludes |= e.excludes
        context = e.context if e.context >= 0 else context
        country = e.country or country
    weights.update(specific)
    main = entries[-1]
    topical = bool(weights or excludes)
    return Role(
        term=main.term,
        lang=main.lang,
        weights=tuple(sorted(weights.items())),
        excludes=frozenset(excludes),
        context=context,
        country=country,
        marker=marker,
        specificity=literal_length(key),
        key=key,
        positive=frozenset(t for t, w in weights.items() if w > 0),
        topical=topical,
        network=frozenset(network & set(weights)),
        cue=frozenset(cue),
        plain=topical and context < 0 and country is None and not marker and not cue,
    )


def _aliases(topic: TopicSettings, vocab_declared: tuple[str, ...]) -> tuple[str, ...]:
    labels = {topic.id.replace("-", " "), topic.title, *vocab_declared, *topic.declared}
    if topic.link is not None:
        path = (topic.link.path or "").strip("/").split("/")
        labels.update(p for p in path if len(p) > 4 and p not in {"index.html", "unodc"})
    return tuple(sorted({normalize(label).strip() for label in labels if label.strip()}))


def compile_taxonomy(settings: TaxonomySettings) -> CompiledTaxonomy:
    """Merge the vocabulary file with the configured topics and compile it."""
    vocab = load_vocabulary(settings.vocabulary)
    return compile_vocabulary(vocab, settings, load_countries(), load_demonyms())


def compile_vocabulary(
    vocab: Vocabulary,
    settings: TaxonomySettings,
    countries: Mapping[str, Mapping[str, list[str]]],
    demonyms: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> CompiledTaxonomy:
    """Pure part of :func:`compile_taxonomy`, given already-loaded data."""
    topic_ids = settings.ids
    builder = _Builder(topic_ids)
    default_threshold = settings.threshold or vocab.scoring.threshold
    thresholds: list[float] = []
    aliases: list[tuple[str, ...]] = []
    networks: dict[int, NetworkRule] = {}
    for i, topic in enumerate(settings.topics):
        builtin = vocab.topics.get(topic.id)
        table: dict[str, dict[str, float]] = defaultdict(dict)
        excludes: dict[str, list[str]] = defaultdict(list)
        if builtin is not None:
            for lang, terms in builtin.terms.items():
                table[lang].update(terms)
            for lang, phrases in builtin.exclude.items():
                excludes[lang].extend(phrases)
        for lang, terms in topic.terms.items():
            table[lang].update(terms)
        excludes[ANY_LANG].extend(topic.exclude)
        for lang, terms in table.items():
            for term, weight in terms.items():
                builder.entry(term, lang).weights[i] = weight
        for lang, phrases in excludes.items():
            for phrase in phrases:
                builder.entry(phrase, lang).excludes.add(i)
        if builtin is not None and builtin.network is not None:
            rule = builtin.network
            generic = {normalize(t).strip() for t in rule.terms}
            for lang, terms in table.items():
                for term in terms:
                    if normalize(term).strip() in generic:
                        builder.entry(term, lang).network.add(i)
            for lang, phrases in rule.cues.items():
                for phrase in phrases:
                    builder.entry(phrase, lang).cue.add(i)
            networks[i] = rule
        threshold = topic.threshold or (builtin.threshold if builtin else None)
        thresholds.append(threshold or default_threshold)
        aliases.append(_aliases(topic, builtin.declared if builtin else ()))
    every = set(range(len(topic_ids)))
    for lang, phrases in vocab.neutral.items():
        for phrase in phrases:
            builder.entry(phrase, lang).excludes.update(every)
    contexts: list[ContextRule] = []
    for c_index, (name, ctx) in enumerate(sorted(vocab.contexts.items())):
        scope = (
            frozenset(builder.index[t] for t in ctx.topics if t in builder.index)
            if ctx.topics
            else frozenset(every)
        )
        contexts.append(ContextRule(name, ctx.factor, ctx.min_hits, scope))
        for lang, phrases in ctx.terms.items():
            for phrase in phrases:
                builder.entry(phrase, lang).context = c_index
    for code, per_lang in countries.items():
        for lang, names in per_lang.items():
            for name in names:
                for term in country_terms(name, lang):
                    builder.entry(term, lang).country = code
    for code, per_lang in (demonyms or {}).items():
        for lang, demonym_patterns in per_lang.items():
            for pattern in demonym_patterns:
                builder.entry(pattern, lang).country = code
    for heading in vocab.further_information:
        builder.entry(heading, ANY_LANG).marker = True
    roles = {lang: builder.roles(lang) for lang in (*vocab.languages, ANY_LANG)}
    patterns = tuple(builder.entries)
    digest_source: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "vocabulary": vocab.model_dump(mode="json"),
        "topics": [t.model_dump(mode="json") for t in settings.topics],
        "threshold": settings.threshold,
        "countries": countries,
        "demonyms": demonyms or {},
    }
    blob = json.dumps(digest_source, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return CompiledTaxonomy(
        topic_ids=topic_ids,
        thresholds=tuple(thresholds),
        scoring=vocab.scoring,
        patterns=patterns,
        roles=roles,
        contexts=tuple(contexts),
        aliases=tuple(aliases),
        headings=vocab.further_information,
        digest=hashlib.sha256(blob).hexdigest()[:16],
        networks={
            i: NetworkSpec(
                support=rule.support,
                secondary=rule.secondary,
                yield_to=frozenset(builder.index[t] for t in rule.yield_to if t in builder.index),
            )
            for i, rule in networks.items()
        },
    )
