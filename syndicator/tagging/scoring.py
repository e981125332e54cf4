"""From raw matches to per-topic scores, each with the evidence that produced it.

The score of a topic is a sum of term contributions::

    contribution = weight × field factor × agenda factor × repeat decay

* weight: the term's weight for that topic in that language (negative allowed);
* field factor: title, lead (first ``lead_chars`` of the body), body, or late
  (after ``late_chars``): a title or lead mention says what the release is about,
  a passing mention at the end does not;
* agenda factor: hits in a sentence that names ``min_topics`` or more topics
  (a mandate list, "organized crime, trafficking, drugs, corruption and
  terrorism") count only ``factor`` each;
* repeat decay: the n-th occurrence of the same term counts ``decay**(n-1)``, so
  a release that repeats one word does not outscore one that uses the topic's
  whole vocabulary.

Before that, overlapping matches are resolved: the longest match wins (so the
neutral phrase "drug prices" swallows "drug", "wildlife trafficking" swallows
"trafficking"), and an exclusion cancels the topics it names in any match it
overlaps. A topic's *network terms* (words that only name a criminal group, see
``NetworkRule``) count ``support`` times when an action word (dismantled,
arrested, charged...) shares their sentence, and ``secondary`` times when none
does and the release is chosen for one of the rule's ``yield_to`` topics: the
annotators give organised crime to a drug or trafficking case only when the
group itself is acted on. Afterwards, document contexts (fiction, sport doping,
homicide research...) multiply the scores of their topics when enough of their
words occur.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Any

from syndicator.tagging.matcher import Span
from syndicator.tagging.taxonomy import CompiledTaxonomy, Role


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the title ends and the body starts in the combined normalised text."""

    title_end: int
    body_start: int


@dataclass(slots=True)
class Scored:
    """Raw topic scores (by topic index) and their evidence, before thresholds."""

    scores: dict[int, float] = field(default_factory=dict)
    evidence: dict[int, list[str]] = field(default_factory=dict)
    countries: tuple[str, ...] = ()
    has_section: bool = False
    """A "Further information" heading occurs (the tagger then reads the raw lines)."""


_STOPS = (". ", "! ", "? ")
"""What ends a sentence (the title is joined to the body with " . ")."""
_NO_TOPICS: frozenset[int] = frozenset()
_FACTOR = itemgetter(0)
_LINE = itemgetter(1)
_NO_HITS: frozenset[int] = frozenset()
_SIGNED: dict[float, str] = {}
"""Contribution → its evidence form ("+2.5"); zeros (which may be signed) are not kept."""
_SIGNED_MAX = 4096

# (factor, field name, start, end, damped, cancelled topics, topics whose action
# word shares its sentence) of one occurrence
_Occurrence = tuple[float, str, int, int, bool, frozenset[int], frozenset[int]]


_STOP_FINDERS = {mark: re.compile(re.escape(mark)) for mark in _STOPS}


