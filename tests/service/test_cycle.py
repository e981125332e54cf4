"""The whole cycle end to end, in a temporary folder, through the command line.

Real parts only: release files on disk, a feed served over HTTP on 127.0.0.1,
a SQLite file (and PostgreSQL for the shared-database case), feeds parsed back
with feedparser, messages read back from the outbox.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml

from syndicator.cli import main
from syndicator.config import load_settings
from syndicator.written_dates import find_date

REPO = Path(__file__).resolve().parents[2]
TOPICS = [
    "organized-crime",
    "trafficking-in-persons",
    "drug-trafficking",
    "corruption",
    "terrorism",
]

RELEASES = {
    "2025-01-10-network.txt": """Police dismantle money laundering network

10 January 2025 - Investigators from three countries dismantled an organized crime group that laundered the proceeds of fraud through shell companies. Prosecutors charged twelve members of the criminal network with money laundering and participation in a transnational organized criminal group.

Further information:

UNODC on Organized Crime
""",
    "2025-02-11-victims.txt": """Victims of human trafficking identified at border

11 February 2025 - Border guards trained in victim identification found thirty victims of trafficking in persons recruited for forced labour and sexual exploitation. Anti-trafficking investigators opened cases against the traffickers.

Further information:

UNODC on Trafficking in Persons
""",
    "2025-03-12-cocaine.md": """# Record cocaine seizure at container port

12 March 2025 - Customs officers seized four tonnes of cocaine hidden in a banana shipment. The drug trafficking route ran from South America to Europe, and precursor chemicals for synthetic drugs were also found.
""",
    "2025-04-13-bribery.html": """<html><head><title>Minister charged with bribery</title></head>
<body><article><h1>Minister charged with bribery</h1>
<p><time datetime="2025-04-13">13 April 2025</time></p>
<p>The anti-corruption agency charged a former minister with bribery and embezzlement of public funds. Asset recovery proceedings were opened to return the stolen assets, and the agency called for stronger asset declarations and integrity rules against corruption.</p>
</article></body></html>
""",
    "2025-05-14-terrorism.txt": """Workshop on preventing terrorism and terrorist financing

14 May 2025 - Prosecutors and financial intelligence units discussed countering the financing of terrorism, the return of foreign terrorist fighters and preventing violent extremism and radicalization that lead to terrorism. Counter-terrorism experts shared cases of terrorist attacks planned online.

Further information:

UNODC on Terrorism Prevention
""",
    "2025-06-15-election.txt": """Observers publish preliminary statement on parliamentary elections

15 June 2025 - The election observation mission said that voting was orderly and that candidates could campaign freely, while media coverage of the campaign favoured incumbents. Observers visited polling stations across the country.
""",
}

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test agency</title><link>http://example.org/</link>
<description>releases</description>
<item><guid>urn:test:1</guid><title>Heroin trafficking ring dismantled</title>
<link>http://example.org/r/1</link><pubDate>Mon, 07 Apr 2025 10:00:00 GMT</pubDate>
<description>Police arrested members of a criminal network trafficking heroin and cocaine across the border; drug trafficking charges were filed and laundered proceeds seized.</description></item>
</channel></rss>"""


class _FeedHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def feed_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


def write_config(folder: Path, feed_url: str, database: str | None = None, **extra: Any) -> Path:
    releases = folder / "releases"
    releases.mkdir(exist_ok=True)
    for name, body in RELEASES.items():
        (releases / name).write_text(body, encoding="utf-8")
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config: dict[str, Any] = {
        "base_url": "https://feeds.example.org/threats/",
        "database": database or "sqlite:///state/syndicator.sqlite3",
        "sources": [
            {"id": "files", "type": "folder", "path": "releases"},
            {"id": "agency", "type": "feed", "url": feed_url},
            {"id": "down", "type": "feed", "url": "http://127.0.0.1:9/feed.xml"},
        ],
        "collect": {"allow_networks": ["127.0.0.1"], "connect_timeout": 3},
        "taxonomy": shipped["taxonomy"],
        "publish": {"output_dir": "out"},
        "delivery": {"outbox_dir": "outbox", "sender": "Alerts <alerts@example.org>"},
        "subscribers": [
            {"email": "ana@example.org", "topics": ["corruption", "drug-trafficking"]},
            {"email": "ben@example.org", "topics": TOPICS, "cadence": "weekly"},
        ],
        **extra,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()
    }


