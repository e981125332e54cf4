"""Checks against ../shared (the seed release and the labelled dev set); skipped without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator.tagging import Tagger
from syndicator.tagging.evaluate import evaluate, load_labelled_jsonl

pytestmark = pytest.mark.shared


def test_seed_release_gets_all_five_topics(tagger: Tagger, shared_data: Path) -> None:
    seed = shared_data / "seed" / "osce-unodc-minsk-2018.txt"
    if not seed.exists():
        pytest.skip("seed release not present")
    text = seed.read_text(encoding="utf-8")
    title = text.strip().splitlines()[0]
    result = tagger.tag(title, text)
    assert set(result.topics) == set(tagger.topic_ids)
    assert result.lang == "en"
    assert {"BY", "MD", "UA"} <= set(result.countries)
    for topic in result.topics:
        assert any(line.startswith("further-information:") for line in result.evidence[topic])


def test_dev_set_quality_floor(tagger: Tagger, shared_data: Path) -> None:
    """A floor well under the measured figures (docs/tagging.md): catches regressions only."""
    dev = shared_data / "data" / "dev.jsonl"
    if not dev.exists():
        pytest.skip("dev.jsonl not present")
    report = evaluate(tagger, load_labelled_jsonl(dev))
    assert report.macro_f1 >= 0.95
    assert report.non_english_macro_f1 >= 0.9
    assert min(t.precision for t in report.topics) >= 0.9
