"""The tagger: build once from settings, then tag many releases quickly and purely.

Construction reads the vocabulary (the only I/O) and compiles one automaton per
document language (and one for all languages). :meth:`Tagger.tag` reads the
script of the raw text, normalises the title and text, finishes language
detection on the normalised prefix, scans the text once with that language's
automaton, scores the matches (see :mod:`.scoring`), adds the publisher's
declared topics, and applies the thresholds. It runs at about 12,000 releases of
2 KB per second on one core (docs/tagging.md, bench/bench_tagger.py), so every
step avoids work it does not need: no per-word loops in Python except over hits.
"""

from __future__ import annotations

from collections.abc import Sequence

from syndicator.config import TaxonomySettings
from syndicator.models import TagResult
from syndicator.tagging.declared import heading_pattern, map_labels, section_labels
from syndicator.tagging.langdetect import SAMPLE_CHARS, latin_language, script_language
from syndicator.tagging.matcher import Matcher
from syndicator.tagging.normalize import CYRILLIC_LANGS, normalize
from syndicator.tagging.scoring import score_at
from syndicator.tagging.taxonomy import CompiledTaxonomy, compile_taxonomy
from syndicator.tagging.vocabulary import ANY_LANG

TAGGER_VERSION_PREFIX = "kw1"
"""First part of :attr:`Tagger.version`; the rest is the digest of the compiled taxonomy."""
_JOIN = " . "
_JOIN_SIZE = len(_JOIN)
_DECLARED = "further-information"


class Tagger:
    """Multi-label threat-topic tagger with evidence for every score."""

    def __init__(self, taxonomy: CompiledTaxonomy) -> None:
        self._tax = taxonomy
        # Patterns are ranked by specificity (letters before a wildcard), so that
        # sorting matches by (start, -end, rank) resolves ties without a key function.
        count = len(taxonomy.patterns)
        specificity = [0] * count
        for roles in taxonomy.roles.values():
            for i, role in enumerate(roles):
                if role is not None and role.specificity > specificity[i]:
                    specificity[i] = role.specificity
        order = sorted(range(count), key=lambda i: (-specificity[i], i))
        rank = [0] * count
        for position, index in enumerate(order):
            rank[index] = position
        # One automaton per document language holds only the patterns that mean
        # something in it: a smaller automaton scans markedly faster.
        # lang → (matcher, roles by rank), looked up once per release
        self._by_lang = {
            lang: (
                Matcher(
                    taxonomy.patterns,
                    only={i for i, role in enumerate(roles) if role is not None},
                    ids=rank,
                ),
                tuple(roles[i] for i in order),
            )
            for lang, roles in taxonomy.roles.items()
        }
        self._heading = heading_pattern(taxonomy.headings)
        self._thresholds = taxonomy.thresholds
        self._relative = taxonomy.scoring.relative
        self.version = f"{TAGGER_VERSION_PREFIX}-{taxonomy.digest}"
        """Changes whenever vocabulary, weights or thresholds change, so the store re-tags."""

    @classmethod
    def from_settings(cls, settings: TaxonomySettings) -> Tagger:
        """Compile the configured taxonomy (built-in or ``settings.vocabulary``) once."""
        return cls(compile_taxonomy(settings))

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return self._tax.topic_ids

    @property
    def taxonomy(self) -> CompiledTaxonomy:
        return self._tax

    def tag(
        self,
        title: str,
        text: str,
        lang: str | None = None,
        declared_topics: Sequence[str] = (),
    ) -> TagResult:
        """Topics, scores, evidence, language and countries of one release."""
        tax = self._tax
        detect = not lang
        if lang:
            if len(lang) != 2 or not lang.islower():
                lang = lang.lower()[:2]
            cyrillic = lang in CYRILLIC_LANGS
        else:
            # The script is read from the raw text; the function words from the
            # normalised text the scan needs anyway (see .langdetect).
            lang = script_language(f"{title} {text[:SAMPLE_CHARS]}")
            cyrillic = lang in CYRILLIC_LANGS
        norm_title = normalize(title, cyrillic)
        norm_text = normalize(text, cyrillic)
        if detect and lang is None:
            lang = latin_language(f"{norm_title} {norm_text[:SAMPLE_CHARS]}")
        matcher, roles = self._by_lang.get(lang or ANY_LANG) or self._by_lang[ANY_LANG]
        combined = f"{norm_title}{_JOIN}{norm_text}"
        title_end = len(norm_title)
        scored = score_at(
            combined, matcher.spans(combined), roles, title_end, title_end + _JOIN_SIZE, tax
        )
        scores = scored.scores
        declared: dict[int, list[str]] = {}
        if declared_topics or scored.has_section:
            labels = list(declared_topics)
            if self._heading is not None and scored.has_section:
                labels.extend(section_labels(text, self._heading))
            declared = map_labels(labels, tax.aliases)
            for topic, topic_labels in declared.items():
                scores[topic] = scores.get(topic, 0.0) + tax.scoring.declared_weight
                scored.evidence.setdefault(topic, [])[:0] = [
                    f'{_DECLARED}:"{label}"' for label in topic_labels
                ]
        thresholds = self._thresholds
        ids = tax.topic_ids
        evidence = scored.evidence
        chosen: list[str] = []
        shown: dict[str, float] = {}
        lines: dict[str, list[str]] = {}
        floor = max(scores.values()) * self._relative if scores and self._relative else 0.0
        for t in sorted(scores):
            value = scores[t]
            topic_id = ids[t]
            if t in declared or (value >= thresholds[t] and value >= floor):
                chosen.append(topic_id)
            shown[topic_id] = round(value, 3)
            if t in evidence:
                lines[topic_id] = evidence[t]
        return TagResult(
            topics=tuple(chosen),
            scores=shown,
            evidence=lines,
            lang=lang,
            countries=scored.countries,
        )
