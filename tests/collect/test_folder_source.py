"""Folders of release files: seed text, HTML, Markdown, e-mail; warnings, not failures."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from collect_helpers import NOW

from syndicator.collect import collect_sources
from syndicator.config import CollectSettings, FolderSource
from syndicator.models import CollectResult, Item

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "osce-unodc-minsk-2018.txt"

TEXT = """Title of the release

Title of the release

Vienna, 3 March 2021 - First paragraph
wrapped on two lines.

Second paragraph.

Further information:
UNODC on Corruption
UNODC on Terrorism Prevention
"""

HTML = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Ignored | OSCE</title><link rel="canonical" href="https://osce.example/r/1">
<meta property="article:published_time" content="2022-06-01T10:00:00Z"></head>
<body><nav>Menu Home About</nav><article><h1>HTML release</h1>
<p>Body <b>one</b>.</p><script>evil()</script><p>Body two.</p>
<p>Further information:</p><ul><li>UNODC on Drug Trafficking</li></ul></article>
<footer>Copyright</footer></body></html>"""

MD_FRONT = """---
title: Front matter title
date: 2023-04-05
---
Text with *emphasis* and <script>x()</script> raw html.
"""

MD_PLAIN = """# Heading title

16 November 2018 - The lead paragraph.

More text.
"""

EML = b"""From: Press <press@example.org>
To: list@example.org
Subject: =?utf-8?q?Release_by_e-mail_=E2=80=93_corruption?=
Date: Tue, 07 Feb 2023 09:30:00 +0100
Message-ID: <abc@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

The body of the mail.

Further information:
UNODC on Corruption
"""


def collect(folder: Path, **kw: object) -> CollectResult:
    source = FolderSource(id="files", path=folder, **kw)
    [result] = collect_sources([source], {}, CollectSettings(), NOW, rng=random.Random(0))
    return result


def by_title(result: CollectResult) -> dict[str, Item]:
    return {i.title: i for i in result.items}


@pytest.mark.shared
def test_seed_release() -> None:
    if not SEED.exists():
        pytest.skip("shared seed not present")
    result = collect(SEED.parent)
    [item] = [i for i in result.items if i.identity == "path:osce-unodc-minsk-2018.txt"]
    assert item.title.startswith("Role of well-governed and accountable security sector")
    assert item.published_at == datetime(2018, 11, 16, tzinfo=UTC)
    assert item.declared_topics == (
        "UNODC on Organized Crime",
        "UNODC on Trafficking in Persons",
        "UNODC on Corruption",
        "UNODC on Drug Trafficking",
        "UNODC on Terrorism Prevention",
    )
    assert item.summary.startswith("16 November 2018 - The importance")
    assert "Further information" not in item.content
    assert len(item.content.split("\n\n")) == 10


