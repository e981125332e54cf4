"""Measure the tagger against labelled releases: P/R/F1 per topic, averages, errors.

``syndicator eval FILE.jsonl`` prints :func:`format_report` of :func:`evaluate`.
Labels in the development file use underscores (``organized_crime``); they are
normalised to the taxonomy's hyphenated ids. :func:`cross_validate` gives honest
out-of-fold figures for anything fitted to labelled data (here: per-topic
thresholds, see :func:`fit_thresholds`), because figures on the data a setting
was fitted to flatter it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from syndicator.errors import TaggingError
from syndicator.jsonl import BadLine, read_objects
from syndicator.models import TagResult
from syndicator.tagging.tagger import Tagger
from syndicator.tagging.tuning import fit_thresholds

__all__ = [
    "EvalReport",
    "LabelledRecord",
    "RecordError",
    "TopicStats",
    "cross_validate",
    "evaluate",
    "fit_thresholds",
    "format_report",
    "load_labelled_jsonl",
]


@dataclass(frozen=True, slots=True)
class LabelledRecord:
    """One release with the topics a person assigned to it."""

    id: str
    title: str
    text: str
    labels: tuple[str, ...]
    lang: str | None = None
    declared_topics: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True, slots=True)
class TopicStats:
    topic: str
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 1.0


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record whose predicted topics differ from its labels, with the evidence."""

    id: str
    lang: str | None
    title: str
    expected: tuple[str, ...]
    predicted: tuple[str, ...]
    scores: dict[str, float]
    evidence: dict[str, list[str]]
    notes: str = ""

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(t for t in self.expected if t not in self.predicted)

    @property
    def extra(self) -> tuple[str, ...]:
        return tuple(t for t in self.predicted if t not in self.expected)


@dataclass(frozen=True, slots=True)
class EvalReport:
    topics: tuple[TopicStats, ...]
    records: int
    exact: int
    by_language: dict[str, float]
    """Macro F1 per language, over topics with support or predictions in that language."""
    non_english_macro_f1: float
    errors: tuple[RecordError, ...] = field(default=())
    title: str = "evaluation"

    @property
    def micro(self) -> TopicStats:
        return TopicStats(
            "micro",
            sum(t.tp for t in self.topics),
            sum(t.fp for t in self.topics),
            sum(t.fn for t in self.topics),
        )

    @property
    def macro_precision(self) -> float:
        return _mean(t.precision for t in self.topics)

    @property
    def macro_recall(self) -> float:
        return _mean(t.recall for t in self.topics)

    @property
    def macro_f1(self) -> float:
        return _mean(t.f1 for t in self.topics)


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def normalise_label(label: str) -> str:
    """``organized_crime`` → ``organized-crime``; ids are lower case with hyphens."""
    return label.strip().lower().replace("_", "-").replace(" ", "-")


def _record(data: Any, where: str) -> LabelledRecord:
    if not isinstance(data, dict):
        raise TaggingError(f"{where}: expected a JSON object")
    labels = data.get("labels", [])
    if not isinstance(labels, list):
        raise TaggingError(f"{where}: 'labels' must be a list")
    return LabelledRecord(
        id=str(data.get("id", where)),
        title=str(data.get("title") or ""),
        text=str(data.get("text") or ""),
        labels=tuple(normalise_label(str(x)) for x in labels),
        lang=data.get("lang") or None,
        declared_topics=tuple(str(x) for x in data.get("declared_topics") or ()),
        notes=str(data.get("notes") or ""),
    )


def load_labelled_jsonl(source: str | Path | IO[str]) -> list[LabelledRecord]:
    """Records from a JSON-lines file or stream; blank lines are skipped."""
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            with path.open(encoding="utf-8") as stream:
                return _read(stream, str(path))
        except OSError as exc:
            raise TaggingError(f"{path}: cannot read labelled records: {exc}") from None
    return _read(source, getattr(source, "name", "<stream>"))


def _read(stream: IO[str], name: str) -> list[LabelledRecord]:
    records: list[LabelledRecord] = []
    for line in read_objects(stream, name):
        if isinstance(line, BadLine):
            raise TaggingError(str(line))
        where, data = line
        records.append(_record(data, where))
    return records


def _tag(tagger: Tagger, record: LabelledRecord, use_lang: bool) -> TagResult:
    return tagger.tag(
        record.title,
        record.text,
        lang=record.lang if use_lang else None,
        declared_topics=record.declared_topics,
    )


