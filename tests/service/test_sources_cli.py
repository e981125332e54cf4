"""``syndicator sources`` and ``sources add URL`` against a real local web site."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from syndicator.cli import main
from syndicator.config import load_settings, parse_settings
from syndicator.config_edit import with_source, with_source_enabled, without_source
from syndicator.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

PAGE = b"""<!doctype html><html><head><title>Agency</title>
<link rel="alternate" type="application/rss+xml" title="Agency releases" href="/releases.xml">
</head><body><h1>Agency</h1></body></html>"""
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Agency releases</title>
<link>http://agency.example/</link><description>d</description>
<item><title>Customs seize cocaine shipment</title><link>http://agency.example/1</link></item>
</channel></rss>"""


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body, kind = {
            "/": (PAGE, "text/html"),
            "/releases.xml": (FEED, "application/rss+xml"),
        }.get(self.path, (b"not found", "text/plain"))
        self.send_response(200 if body != b"not found" else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _config(tmp_path: Path) -> Path:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("allow_networks: []", "allow_networks: [127.0.0.1]")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_with_source_keeps_comments_and_validates() -> None:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    updated = with_source(text, {"id": "new-one", "type": "feed", "url": "https://x.example/f"})
    assert updated.startswith(text.split("sources:")[0])  # everything before is untouched
    assert updated.count("#") == text.count("#")  # every comment kept
    settings = parse_settings(yaml.safe_load(updated), Path("config.yaml"))
    assert settings.sources[-1].id == "new-one"
    assert [s.id for s in settings.sources[:-1]] == [
        s.id for s in load_settings(REPO / "config.yaml").sources
    ]


def test_with_source_handles_flow_style() -> None:
    updated = with_source("base_url: https://x/\nsources: []\n", {"id": "a", "type": "feed"})
    assert yaml.safe_load(updated)["sources"] == [{"id": "a", "type": "feed"}]


def test_config_edits_round_trip_the_shipped_file_byte_for_byte() -> None:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    added = with_source(text, {"id": "new-one", "type": "feed", "url": "https://x.example/f"})
    assert without_source(added, "new-one") == text
    paused = with_source_enabled(text, "samples", False)
    assert paused.count("#") == text.count("#")
    assert with_source_enabled(paused, "samples", True) == text
    # The comment heading the next section stays after the list, not inside it.
    tail = added.split("url: https://x.example/f", 1)[1]
    assert tail.lstrip("\n").startswith("# How sources are fetched")


def test_editing_an_unknown_source_names_it() -> None:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no source with id 'nope'.*samples"):
        with_source_enabled(text, "nope", False)


def test_sources_add_discovers_shows_and_adds(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert main(["--config", str(config), "sources", "add", site + "/", "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert f"{site}/releases.xml" in shown
    assert "Customs seize cocaine shipment" in shown
    assert "agency" not in config.read_text(encoding="utf-8").lower()  # dry run: unchanged

    assert main(["--config", str(config), "sources", "add", site + "/", "--id", "agency"]) == 0
    settings = load_settings(config)
    added = next(s for s in settings.sources if s.id == "agency")
    assert str(getattr(added, "url", "")) == f"{site}/releases.xml"
    assert "# Syndicator configuration." in config.read_text(encoding="utf-8")

    # Adding the same feed twice is refused, and the file is left as it was.
    before = config.read_text(encoding="utf-8")
    assert main(["--config", str(config), "sources", "add", site + "/"]) == 1
    assert "already configured" in capsys.readouterr().err
    assert config.read_text(encoding="utf-8") == before


def test_sources_add_names_the_url_without_a_feed(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert main(["--config", str(config), "sources", "add", site + "/nothing-here"]) == 1
    assert "/nothing-here" in capsys.readouterr().err


def test_sources_lists_health(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    assert main(["--config", str(config), "sources"]) == 0
    listing = capsys.readouterr().out
    assert "samples" in listing
    assert "never fetched" in listing
    assert "disabled" in listing


def test_sources_disable_enable_remove_keep_history_unless_asked(
    shipped_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped_config
    args = ["--config", str(config)]
    assert main([*args, "run", "--stage", "collect", "--stage", "tag"]) == 0
    capsys.readouterr()

    assert main([*args, "sources", "disable", "samples"]) == 0
    assert not next(s for s in load_settings(config).sources if s.id == "samples").enabled
    assert main([*args, "sources"]) == 0
    assert "samples" in capsys.readouterr().out
    assert main([*args, "sources", "enable", "samples"]) == 0
    assert next(s for s in load_settings(config).sources if s.id == "samples").enabled
    assert "# Syndicator configuration." in config.read_text(encoding="utf-8")

    assert main([*args, "sources", "remove", "samples"]) == 0
    assert "samples" not in {s.id for s in load_settings(config).sources}
    assert main([*args, "items", "--limit", "100"]) == 0
    kept = capsys.readouterr().out
    assert "its stored items stay" in kept
    assert "(no tagged items)" not in kept  # history kept without --forget

    assert main([*args, "sources", "remove", "samples"]) == 2  # unknown now: a config error
    assert "no source with id 'samples'" in capsys.readouterr().err


def test_sources_remove_forget_deletes_the_items(
    shipped_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped_config
    args = ["--config", str(config)]
    assert main([*args, "run", "--stage", "collect", "--stage", "tag"]) == 0
    capsys.readouterr()
    assert main([*args, "sources", "remove", "samples", "--forget"]) == 0
    out = capsys.readouterr().out
    forgotten = int(out.split(" stored item(s) of it deleted")[0].split()[-1])
    assert forgotten >= 10  # every sample release
    assert main([*args, "items"]) == 0
    assert "(no tagged items)" in capsys.readouterr().out
