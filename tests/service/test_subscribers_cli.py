"""``syndicator subscribers list|add|remove|import|export`` end to end on a SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from syndicator.cli import main

TOPICS = [{"id": "corruption", "title": "Corruption"}, {"id": "terrorism", "title": "Terrorism"}]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    data = {
        "base_url": "https://news.example.org/",
        "database": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "taxonomy": {"topics": TOPICS},
        "delivery": {"outbox_dir": str(tmp_path / "outbox"), "sender": "news@example.org"},
        "subscribers": [{"email": "desk@example.org", "topics": ["terrorism"]}],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-c", str(config), "subscribers", *args])
    out, err = capsys.readouterr()
    return code, out, err


def listed(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    code, out, _ = run(config, capsys, "list", "--json")
    assert code == 0
    return {row["email"]: row for row in json.loads(out)}


def test_add_list_remove_and_forget(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        config, capsys, "add", "Bob@Example.org", "--topics", "corruption,terrorism", "--alerts"
    )
    assert (code, out.strip()) == (0, "Bob@Example.org: added")
    rows = listed(config, capsys)
    assert rows["bob@example.org"] == {
        "email": "bob@example.org",
        "status": "active",
        "managed_by": "operator",
        "topics": ["corruption", "terrorism"],
        "countries": [],
        "query": None,
        "cadence": "daily",
        "alerts": True,
        "language": None,
        "bounces": 0,
    }
    assert rows["desk@example.org"]["managed_by"] == "config"  # listed before any run

    code, _, err = run(config, capsys, "add", "x@y.org", "--topics", "arson")
    assert code == 1
    assert "unknown topic(s) arson" in err
    code, _, err = run(
        config, capsys, "add", "x@y.org", "--topics", "corruption", "--timezone", "Mars/Base"
    )
    assert code == 1
    assert "Mars/Base" in err
    code, _, err = run(config, capsys, "add", "desk@example.org", "--topics", "corruption")
    assert code == 1
    assert "configuration wins" in err

    assert run(config, capsys, "remove", "bob@example.org")[1].strip() == "bob@example.org: removed"
    assert listed(config, capsys)["bob@example.org"]["status"] == "removed"
    code, out, _ = run(config, capsys, "remove", "bob@example.org", "--forget")
    assert "forgotten" in out
    code, out, _ = run(config, capsys, "export", "--format", "json")
    records = json.loads(out)
    assert "bob@example.org" not in out
    (forgotten,) = [r for r in records if r["status"] == "forgotten"]
    assert forgotten["email"].startswith("forgotten:")
    assert forgotten["topics"] == []
    assert forgotten["consent_source"] == "operator"


def test_import_reports_rejected_lines_and_is_idempotent(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "email,name,topics,cadence,timezone,alerts\n"
        "ann@example.org,Ann,corruption terrorism,weekly,Europe/Vienna,yes\n"
        '"a@x.org, b@y.org",Two,corruption,daily,UTC,no\n'
        "carl@example.org,Carl,arson,daily,UTC,no\n"
        "dora@example.org,Dora,corruption,daily,Europe/Atlantis,no\n"
        "ANN@example.org,Ann again,corruption,daily,UTC,no\n"
        "eve@example.org,,corruption;terrorism,,,\n",
        encoding="utf-8",
    )
    code, out, _ = run(config, capsys, "import", str(csv_file))
    assert code == 1  # some lines were rejected
    assert "line 2: ann@example.org: added" in out
    assert "line 7: eve@example.org: added" in out
    assert "line 3: REJECTED a@x.org, b@y.org: not a valid email address" in out
    assert "line 4: REJECTED carl@example.org: unknown topic(s) arson" in out
    assert "line 5: REJECTED dora@example.org: unknown time zone 'Europe/Atlantis'" in out
    assert "line 6: REJECTED ANN@example.org: repeats line 2" in out
    assert "2 accepted, 4 rejected" in out

    code, out, _ = run(config, capsys, "import", str(csv_file))
    assert "line 2: ann@example.org: unchanged" in out
    assert "line 7: eve@example.org: unchanged" in out

    code, out, _ = run(config, capsys, "export", "--format", "json")
    ann = next(r for r in json.loads(out) if r["email"] == "ann@example.org")
    assert (ann["cadence"], ann["timezone"], ann["alerts"]) == ("weekly", "Europe/Vienna", True)
    assert ann["consent_source"] == "import people.csv"
    code, out, _ = run(config, capsys, "export")
    header = out.splitlines()[0].split(",")
    assert header[:3] == ["id", "kind", "email"]
    assert "consented_at" in header


def test_add_with_a_query_and_countries_lists_and_exports_them(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        config,
        capsys,
        "add",
        "q@example.org",
        "--query",
        '"money laundering" -football',
        "--countries",
        "ua, md",
    )
    assert (code, out.strip()) == (0, "q@example.org: added")
    row = listed(config, capsys)["q@example.org"]
    assert (row["topics"], row["countries"], row["query"]) == (
        [],
        ["UA", "MD"],
        '"money laundering" -football',
    )
    code, out, _ = run(config, capsys, "list")
    assert 'countries: UA MD  query: "money laundering" -football' in out
    code, out, _ = run(config, capsys, "export", "--format", "csv")
    assert 'UA MD,"""money laundering"" -football"' in out