def score_predictions(
    pairs: Sequence[tuple[LabelledRecord, TagResult]],
    topic_ids: Sequence[str],
    title: str = "evaluation",
) -> EvalReport:
    """The report for given predictions (what :func:`evaluate` and CV share)."""
    counts = {t: [0, 0, 0] for t in topic_ids}
    lang_counts: dict[str, dict[str, list[int]]] = {}
    errors: list[RecordError] = []
    exact = 0
    for record, result in pairs:
        expected, predicted = set(record.labels), set(result.topics)
        lang = record.lang or result.lang or "?"
        groups = [lang] if lang == "en" else [lang, "non-en"]
        for topic in topic_ids:
            cell = (topic in predicted and topic in expected, topic in predicted, topic in expected)
            slot = 0 if cell[0] else 1 if cell[1] else 2 if cell[2] else -1
            if slot < 0:
                continue
            counts[topic][slot] += 1
            for group in groups:
                lang_counts.setdefault(group, {}).setdefault(topic, [0, 0, 0])[slot] += 1
        if expected == predicted:
            exact += 1
        else:
            errors.append(
                RecordError(
                    id=record.id,
                    lang=lang,
                    title=record.title,
                    expected=tuple(t for t in topic_ids if t in expected),
                    predicted=result.topics,
                    scores=result.scores,
                    evidence=result.evidence,
                    notes=record.notes,
                )
            )
    stats = tuple(TopicStats(t, *counts[t]) for t in topic_ids)
    by_language = {
        group: _mean(TopicStats(t, *c).f1 for t, c in per.items())
        for group, per in sorted(lang_counts.items())
    }
    return EvalReport(
        topics=stats,
        records=len(pairs),
        exact=exact,
        by_language={k: v for k, v in by_language.items() if k != "non-en"},
        non_english_macro_f1=by_language.get("non-en", 1.0),
        errors=tuple(errors),
        title=title,
    )


def evaluate(
    tagger: Tagger, records: Sequence[LabelledRecord], use_lang: bool = True
) -> EvalReport:
    """Tag every record and compare with its labels.

    ``use_lang=False`` ignores the records' language so detection is measured too.
    """
    pairs = [(r, _tag(tagger, r, use_lang)) for r in records]
    return score_predictions(pairs, tagger.topic_ids)


Fit = Callable[[Sequence[LabelledRecord]], Tagger]


def cross_validate(
    fit: Fit, records: Sequence[LabelledRecord], folds: int = 5, seed: int = 13
) -> EvalReport:
    """Out-of-fold evaluation: each record is tagged by a tagger fitted without it."""
    if folds < 2:
        raise TaggingError("cross-validation needs at least 2 folds")
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    pairs: list[tuple[LabelledRecord, TagResult]] = []
    topic_ids: tuple[str, ...] = ()
    for fold in range(folds):
        held_out = set(order[fold::folds])
        held = [records[i] for i in sorted(held_out)]
        train = [r for i, r in enumerate(records) if i not in held_out]
        tagger = fit(train)
        topic_ids = tagger.topic_ids
        pairs.extend((r, _tag(tagger, r, True)) for r in held)
    return score_predictions(pairs, topic_ids, title=f"{folds}-fold cross-validation")


def _pct(value: float) -> str:
    return f"{value:6.3f}"


def format_report(report: EvalReport, max_errors: int | None = None) -> str:
    """A table of P/R/F1 per topic with averages, then each wrong record with evidence."""
    width = max([len(t.topic) for t in report.topics] + [len("macro avg")])
    lines = [
        f"{report.title}: {report.records} records, {report.exact} exactly right",
        "",
        f"{'topic':<{width}}  precision  recall     f1  support   tp   fp   fn",
    ]
    for t in (*report.topics, report.micro):
        lines.append(
            f"{t.topic:<{width}}  {_pct(t.precision)}    {_pct(t.recall)} {_pct(t.f1)}"
            f"  {t.support:7d} {t.tp:4d} {t.fp:4d} {t.fn:4d}"
        )
    lines.append(
        f"{'macro avg':<{width}}  {_pct(report.macro_precision)}    "
        f"{_pct(report.macro_recall)} {_pct(report.macro_f1)}"
    )
    lines.append("")
    per_lang = ", ".join(f"{lang} {f1:.3f}" for lang, f1 in report.by_language.items())
    lines.append(f"macro F1 by language: {per_lang}")
    lines.append(f"macro F1 non-English: {report.non_english_macro_f1:.3f}")
    errors = report.errors if max_errors is None else report.errors[:max_errors]
    if errors:
        lines += ["", f"wrong records ({len(report.errors)}):"]
    for e in errors:
        lines.append("")
        lines.append(f"{e.id} [{e.lang}] {e.title}")
        lines.append(
            f"  expected: {', '.join(e.expected) or '-'}; got: {', '.join(e.predicted) or '-'}"
            f"  (missing: {', '.join(e.missing) or '-'}; extra: {', '.join(e.extra) or '-'})"
        )
        for topic, value in sorted(e.scores.items(), key=lambda kv: -kv[1]):
            mark = "*" if topic in e.predicted else " "
            lines.append(f"  {mark} {topic} {value:.2f}: {'; '.join(e.evidence.get(topic, []))}")
        if e.notes:
            lines.append(f"  note: {e.notes}")
    return "\n".join(lines)