class _Sentences:
    """Which sentence a match starts in, from the offsets of every stop, found when first asked.

    A stop lies between two matches starting at ``low`` ≤ ``high`` exactly when their
    sentence numbers differ: a stop is two characters, the second a space, and no
    match starts on a space, so none straddles a match's first letter. One regular
    expression pass per stop mark present (a literal search in C) finds the stops;
    each number is then one ``bisect`` in C, and the action words are indexed by
    sentence once, so no test is repeated per pair of matches.
    """

    __slots__ = ("_cues", "_firsts", "_number", "_text", "_unions")

    def __init__(self, text: str, cues: Sequence[tuple[int, frozenset[int]]]) -> None:
        self._text = text
        self._cues = cues
        self._number: Callable[[int], int] | None = None
        self._firsts: dict[int, int] | None = None
        self._unions: dict[int, frozenset[int]] = {}

    def number(self) -> Callable[[int], int]:
        """The function giving the number of stops before an offset (a sentence number)."""
        number = self._number
        if number is None:
            text = self._text
            stops = [m.start() for m in _STOP_FINDERS[". "].finditer(text)]
            for mark in _STOPS[1:]:
                if mark[0] in text:  # rare: merge the other marks' stops
                    stops.extend(m.start() for m in _STOP_FINDERS[mark].finditer(text))
                    stops.sort()
            number = self._number = partial(bisect_left, stops)
        return number

    def _index_cues(self) -> dict[int, int]:
        number = self.number()
        firsts: dict[int, int] = {}
        unions = self._unions
        for at, topics in self._cues:
            sentence = number(at)
            if sentence not in firsts:
                firsts[sentence] = at  # cues are in text order: the first one
                unions[sentence] = topics
            else:
                unions[sentence] = unions[sentence] | topics
        self._firsts = firsts
        return firsts

    def first_cue(self, sentence: int) -> int:
        """Offset of the first action word in ``sentence``, or -1."""
        firsts = self._firsts
        if firsts is None:
            firsts = self._index_cues()
        return firsts.get(sentence, -1)

    def cue_topics(self, sentence: int) -> frozenset[int]:
        """The topics of the action words in ``sentence``."""
        if self._firsts is None:
            self._index_cues()
        return self._unions.get(sentence, _NO_TOPICS)


def _listed_hits(
    sentences: _Sentences,
    topical: Sequence[tuple[int, int, Role]],
    title_end: int,
    min_topics: int,
) -> set[int]:
    """Indexes (in ``topical``) of body hits in a sentence naming ``min_topics`` topics.

    Only called when the body names that many topics at all. One walk over the
    body hits, in text order, grouping them by sentence. A sentence whose topic
    terms follow an action word ("dismantled", "arrested", "charged",
    "operação"...) describes one case whose crimes it names, not a mandate list,
    and is not damped: only a word before the first topic term counts, the verb
    that governs the list ("dismantled a network that...", "charged with
    corruption, ..."), not a later phrase ("members of society").
    """
    listed: set[int] = set()
    current: list[int] = []
    topics: set[int] = set()
    current_sentence = -1
    low = 0
    number = sentences.number()
    for index, (start, _, role) in enumerate(topical):
        if start < title_end:
            continue
        sentence = number(start)
        if sentence != current_sentence:
            if len(topics) >= min_topics and not 0 <= sentences.first_cue(current_sentence) <= low:
                listed.update(current)
            current = []
            topics = set()
            current_sentence = sentence
            low = start
        current.append(index)
        topics |= role.positive
    if len(topics) >= min_topics and not 0 <= sentences.first_cue(current_sentence) <= low:
        listed.update(current)
    return listed


def score(
    text: str,
    spans: list[Span],
    roles: Sequence[Role | None],
    layout: Layout,
    tax: CompiledTaxonomy,
) -> Scored:
    """Scores and evidence for one document; pure (but sorts ``spans`` in place).

    ``spans`` come from :meth:`Matcher.spans` with ids that index ``roles`` and
    rank patterns by specificity, so one plain sort puts them in text order,
    longest first, the more specific pattern first on equal spans.

    Written for speed, as it runs once per release: one sorted pass resolves
    overlaps and collects countries and context words; occurrences are then
    grouped by term (a term's weights apply to all its occurrences at once, so the
    repeat decay is computed once per term, not once per term and topic), and
    only then are evidence lines built, one per term and topic.
    """
    return score_at(text, spans, roles, layout.title_end, layout.body_start, tax)


