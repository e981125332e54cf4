"""Fit per-topic thresholds to labelled releases (the one thing learned from data).

Weights stay hand-written, so every tag remains explainable by its terms; only
the score a topic needs is fitted, topic by topic, to maximise F1 on the given
records. Ties go to the threshold nearest the configured one, so a flat F1
landscape (common on a few hundred records) does not drift. Judge the result
with :func:`syndicator.tagging.evaluate.cross_validate`, never on the records
it was fitted to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from syndicator.config import TaxonomySettings
from syndicator.tagging.tagger import Tagger

if TYPE_CHECKING:
    from syndicator.tagging.evaluate import LabelledRecord

DEFAULT_GRID = tuple(x / 4 for x in range(8, 41))
"""Candidate thresholds: 2.0 to 10.0 in steps of 0.25."""


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def _quality(pairs: Sequence[tuple[bool, float]], threshold: float) -> float:
    """F1 of choosing every record whose score reaches ``threshold``."""
    tp = sum(1 for gold, s in pairs if gold and s >= threshold)
    fp = sum(1 for gold, s in pairs if not gold and s >= threshold)
    fn = sum(1 for gold, s in pairs if gold and s < threshold)
    return _f1(tp, fp, fn)


def fit_thresholds(
    settings: TaxonomySettings,
    records: Sequence[LabelledRecord],
    grid: Sequence[float] = DEFAULT_GRID,
) -> TaxonomySettings:
    """``settings`` with each topic's threshold set to the F1-best one on ``records``."""
    tagger = Tagger.from_settings(settings)
    results = [
        (set(r.labels), tagger.tag(r.title, r.text, r.lang, r.declared_topics)) for r in records
    ]
    topics = []
    for topic, current in zip(settings.topics, tagger.taxonomy.thresholds, strict=True):
        pairs = [(topic.id in gold, result.scores.get(topic.id, 0.0)) for gold, result in results]
        ranked = [(_quality(pairs, t), -abs(t - current), t) for t in grid]
        best = max(ranked)[2]
        topics.append(topic.model_copy(update={"threshold": best}))
    return settings.model_copy(update={"topics": tuple(topics)})
