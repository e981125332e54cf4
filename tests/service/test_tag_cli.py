"""``syndicator tag --jsonl`` and ``syndicator eval``: the analysts' view of the tagger."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from syndicator.cli import main

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / "config.yaml")
TOPICS = {
    "organized-crime",
    "trafficking-in-persons",
    "drug-trafficking",
    "corruption",
    "terrorism",
}

RECORDS = [
    {
        "id": "bribes",
        "title": "Customs chief convicted of taking bribes",
        "text": "A court convicted the former head of customs of bribery and abuse of office; "
        "the anti-corruption prosecutor seized his assets for asset recovery.",
    },
    {
        "id": "cartel-fine",
        "title": "Competition authority fines cement cartel",
        "text": "The competition authority fined three cement producers for price fixing "
        "in a cartel that raised construction costs.",
        "lang": "en",
    },
    {
        "id": "es-drogas",
        "title": "Incautan dos toneladas de cocaína en el puerto",
        "text": "La policía incautó dos toneladas de cocaína ocultas en un contenedor; "
        "la droga era traficada por una red de narcotráfico hacia Europa.",
    },
]


def _run_tag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str
) -> tuple[int, list[dict[str, Any]], str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(["--config", CONFIG, "tag", "--jsonl", "-"])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_tag_prints_one_verdict_per_record(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, verdicts, _ = _run_tag(
        monkeypatch, capsys, "\n".join(json.dumps(r) for r in RECORDS) + "\n"
    )
    assert code == 0
    by_id = {v["id"]: v for v in verdicts}
    assert list(by_id) == ["bribes", "cartel-fine", "es-drogas"]
    for verdict in verdicts:
        assert set(verdict) >= {"id", "topics", "scores", "evidence"}
    assert by_id["bribes"]["topics"] == ["corruption"]
    assert by_id["bribes"]["evidence"]["corruption"]
    assert by_id["cartel-fine"]["topics"] == []
    assert "drug-trafficking" in by_id["es-drogas"]["topics"]
    assert by_id["es-drogas"]["lang"] == "es"


def test_bad_lines_are_named_and_the_rest_still_tagged(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = '{"id": "a", "title": "x", "text": "y"}\nnot json\n[1, 2]\n{"id": "b", "title": 5}\n'
    code, verdicts, err = _run_tag(monkeypatch, capsys, text)
    assert code == 1
    assert [v["id"] for v in verdicts] == ["a"]
    for line in ("-:2: not valid JSON", "-:3: expected a JSON object", "-:4: 'title' and 'text'"):
        assert line in err


def test_unreadable_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    assert main(["--config", CONFIG, "tag", "--jsonl", str(missing)]) == 1
    assert str(missing) in capsys.readouterr().err


def test_seed_release_gets_all_five_topics(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = (shared_dir / "seed" / "osce-unodc-minsk-2018.txt").read_text(encoding="utf-8")
    title, _, body = seed.partition("\n")
    record = {"id": "seed", "title": title, "text": body}
    code, (verdict,), _ = _run_tag(monkeypatch, capsys, json.dumps(record) + "\n")
    assert code == 0
    assert set(verdict["topics"]) == TOPICS


def test_eval_reports_scores_and_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "labelled.jsonl"
    rows = [
        {**RECORDS[0], "labels": ["corruption"]},
        {**RECORDS[1], "labels": []},
        {**RECORDS[2], "labels": ["drug_trafficking", "terrorism"]},  # one label it will miss
    ]
    labelled.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert main(["--config", CONFIG, "eval", str(labelled)]) == 0
    report = capsys.readouterr().out.lower()
    for word in ("precision", "recall", "f1", "macro", "micro", "es-drogas", "terrorism"):
        assert word in report