def score_at(
    text: str,
    spans: list[Span],
    roles: Sequence[Role | None],
    title_end: int,
    body_start: int,
    tax: CompiledTaxonomy,
) -> Scored:
    """:func:`score` with the layout given as two offsets (what the tagger calls)."""
    spans.sort()
    cfg = tax.scoring
    # (start, end, role) of topical matches no longer match contains
    topical: list[tuple[int, int, Role]] = []
    exclusions: list[tuple[int, int, frozenset[int]]] = []
    body_topics: set[int] = set()
    places: dict[str, float] = {}
    context_terms: dict[int, set[str]] = {}
    cues: list[tuple[int, frozenset[int]]] = []
    has_section = False
    topic_reach = place_reach = -1
    for start, neg_end, rank in spans:
        role = roles[rank]
        if role is None:
            continue
        if role.topical:
            if -neg_end > topic_reach:
                topic_reach = -neg_end
                topical.append((start, topic_reach, role))
                if role.positive and start >= title_end:
                    body_topics |= role.positive
                if role.excludes:
                    exclusions.append((start, topic_reach, role.excludes))
            if role.plain:
                continue  # the usual term: no country, context, action word or heading
        if role.country is not None and -neg_end > place_reach:
            place_reach = -neg_end
            places[role.country] = places.get(role.country, 0.0) + (
                2.0 if start < title_end else 1.0
            )
        if role.context >= 0:
            context_terms.setdefault(role.context, set()).add(text[start:-neg_end])
        if role.cue:
            cues.append((start, role.cue))
        if role.marker:
            has_section = True
    result = Scored(
        # dict order is first-mention order, and sorted() is stable
        countries=(
            tuple(sorted(places, key=lambda c: -places[c]))
            if len(places) > 1
            else tuple(places)
        ),
        has_section=has_section,
    )
    if not topical:
        return result
    min_topics = cfg.agenda.min_topics
    sentences: _Sentences | None = None  # made when first needed
    listed: Collection[int] = _NO_HITS
    if len(body_topics) >= min_topics:
        sentences = _Sentences(text, cues)
        listed = _listed_hits(sentences, topical, title_end, min_topics)
    fields = cfg.fields
    title_factor = fields.title
    lead_factor = fields.lead
    body_factor = fields.body
    late_factor = fields.late
    lead_end = body_start + cfg.lead_chars
    late_start = body_start + cfg.late_chars
    agenda_factor = cfg.agenda.factor
    # role key → [role, occurrence, occurrence, ...]
    grouped: dict[str, list[Any]] = {}
    for number, (start, end, role) in enumerate(topical):
        if not role.weights:
            continue
        if start < title_end:
            field_name, factor = "title", title_factor
        elif start < lead_end:
            field_name, factor = "lead", lead_factor
        elif start >= late_start:
            field_name, factor = "late", late_factor
        else:
            field_name, factor = "body", body_factor
        damped = False
        if listed and number in listed:
            factor *= agenda_factor
            damped = True
        cancelled = _NO_TOPICS
        if exclusions:
            for x_start, x_end, excluded in exclusions:
                if x_start < end and start < x_end:
                    cancelled = cancelled | excluded
        supported = _NO_TOPICS
        if role.network and cues:
            if sentences is None:
                sentences = _Sentences(text, cues)
            supported = role.network & sentences.cue_topics(sentences.number()(start))
        occurrence = (factor, field_name, start, end, damped, cancelled, supported)
        group = grouped.get(role.key)
        if group is None:
            grouped[role.key] = [role, occurrence]
        else:
            group.append(occurrence)
    decay = cfg.repeat_decay
    scores = result.scores
    lines: dict[int, list[tuple[float, str]]] = {}
    agenda_note = f", agenda ×{agenda_factor:g}"
    networks = tax.networks
    bare: dict[int, float] = {}  # topic → contribution of network terms never acted on
    signed = _SIGNED
    for group in grouped.values():
        role = group[0]
        if len(group) == 2:  # one occurrence: the common case
            only = group[1]
            items: list[_Occurrence] = [only]
            shared = only[0]
            cancels = bool(exclusions and only[5])
        else:
            items = group[1:]
            items.sort(key=_FACTOR, reverse=True)  # stable: equal factors keep text order
            shared = _decayed(items, decay)
            cancels = bool(exclusions) and any(c[5] for c in items)
        head = ""  # the evidence line up to the contribution, the same for every topic
        for topic, weight in role.weights:
            kept = items
            if cancels:
                kept = [c for c in items if topic not in c[5]]
                if not kept:
                    continue
                total = weight * _decayed(kept, decay)
                head = ""
            else:
                total = weight * shared
            acted = ""
            if topic in role.network:
                if any(topic in c[6] for c in kept):
                    total *= networks[topic].support
                    acted = f", acted on ×{networks[topic].support:g}"
                else:
                    bare[topic] = bare.get(topic, 0.0) + total
            scores[topic] = scores.get(topic, 0.0) + total
            first = kept[0]
            if not head:
                surface = text[first[2] : first[3]]
                shown = surface if surface == role.key else f'{surface}" ~ "{role.term}'
                if len(kept) > 1:
                    head = f'{first[1]}:"{shown}" ×{len(kept)} ({role.lang}, '
                else:
                    head = f'{first[1]}:"{shown}" ({role.lang}, '
            # the contribution as "+2.5": formatting a float costs more than a lookup
            contribution = signed.get(total) if total else None
            if contribution is None:
                contribution = f"{total:+.1f}"
                if total and len(signed) < _SIGNED_MAX:
                    signed[total] = contribution
            if first[4]:
                line = f"{head}{contribution}{agenda_note}{acted})"
            else:
                line = f"{head}{contribution}{acted})"
            size = total if total >= 0 else -total
            entries = lines.get(topic)
            if entries is None:
                lines[topic] = [(size, line)]
            else:
                entries.append((size, line))
    evidence = result.evidence
    max_evidence = cfg.max_evidence
    for topic, entries in lines.items():
        if len(entries) > 1:
            entries.sort(key=_FACTOR, reverse=True)
            evidence[topic] = list(map(_LINE, entries[:max_evidence]))
        else:
            evidence[topic] = [entries[0][1]]
    if bare:
        _yield_networks(result, bare, tax)
    if context_terms:
        _apply_contexts(result, context_terms, tax)
    return result


