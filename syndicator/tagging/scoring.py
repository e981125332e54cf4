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
overlaps. Afterwards, document contexts (fiction, sport doping...) multiply the
scores of their topics when enough of their words occur.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from syndicator.tagging.matcher import Hit
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


_STOP = re.compile(r"[.!?] ")


def score(
    text: str,
    hits: Sequence[Hit],
    roles: Sequence[Role | None],
    layout: Layout,
    tax: CompiledTaxonomy,
) -> Scored:
    """Scores and evidence for one document; pure.

    Written for speed, as it runs once per release: one sorted pass resolves
    overlaps, fields and sentences; a second applies exclusions and the agenda
    rule and groups contributions by term; only then are evidence lines built.
    """
    found: list[tuple[int, int, int, int, Role]] = []
    for index, start, end in hits:
        role = roles[index]
        if role is not None:
            found.append((start, -end, -role.specificity, index, role))
    found.sort()
    cfg = tax.scoring
    title_end = layout.title_end
    # (start, end, role, sentence) of topical matches no longer match contains
    topical: list[tuple[int, int, Role, int]] = []
    sentence_topics: dict[int, set[int]] = {}
    places: dict[str, float] = {}
    context_terms: dict[int, set[str]] = {}
    has_section = False
    topic_reach = place_reach = -1
    sentence = previous = 0
    search = _STOP.search
    for start, neg_end, _, _, role in found:
        end = -neg_end
        if role.marker:
            has_section = True
        if role.context >= 0:
            context_terms.setdefault(role.context, set()).add(text[start:end])
        if role.country is not None and end > place_reach:
            place_reach = end
            bonus = 2.0 if start < title_end else 1.0
            places[role.country] = places.get(role.country, 0.0) + bonus
        if (role.weights or role.excludes) and end > topic_reach:
            topic_reach = end
            if start > previous and search(text, previous, start) is not None:
                sentence += 1
            previous = start
            topical.append((start, end, role, sentence))
            if role.positive and start >= title_end:
                known = sentence_topics.get(sentence)
                if known is None:
                    sentence_topics[sentence] = set(role.positive)
                else:
                    known |= role.positive
    result = Scored(
        # dict order is first-mention order, and sorted() is stable
        countries=tuple(sorted(places, key=lambda c: -places[c])),
        has_section=has_section,
    )
    if not topical:
        return result
    min_topics = cfg.agenda.min_topics
    listed = {n for n, topics in sentence_topics.items() if len(topics) >= min_topics}
    exclusions = [(s, e, r.excludes) for s, e, r, _ in topical if r.excludes]
    fields = cfg.fields
    lead_end = layout.body_start + cfg.lead_chars
    late_start = layout.body_start + cfg.late_chars
    agenda_factor = cfg.agenda.factor
    grouped: dict[tuple[int, str], list[tuple[float, str, int, int, bool, Role]]] = {}
    for start, end, role, number in topical:
        if not role.weights:
            continue
        cancelled: set[int] = set()
        for x_start, x_end, excluded in exclusions:
            if x_start < end and start < x_end:
                cancelled |= excluded
        if start < title_end:
            field_name, factor = "title", fields.title
        elif start < lead_end:
            field_name, factor = "lead", fields.lead
        elif start >= late_start:
            field_name, factor = "late", fields.late
        else:
            field_name, factor = "body", fields.body
        damped = number in listed and start >= title_end
        if damped:
            factor *= agenda_factor
        for topic, weight in role.weights:
            if topic not in cancelled:
                entry = (weight * factor, field_name, start, end, damped, role)
                group = grouped.get((topic, role.key))
                if group is None:
                    grouped[(topic, role.key)] = [entry]
                else:
                    group.append(entry)
    lines: dict[int, list[tuple[float, str]]] = {}
    decay = cfg.repeat_decay
    scores = result.scores
    for (topic, _), items in grouped.items():
        if len(items) > 1:
            items.sort(key=lambda c: -abs(c[0]))
            total = sum(c[0] * decay**i for i, c in enumerate(items))
            count = f" ×{len(items)}"
        else:
            total = items[0][0]
            count = ""
        scores[topic] = scores.get(topic, 0.0) + total
        _, field_name, start, end, damped, role = items[0]
        surface = text[start:end]
        shown = surface if surface == role.key else f'{surface}" ~ "{role.term}'
        note = f", agenda ×{agenda_factor:g}" if damped else ""
        line = f'{field_name}:"{shown}"{count} ({role.lang}, {total:+.1f}{note})'
        lines.setdefault(topic, []).append((abs(total), line))
    for topic, entries in lines.items():
        if len(entries) > 1:
            entries.sort(key=lambda e: -e[0])
        result.evidence[topic] = [line for _, line in entries[: cfg.max_evidence]]
    for c_index, terms in context_terms.items():
        rule = tax.contexts[c_index]
        if len(terms) < rule.min_hits:
            continue
        quoted = ", ".join(f'"{t}"' for t in sorted(terms))
        for topic in rule.topics:
            if topic in scores:
                scores[topic] *= rule.factor
                result.evidence[topic].append(f"context:{rule.name} ×{rule.factor:g} ({quoted})")
    return result