def test_text_release(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    result = collect(tmp_path)
    assert result.status == "ok"
    [item] = result.items
    assert item.identity == "path:a.txt"
    assert item.title == "Title of the release"
    assert item.published_at == datetime(2021, 3, 3, tzinfo=UTC)
    assert item.content == (
        "Vienna, 3 March 2021 - First paragraph wrapped on two lines.\n\nSecond paragraph."
    )
    assert item.declared_topics == ("UNODC on Corruption", "UNODC on Terrorism Prevention")
    assert result.warnings == ()


def test_html_release(tmp_path: Path) -> None:
    (tmp_path / "r.html").write_text(HTML, encoding="utf-8")
    [item] = collect(tmp_path).items
    assert item.title == "HTML release"
    assert item.published_at == datetime(2022, 6, 1, 10, tzinfo=UTC)
    assert item.content == "Body one.\n\nBody two."
    assert item.declared_topics == ("UNODC on Drug Trafficking",)
    assert item.link == "https://osce.example/r/1"
    assert item.lang == "fr"


def test_html_time_element_and_title_fallback(tmp_path: Path) -> None:
    (tmp_path / "t.htm").write_text(
        '<html><head><title>Only title</title></head><body><p>Posted <time datetime="2020-01-02">'
        "2 Jan</time></p><p>Text.</p></body></html>",
        encoding="utf-8",
    )
    [item] = collect(tmp_path).items
    assert item.title == "Only title"
    assert item.published_at == datetime(2020, 1, 2, tzinfo=UTC)


def test_markdown_front_matter_and_heading(tmp_path: Path) -> None:
    (tmp_path / "front.md").write_text(MD_FRONT, encoding="utf-8")
    (tmp_path / "plain.markdown").write_text(MD_PLAIN, encoding="utf-8")
    items = by_title(collect(tmp_path))
    front = items["Front matter title"]
    assert front.published_at == datetime(2023, 4, 5, tzinfo=UTC)
    assert "x()" not in front.content
    assert "script" not in front.content
    assert "Text with emphasis and" in front.content
    plain = items["Heading title"]
    assert plain.published_at == datetime(2018, 11, 16, tzinfo=UTC)


def test_eml_release(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(EML)
    [item] = collect(tmp_path).items
    assert item.title == "Release by e-mail – corruption"
    assert item.published_at == datetime(2023, 2, 7, 8, 30, tzinfo=UTC)
    assert item.content == "The body of the mail."
    assert item.declared_topics == ("UNODC on Corruption",)
    assert item.guid == "<abc@example.org>"
    assert item.identity == "path:m.eml"
    assert item.author == "Press"  # "Press <press@example.org>": the name, not the address


def test_undated_file_is_reported_while_it_is_new(tmp_path: Path) -> None:
    """Not every cycle: the warning repeats only while the store does not hold the item."""
    (tmp_path / "nodate.txt").write_text("A title\n\nNo date here.", encoding="utf-8")
    source = FolderSource(id="files", path=tmp_path)

    def warnings(known: frozenset[str] | None) -> tuple[str, ...]:
        [result] = collect_sources(
            [source], {}, CollectSettings(), NOW, rng=random.Random(0),
            known=None if known is None else {"files": known},
        )
        return result.warnings

    assert any("no date found" in w for w in warnings(frozenset()))
    assert warnings(frozenset({"path:nodate.txt"})) == ()
    assert any("no date found" in w for w in warnings(None))  # the caller did not say


def test_missing_date_and_bad_file_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nodate.txt").write_text("A title\n\nNo date here.", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x80\x81 garbage \xc3")
    (tmp_path / "latin.txt").write_bytes("Caf\xe9 title\n\n1 May 2020 - x".encode("latin-1"))
    (tmp_path / "ok.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(TEXT, encoding="utf-8")
    result = collect(tmp_path)
    assert result.status == "ok"
    ids = sorted(i.identity for i in result.items)
    assert ids == ["path:ok.txt", "path:sub/nodate.txt"]
    nodate = next(i for i in result.items if i.identity == "path:sub/nodate.txt")
    assert nodate.published_at is None
    assert any("sub/nodate.txt" in w and "no date" in w for w in result.warnings)
    assert any("binary.txt" in w for w in result.warnings)
    assert any("latin.txt" in w for w in result.warnings)


def test_changed_file_keeps_identity(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    before = collect(tmp_path).items[0]
    path.write_text(TEXT.replace("Second paragraph.", "Corrected paragraph."), encoding="utf-8")
    after = collect(tmp_path).items[0]
    assert before.identity == after.identity
    assert before.content != after.content


def test_missing_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    result = collect(tmp_path / "nope")
    assert result.status == "error"
    assert result.error_class == "not_found"
    assert str(tmp_path / "nope") in (result.error_message or "")
    assert result.next_fetch_at is not None


def test_non_recursive_and_patterns(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "top.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "top.html").write_text(HTML, encoding="utf-8")
    result = collect(tmp_path, recursive=False, patterns=("*.txt",))
    assert [i.identity for i in result.items] == ["path:top.txt"]


def test_yaml_alias_bomb_in_front_matter_is_harmless(tmp_path: Path) -> None:
    """Aliases nest lists cheaply; printing them would take billions of items."""
    levels = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    bomb = "---\n" + "\n".join(levels) + "\ntitle: *a8\ntopics: *a8\n---\n# Real title\n\nText.\n"
    (tmp_path / "bomb.md").write_text(bomb)
    started = time.monotonic()
    result = collect(tmp_path)
    assert time.monotonic() - started < 5
    assert [i.title for i in result.items] == ["Real title"]