def _yield_networks(result: Scored, bare: dict[int, float], tax: CompiledTaxonomy) -> None:
    """Scale network terms never acted on by ``secondary`` where a ``yield_to`` topic is met.

    ``bare`` holds, per topic, the contribution of its network terms that no action word
    supported. Every decision reads the scores before any yield is applied.
    """
    scores = result.scores
    yields: list[tuple[int, float, list[int]]] = []
    for topic, value in bare.items():
        yield_to = sorted(tax.networks[topic].yield_to)
        mains = [t for t in yield_to if scores.get(t, 0.0) >= tax.thresholds[t]]
        if mains and value > 0:
            yields.append((topic, value, mains))
    for topic, value, mains in yields:
        secondary = tax.networks[topic].secondary
        scores[topic] -= value * (1.0 - secondary)
        names = ", ".join(tax.topic_ids[t] for t in mains)
        result.evidence[topic].append(
            f"secondary:network ×{secondary:g} (groups named, not acted on, in a {names} release)"
        )


def _apply_contexts(
    result: Scored, context_terms: dict[int, set[str]], tax: CompiledTaxonomy
) -> None:
    """Multiply the scores of a context's topics when enough of its words occur (rule order)."""
    scores = result.scores
    for c_index in sorted(context_terms):
        terms = context_terms[c_index]
        rule = tax.contexts[c_index]
        if len(terms) < rule.min_hits:
            continue
        quoted = ", ".join(f'"{t}"' for t in sorted(terms))
        for topic in rule.topics:
            if topic in scores:
                scores[topic] *= rule.factor
                result.evidence[topic].append(f"context:{rule.name} ×{rule.factor:g} ({quoted})")


def _decayed(items: Sequence[_Occurrence], decay: float) -> float:
    """Sum of the occurrences' factors (strongest first), the n-th counting decay**(n-1)."""
    if len(items) == 1:
        return items[0][0]
    total = 0.0
    weight = 1.0
    for item in items:
        total += item[0] * weight
        weight *= decay
    return total
