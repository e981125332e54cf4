"""The tagger: build once from settings, then tag many releases quickly and purely.

Construction reads the vocabulary (the only I/O) and compiles one automaton for
every pattern of every language. :meth:`Tagger.tag` normalises the title and
text, scans them once, scores the matches (see :mod:`.scoring`), adds the
publisher's declared topics, and applies the thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence

from syndicator.config import TaxonomySettings
from syndicator.models import TagResult
from syndicator.tagging.declared import heading_pattern, map_labels, section_labels
from syndicator.tagging.langdetect import detect_language
from syndicator.tagging.matcher import Matcher
from syndicator.tagging.normalize import CYRILLIC_LANGS, normalize
from syndicator.tagging.scoring import Layout, score
from syndicator.tagging.taxonomy import CompiledTaxonomy, compile_taxonomy
from syndicator.tagging.vocabulary import ANY_LANG

TAGGER_VERSION_PREFIX = "kw1"
"""First part of :attr:`Tagger.version`; the rest is the digest of the compiled taxonomy."""
_JOIN = " . "
_DETECT_CHARS = 300
_DECLARED = "further-information"


class Tagger:
    """Multi-label threat-topic tagger with evidence for every score."""

    def __init__(self, taxonomy: CompiledTaxonomy) -> None:
        self._tax = taxonomy
        # One automaton per document language holds only the patterns that mean
        # something in it: a smaller automaton scans markedly faster.
        self._matchers = {
            lang: Matcher(
                taxonomy.patterns, only={i for i, role in enumerate(roles) if role is not None}
            )
            for lang, roles in taxonomy.roles.items()
        }
        self._heading = heading_pattern(taxonomy.headings)
        self._thresholds = dict(enumerate(taxonomy.thresholds))
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
        if not lang:
            lang = detect_language(f"{title}\n{text[:_DETECT_CHARS]}")
        elif len(lang) != 2 or not lang.islower():
            lang = lang.lower()[:2]
        key = lang if lang is not None and lang in tax.roles else ANY_LANG
        cyrillic = lang in CYRILLIC_LANGS
        norm_title = normalize(title, cyrillic)
        combined = f"{norm_title}{_JOIN}{normalize(text, cyrillic)}"
        layout = Layout(title_end=len(norm_title), body_start=len(norm_title) + len(_JOIN))
        scored = score(combined, self._matchers[key].scan(combined), tax.roles[key], layout, tax)
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
        floor = max(scores.values(), default=0.0) * tax.scoring.relative
        thresholds = self._thresholds
        ids = tax.topic_ids
        ordered = sorted(scores)
        return TagResult(
            topics=tuple(
                ids[t]
                for t in ordered
                if t in declared or (scores[t] >= thresholds[t] and scores[t] >= floor)
            ),
            scores={ids[t]: round(scores[t], 3) for t in ordered},
            evidence={ids[t]: scored.evidence[t] for t in ordered if t in scored.evidence},
            lang=lang,
            countries=scored.countries,
        )