def test_full_cycle_then_rerun_changes_nothing(
    tmp_path: Path, feed_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, feed_url)
    assert main(["--config", str(config), "run"]) == 0
    printed = capsys.readouterr().out
    assert "down: error" in printed  # the unreachable source is reported by name
    assert "files: ok, 6 new" in printed

    out = tmp_path / "out"
    for topic in TOPICS:
        for ext in ("rss", "atom"):
            parsed = feedparser.parse((out / f"{topic}.{ext}").read_bytes())
            assert not parsed.bozo, (topic, ext, parsed.get("bozo_exception"))
            assert parsed.entries, f"{topic}.{ext} has no entries"
            for entry in parsed.entries:
                assert topic in {tag.term for tag in entry.tags}
    all_titles = [e.title for e in feedparser.parse((out / "all.atom").read_bytes()).entries]
    assert "Observers publish preliminary statement on parliamentary elections" not in all_titles
    assert "Heroin trafficking ring dismantled" in all_titles

    messages = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(messages) >= 2
    recipients = set()
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        recipients.add(message["To"])
        assert message.get_content_type() == "multipart/alternative"
        kinds = [part.get_content_type() for part in message.iter_parts()]
        assert kinds == ["text/plain", "text/html"]
        assert message["List-Unsubscribe"]
    assert {"ana@example.org", "ben@example.org"} <= {r.strip() for r in recipients}

    feeds_before, outbox_before = snapshot(out), snapshot(tmp_path / "outbox")
    assert main(["--config", str(config), "run", "--force"]) == 0
    again = capsys.readouterr().out
    assert "files: ok, 0 new, 0 updated" in again
    assert snapshot(out) == feeds_before  # nothing rewritten
    assert snapshot(tmp_path / "outbox") == outbox_before  # nothing sent twice


def test_changed_release_is_updated_not_duplicated(
    tmp_path: Path, feed_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, feed_url)
    assert main(["--config", str(config), "run"]) == 0
    release = tmp_path / "releases" / "2025-04-13-bribery.html"
    release.write_text(
        release.read_text(encoding="utf-8").replace("former minister", "former deputy minister"),
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["--config", str(config), "run", "--force"]) == 0
    assert "files: ok, 0 new, 1 updated" in capsys.readouterr().out
    entries = feedparser.parse((tmp_path / "out" / "corruption.atom").read_bytes()).entries
    assert sum("bribery" in e.title.lower() for e in entries) == 1


