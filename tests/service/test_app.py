"""The application facade: every command's work through one object, nothing printed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from syndicator.config import load_settings
from syndicator.errors import ConfigError, SyndicatorError
from syndicator.jsonl import BadLine
from syndicator.service.app import Syndicator, new_source_id

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(shipped_config: Path) -> Syndicator:
    return Syndicator(load_settings(shipped_config))


def test_the_facade_runs_a_cycle_and_answers_every_question(
    app: Syndicator, capsys: pytest.CaptureFixture[str]
) -> None:
    with app:
        report = app.run(["collect", "tag", "deliver"])
        assert report.tagged > 0
        snapshot = app.status()
        assert snapshot["items"]["stored"] == report.tagged
        items = app.items("corruption")
        assert items
        assert all("corruption" in i.topics for i in items)
        explained = app.explain(items[0].id)
        assert explained.verdict is not None
        assert "corruption" in explained.verdict.topics
        retagged = app.retag(items[0].id, add=["terrorism"], remove=["corruption"])
        assert "terrorism" in retagged.topics
        assert "corruption" not in retagged.topics
        assert app.unsubscribe("analyst@example.org") is True
        assert app.unsubscribe("analyst@example.org", undo=True) is True
    assert capsys.readouterr() == ("", "")  # the facade never prints


def test_the_facade_refuses_with_the_culprit_named(app: Syndicator) -> None:
    with app:
        with pytest.raises(ConfigError, match=r"unknown topic.*piracy"):
            app.items("piracy")
        with pytest.raises(SyndicatorError, match="item 999 does not exist"):
            app.explain(999)
        with pytest.raises(SyndicatorError, match="item 999 does not exist"):
            app.retag(999, add=["terrorism"])


def test_tag_records_reports_bad_lines_and_goes_on(app: Syndicator) -> None:
    lines = [
        '{"id": "a", "title": "Customs seize cocaine", "text": "Drug trafficking ring."}',
        "not json",
        '{"id": "b", "title": 3}',
        "",
        '{"id": "c", "title": "Bribery trial", "text": "A minister took bribes."}',
    ]
    with app:
        out = list(app.tag_records(lines, "in.jsonl"))
    assert [o["id"] for o in out if isinstance(o, dict)] == ["a", "c"]
    bad = [str(o) for o in out if isinstance(o, BadLine)]
    assert bad[0].startswith("in.jsonl:2: not valid JSON")
    assert bad[1] == "in.jsonl:3: 'title' and 'text' must be strings"


def test_new_source_ids_are_readable_and_unused() -> None:
    assert new_source_id("https://www.unodc.org/feeds/press.xml", set()) == "unodc.org-feeds-press.xml"
    assert new_source_id("https://a.example/f", {"a.example-f"}) == "a.example-f-2"


def test_the_command_line_reaches_the_store_and_stages_only_through_the_facade() -> None:
    """cli.py parses, calls the facade and prints; the work lives behind the facade."""
    tree = ast.parse((REPO / "syndicator" / "cli.py").read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    forbidden = {"syndicator.store", "syndicator.tagging", "syndicator.collect"}
    reaching = {m for m in imported if any(m == f or m.startswith(f + ".") for f in forbidden)}
    assert reaching == set()
