"""Evaluation: reading labelled JSON lines, the figures, the report, cross-validation."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence

import pytest

from syndicator.config import TaxonomySettings
from syndicator.errors import TaggingError
from syndicator.tagging import Tagger
from syndicator.tagging.evaluate import (
    LabelledRecord,
    cross_validate,
    evaluate,
    fit_thresholds,
    format_report,
    load_labelled_jsonl,
)

RECORDS = [
    {"id": "a", "title": "Money laundering network dismantled", "lang": "en",
     "text": "Police arrested members of an organised crime group.", "labels": ["organized_crime"]},
    {"id": "b", "title": "Bribery case", "lang": "en",
     "text": "An official took bribes; anti-corruption prosecutors charged him.",
     "labels": ["corruption"]},
    {"id": "c", "title": "Elections observed", "lang": "en",
     "text": "Observers praised the vote.", "labels": []},
    {"id": "d", "title": "Seizure", "lang": "es",
     "text": "Incautadas dos toneladas de cocaína en una operación contra el narcotráfico.",
     "labels": ["drug_trafficking", "terrorism"]},
]


def _stream() -> io.StringIO:
    return io.StringIO("\n".join(json.dumps(r) for r in RECORDS) + "\n\n")


def test_labels_are_normalised_to_topic_ids() -> None:
    records = load_labelled_jsonl(_stream())
    assert [r.labels for r in records] == [
        ("organized-crime",),
        ("corruption",),
        (),
        ("drug-trafficking", "terrorism"),
    ]


def test_bad_json_names_the_line() -> None:
    with pytest.raises(TaggingError, match=":2: not valid JSON"):
        load_labelled_jsonl(io.StringIO('{"id": "x"}\n{oops\n'))


def test_evaluate_counts_and_reports_errors_with_evidence(tagger: Tagger) -> None:
    report = evaluate(tagger, load_labelled_jsonl(_stream()))
    stats = {t.topic: t for t in report.topics}
    assert (stats["terrorism"].tp, stats["terrorism"].fn) == (0, 1)
    assert (stats["corruption"].tp, stats["corruption"].fp) == (1, 0)
    assert report.records == 4
    assert report.exact == 3
    assert [e.id for e in report.errors] == ["d"]
    assert report.errors[0].missing == ("terrorism",)
    assert report.by_language["en"] == 1.0
    assert report.non_english_macro_f1 < 1.0
    text = format_report(report)
    assert "macro avg" in text
    assert "micro" in text
    assert "d [es] Seizure" in text
    assert 'narcotrafico' in text  # the evidence of the wrong record is shown


def test_cross_validation_fits_on_other_folds_only(
    make_settings: Callable[..., TaxonomySettings],
) -> None:
    records = load_labelled_jsonl(_stream()) * 3
    seen: list[int] = []

    def fit(train: Sequence[LabelledRecord]) -> Tagger:
        seen.append(len(train))
        return Tagger.from_settings(make_settings())

    report = cross_validate(fit, records, folds=3)
    assert seen == [8, 8, 8]
    assert report.records == 12
    assert "cross-validation" in report.title


def test_fit_thresholds_moves_thresholds_towards_the_labels(
    make_settings: Callable[..., TaxonomySettings],
) -> None:
    base = make_settings()
    records = load_labelled_jsonl(_stream())
    fitted = fit_thresholds(base, records)
    assert isinstance(fitted, TaxonomySettings)
    assert {t.id for t in fitted.topics} == set(base.ids)
    assert all(t.threshold is not None for t in fitted.topics)


def test_fit_thresholds_separates_a_strong_negative_and_keeps_ties_at_the_default(
    make_settings: Callable[..., TaxonomySettings],
) -> None:
    records = [
        LabelledRecord("pos", "Bribery and corruption", "Officials took bribes.", ("corruption",)),
        LabelledRecord("neg", "Bribery", "The novel's plot.", ()),
    ]
    tagger = Tagger.from_settings(make_settings())
    pos, neg = (tagger.tag(r.title, r.text).scores["corruption"] for r in records)
    assert 4.0 <= neg < pos  # the default threshold takes the negative too
    fitted = {t.id: t.threshold for t in fit_thresholds(make_settings(), records).topics}
    corruption = fitted["corruption"]
    assert corruption is not None
    assert neg < corruption <= pos
    assert fitted["terrorism"] == 4.0  # no evidence either way: the configured value stays