def test_status_explain_and_retag(
    tmp_path: Path, feed_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, feed_url)
    assert main(["--config", str(config), "run"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 0
    status = capsys.readouterr().out
    for expected in ("files", "down", "ana@example.org", "corruption"):
        assert expected in status
    assert main(["--config", str(config), "status", "--json"]) == 0
    snapshot = json.loads(capsys.readouterr().out)
    health = {s["id"]: s for s in snapshot["sources"]}
    assert health["files"]["status"] == "ok"
    assert health["down"]["status"] == "error"
    assert health["down"]["error_class"] == "connection_error"
    assert health["down"]["consecutive_failures"] == 1
    assert snapshot["items"]["stored"] == 7
    assert snapshot["items"]["by_topic"]["corruption"] >= 1
    readers = {r["email"]: r for r in snapshot["subscribers"]}
    assert readers["ana@example.org"]["last_digest_at"] is not None
    assert readers["ana@example.org"]["digest_due"] is False
    assert snapshot["messages"] == {
        "sent": 2,
        "pending": 0,
        "unknown": 0,
        "failed": 0,
        "in_flight": 0,
        "waiting": [],
    }
    assert readers["ana@example.org"]["bounces"] == 0
    assert readers["ana@example.org"]["stopped_by_bounces"] is False
    assert "2 sent, 0 pending retry, 0 outcome unknown, 0 failed" in status

    from syndicator.store import open_store

    store = open_store(load_settings(config).database)
    try:
        tagged = store.recent_items(None, 100)
        assert not any("election" in s.item.title.lower() for s in tagged)  # off-topic
        bribery = next(
            s for s in store.recent_items("corruption", 100) if "bribery" in s.item.title.lower()
        )
    finally:
        store.close()
    assert main(["--config", str(config), "explain", str(bribery.id)]) == 0
    assert "corruption" in capsys.readouterr().out
    assert main(["--config", str(config), "retag", str(bribery.id), "--add", "terrorism"]) == 0
    assert main(["--config", str(config), "publish"]) == 0
    titles = [
        e.title for e in feedparser.parse((tmp_path / "out" / "terrorism.rss").read_bytes()).entries
    ]
    assert "Minister charged with bribery" in titles
    assert main(["--config", str(config), "retag", str(bribery.id), "--add", "nonsense"]) == 2


def test_invalid_config_exits_2_naming_the_key(
    tmp_path: Path, feed_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, feed_url, publsh={"output_dir": "x"})
    assert main(["--config", str(config), "run"]) == 2
    err = capsys.readouterr().err
    for expected in ("publsh", str(config), "unknown key"):
        assert expected in err


def test_unwritable_output_folder_exits_1(
    tmp_path: Path, feed_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be")
    config = write_config(tmp_path, feed_url, publish={"output_dir": "blocker/feeds"})
    assert main(["--config", str(config), "run"]) == 1
    assert "publish.output_dir" in capsys.readouterr().err


def test_two_workers_sharing_postgres_send_each_digest_once(
    tmp_path: Path, feed_url: str, postgres_url: str
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
    config_a = write_config(first, feed_url, database=postgres_url)
    config_b = write_config(second, feed_url, database=postgres_url)
    assert main(["--config", str(config_a), "run"]) == 0
    assert main(["--config", str(config_b), "run", "--force"]) == 0
    sent_a = list((first / "outbox").glob("*.eml"))
    sent_b = list((second / "outbox").glob("*.eml"))
    assert sent_a
    assert sent_b == []  # the second worker found everything already delivered


def test_shipped_config_is_valid_and_sample_releases_cover_every_topic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(REPO / "config.yaml")
    assert set(settings.taxonomy.ids) == set(TOPICS)
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    shipped["sources"] = [s for s in shipped["sources"] if s["type"] == "folder"]  # stay offline
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(shipped), encoding="utf-8")
    assert main(["--config", str(tmp_path / "config.yaml"), "run"]) == 0
    for topic in TOPICS:
        parsed = feedparser.parse((tmp_path / "feeds" / f"{topic}.atom").read_bytes())
        assert len(parsed.entries) >= 2, topic
    assert list((tmp_path / "var" / "outbox").glob("*.eml"))
    # What readers see (issue 8): no dateline for a summary, no address for an author,
    # and a page of its own for every item from the folder (none has a link).
    base = shipped["base_url"].rstrip("/") + "/"
    everything = feedparser.parse((tmp_path / "feeds" / "all.atom").read_bytes()).entries
    assert len(everything) >= 10
    for entry in everything:
        assert len(entry.summary) > 150, entry.summary
        assert find_date(entry.summary[:40]) is None, entry.summary
        assert "@" not in entry.get("author", ""), entry.author
        assert entry.link.startswith(f"{base}items/"), entry.link
        assert (tmp_path / "feeds" / entry.link.removeprefix(base)).is_file()


def test_operator_templates_replace_the_shipped_ones(tmp_path: Path, feed_url: str) -> None:
    custom = tmp_path / "my-templates"
    shutil.copytree(REPO / "templates", custom)
    base = custom / "pages" / "base.html"
    text = base.read_text(encoding="utf-8").replace("</body>", "<!-- our press office -->\n</body>")
    base.write_text(text, encoding="utf-8")
    config = write_config(tmp_path, feed_url, templates_dir="my-templates")
    assert main(["--config", str(config), "run"]) == 0
    assert "<!-- our press office -->" in (tmp_path / "out" / "index.html").read_text(
        encoding="utf-8"
    )


def test_concurrent_workers_on_postgres_deliver_each_digest_exactly_once(
    tmp_path: Path, feed_url: str, postgres_url: str
) -> None:
    import subprocess
    import sys

    folders = [tmp_path / name for name in ("w1", "w2", "w3")]
    configs = []
    for folder in folders:
        folder.mkdir()
        configs.append(write_config(folder, feed_url, database=postgres_url))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "syndicator.cli", "--config", str(c), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in configs
    ]
    errors = []
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        errors.append(err)
    recipients = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["To"]
        .addresses[0]
        .addr_spec
        for folder in folders
        for p in (folder / "outbox").glob("*.eml")
    ]
    assert sorted(recipients) == ["ana@example.org", "ben@example.org"], errors