def test_add_refuses_a_bad_query_with_its_position_and_an_unknown_country(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(config, capsys, "add", "q@example.org", "--query", "bribery (port")
    assert code == 1
    assert "subscriber 'q@example.org': query: " in err
    assert "(at character 9):\n  bribery (port\n          ^" in err
    code, _, err = run(config, capsys, "add", "q@example.org", "--countries", "UA,ZZ")
    assert code == 1
    assert 'countries: unknown country code "ZZ"' in err
    code, _, err = run(config, capsys, "add", "q@example.org")
    assert code == 1
    assert "no topics, countries or query given" in err
    assert "q@example.org" not in listed(config, capsys)


def test_import_reads_query_and_countries_and_rejects_a_bad_query_by_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "email,topics,countries,query\n"
        'ann@example.org,,UA MD,"腐败 OR bribery"\n'
        "bob@example.org,corruption,,-football\n"
        "cy@example.org,,XX,\n",
        encoding="utf-8",
    )
    code, out, _ = run(config, capsys, "import", str(csv_file))
    assert code == 1
    assert "line 2: ann@example.org: added" in out
    assert "line 3: REJECTED bob@example.org: query: " in out
    assert "(at character 1):\n  -football\n  ^" in out
    assert 'line 4: REJECTED cy@example.org: countries: unknown country code "XX"' in out
    ann = listed(config, capsys)["ann@example.org"]
    assert (ann["countries"], ann["query"]) == (["UA", "MD"], "腐败 OR bribery")


def test_language_is_added_imported_listed_and_checked(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        config, capsys, "add", "fr@example.org", "--topics", "corruption", "--language", "FR"
    )
    assert (code, out.strip()) == (0, "fr@example.org: added")
    assert listed(config, capsys)["fr@example.org"]["language"] == "fr"
    code, out, _ = run(config, capsys, "list")
    assert "language: fr" in out
    code, _, err = run(
        config, capsys, "add", "de@example.org", "--topics", "corruption", "--language", "de"
    )
    assert code == 1
    assert (
        "subscriber 'de@example.org': language: unknown language 'de'; shipped: en, fr, es, ru"
        in err
    )
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "email,topics,language\nru@example.org,corruption,ru\nxx@example.org,corruption,xx\n",
        encoding="utf-8",
    )
    code, out, _ = run(config, capsys, "import", str(csv_file))
    assert code == 1
    assert "line 2: ru@example.org: added" in out
    assert "line 3: REJECTED xx@example.org: language: unknown language 'xx'" in out
    rows = listed(config, capsys)
    assert rows["ru@example.org"]["language"] == "ru"
    assert rows["desk@example.org"]["language"] is None
    code, out, _ = run(config, capsys, "export", "--format", "csv")
    exported = {row["email"]: row for row in csv.DictReader(io.StringIO(out))}
    assert exported["ru@example.org"]["language"] == "ru"  # and import reads it back
