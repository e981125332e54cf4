"""``syndicator digest preview``: the next digest, readable, and nothing sent or recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator.cli import main


def test_preview_shows_the_next_digest_without_sending_or_recording_it(
    tmp_path: Path, shipped_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--config", str(shipped_config)]
    assert main([*args, "run", "--stage", "collect", "--stage", "tag"]) == 0
    capsys.readouterr()

    out = tmp_path / "preview"
    assert main([*args, "digest", "preview", "analyst@example.org", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "Subject:" in shown
    html = (out / "digest.html").read_text(encoding="utf-8")
    text = (out / "digest.txt").read_text(encoding="utf-8")
    assert "<html" in html.lower()
    assert "=3D" not in html
    assert "=20" not in text
    outbox = tmp_path / "var" / "outbox"
    assert not outbox.exists() or not list(outbox.glob("*.eml"))

    # Printing the text part works too, and a second preview shows the same items:
    # the preview reserved nothing in the ledger.
    assert main([*args, "digest", "preview", "ANALYST@example.org"]) == 0
    printed = capsys.readouterr().out
    first_title = next(line for line in text.splitlines() if line.strip())
    assert first_title in printed

    assert main([*args, "run", "--stage", "deliver"]) == 0
    sent = list(outbox.glob("*.eml"))
    assert sent, "the real digest still goes out after previews"


def test_preview_of_an_unknown_address_names_it(
    shipped_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--config", str(shipped_config)]
    assert main([*args, "digest", "preview", "nobody@example.org"]) == 1
    assert "nobody@example.org: no such subscriber" in capsys.readouterr().err
