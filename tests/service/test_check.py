"""``syndicator check`` proves a configuration can run here, key by key, and changes nothing.

Real parts: folders and SQLite files in a temporary folder, the PostgreSQL test
server, an aiosmtpd server on 127.0.0.1 (with and without a login).
"""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import text

from syndicator.cli import main
from syndicator.store import open_store
from syndicator.store.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]
SMTP_USER, SMTP_PASSWORD = "news", "right horse battery"


def write_config(folder: Path, **overrides: Any) -> Path:
    """A configuration of folders inside ``folder`` that does not exist yet, bar the releases."""
    (folder / "releases").mkdir(exist_ok=True)
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config: dict[str, Any] = {
        "base_url": "https://feeds.example.org/",
        "database": "sqlite:///state/syndicator.sqlite3",
        "sources": [
            {"id": "files", "type": "folder", "path": "releases"},
            {"id": "agency", "type": "feed", "url": "http://127.0.0.1:9/feed.xml"},
        ],
        "taxonomy": shipped["taxonomy"],
        "publish": {"output_dir": "site/feeds"},
        "delivery": {"outbox_dir": "outbox"},
        **overrides,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def check(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["--config", str(config), "check", *extra])
    return code, capsys.readouterr().out


def lines_for(out: str, key: str) -> list[str]:
    return [line for line in out.splitlines() if line.split(maxsplit=1)[-1].startswith(key)]


def test_a_runnable_configuration_is_all_ok_and_nothing_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, out = check(config, capsys)
    assert code == 0, out
    lines = out.splitlines()
    assert all(line.startswith("ok ") for line in lines), out
    for key in (
        "configuration",
        "sources[0] (id=files).path",
        "database",
        "taxonomy",
        "publish.output_dir",
        "delivery.outbox_dir",
        "templates (shipped)",
    ):
        assert len(lines_for(out, key)) == 1, key
    assert "does not exist yet; the first run creates it" in lines_for(out, "database")[0]
    assert not lines_for(out, "sources[1]")  # a feed is not contacted by check
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_each_problem_is_named_by_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "db-folder").mkdir()
    (tmp_path / "my-templates" / "pages").mkdir(parents=True)
    config = write_config(
        tmp_path,
        database="sqlite:///db-folder",
        sources=[
            {"id": "files", "type": "folder", "path": "releases"},
            {"id": "gone", "type": "folder", "path": "no-such-folder"},
            {"id": "flat", "type": "folder", "path": "a-file"},
            {"id": "off", "type": "folder", "path": "also-missing", "enabled": False},
        ],
        publish={"output_dir": "a-file/feeds"},
        delivery={"outbox_dir": "a-file"},
        templates_dir="my-templates",
    )
    code, out = check(config, capsys)
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("problem ")]
    expected = [
        f"sources[1] (id=gone).path: {tmp_path / 'no-such-folder'} does not exist",
        f"sources[2] (id=flat).path: {tmp_path / 'a-file'} is not a folder",
        f"database: cannot open sqlite:///{tmp_path / 'db-folder'}: "
        "unable to open database file",
        f"publish.output_dir: {tmp_path / 'a-file' / 'feeds'} cannot be created: "
        f"{tmp_path / 'a-file'} is a file, not a folder",
        f"delivery.outbox_dir: {tmp_path / 'a-file'} is a file, not a folder",
        f"templates_dir: page template 'index.html' not found in "
        f"{tmp_path / 'my-templates' / 'pages'}",
    ]
    assert [line.removeprefix("problem").strip() for line in problems] == expected
    assert lines_for(out, "sources[0] (id=files).path")[0].startswith("ok ")
    assert "sqlalche" not in out
    assert out.splitlines()[-1] == "6 problem(s) found"


def test_a_broken_template_is_a_problem_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom = tmp_path / "my-templates"
    shutil.copytree(REPO / "templates", custom)
    (custom / "email" / "digest.txt").write_text("{% for item in items %}\n")
    code, out = check(write_config(tmp_path, templates_dir="my-templates"), capsys)
    assert code == 1
    (line,) = lines_for(out, "templates_dir")
    assert line.startswith("problem ")
    assert "email/digest.txt:" in line


def test_a_database_newer_than_the_code_is_refused_and_left_alone(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(store_url)
    store.close()
    config = write_config(tmp_path, database=store_url)
    code, out = check(config, capsys)
    assert code == 0, out
    assert lines_for(out, "database")[0].endswith(f"opens, schema version {SCHEMA_VERSION}")

    store = open_store(store_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    code, out = check(config, capsys)
    assert code == 1
    (line,) = lines_for(out, "database")
    assert line.startswith("problem ")
    assert line.endswith(
        f"schema version 99 is newer than this Syndicator ({SCHEMA_VERSION}); upgrade Syndicator"
    )
    with store.engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
        assert value.scalar() == "99"
    store.close()


def test_an_older_database_is_reported_not_migrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    store = open_store(url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    code, out = check(write_config(tmp_path, database=url), capsys)
    assert code == 0
    assert lines_for(out, "database")[0].endswith(
        f"schema version 1; the next run migrates it to {SCHEMA_VERSION}"
    )
    with store.engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
        assert value.scalar() == "1"
    store.close()


def test_missing_postgres_driver_is_a_problem_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    config = write_config(tmp_path, database="postgresql://syndicator@127.0.0.1/news")
    code, out = check(config, capsys)
    assert code == 1
    (line,) = lines_for(out, "database")
    assert line.startswith("problem ")
    assert "pip install 'syndicator[postgres]'" in line


def test_an_invalid_configuration_still_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, publish={"output_dri": "x"})
    assert main(["--config", str(config), "check"]) == 2
    assert "publish.output_dri" in capsys.readouterr().err


# --------------------------------------------------------------------------- SMTP


class Recording:
    """Keeps every message handed over, so a test can show that check sends none."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


def accept_news_user(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=good, handled=False)  # handled=False: aiosmtpd answers 535


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["open", "login"])
def smtp_server(request: pytest.FixtureRequest) -> Iterator[tuple[Recording, int, bool]]:
    """A plain-text SMTP server on 127.0.0.1; the ``login`` one checks the login it is given."""
    handler = Recording()
    login = request.param == "login"
    options: dict[str, Any] = {}
    if login:
        options = {"authenticator": accept_news_user, "auth_require_tls": False}
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield handler, controller.port, login
    finally:
        controller.stop()


def smtp_config(tmp_path: Path, port: int, **smtp: Any) -> Path:
    block = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5, **smtp}
    return write_config(tmp_path, delivery={"transport": "smtp", "smtp": block})


def test_smtp_server_that_answers_is_ok_and_gets_no_message(
    tmp_path: Path,
    smtp_server: tuple[Recording, int, bool],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler, port, login = smtp_server
    monkeypatch.setenv("SYNDICATOR_SMTP_PASSWORD", SMTP_PASSWORD)
    config = smtp_config(tmp_path, port, username=SMTP_USER if login else None)
    code, out = check(config, capsys, "--smtp")
    assert code == 0, out
    (line,) = lines_for(out, "delivery.smtp")
    assert line.startswith("ok ")
    assert f"127.0.0.1:{port} answered" in line
    assert (f"logged in as {SMTP_USER!r}" in line) == login
    assert handler.messages == []


@pytest.mark.parametrize("smtp_server", ["login"], indirect=True)
def test_smtp_login_refused_names_the_user(
    tmp_path: Path,
    smtp_server: tuple[Recording, int, bool],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, port, _ = smtp_server
    monkeypatch.setenv("NEWS_SMTP_PASSWORD", "wrong horse")
    config = smtp_config(tmp_path, port, username=SMTP_USER, password_env="NEWS_SMTP_PASSWORD")
    code, out = check(config, capsys, "--smtp")
    assert code == 1
    (line,) = lines_for(out, "delivery.smtp")
    assert line.startswith(
        f"problem  delivery.smtp: 127.0.0.1:{port} refused the login of {SMTP_USER!r} (535 "
    )

    monkeypatch.delenv("NEWS_SMTP_PASSWORD")
    code, out = check(config, capsys, "--smtp")
    assert code == 1
    assert lines_for(out, "delivery.smtp") == [
        "problem  delivery.smtp.password_env: NEWS_SMTP_PASSWORD is not set; "
        f"the login of {SMTP_USER!r} needs the password in it"
    ]


@pytest.mark.parametrize("smtp_server", ["open"], indirect=True)
def test_smtp_starttls_not_offered_is_a_problem(
    tmp_path: Path, smtp_server: tuple[Recording, int, bool], capsys: pytest.CaptureFixture[str]
) -> None:
    _, port, _ = smtp_server
    code, out = check(smtp_config(tmp_path, port, security="starttls"), capsys, "--smtp")
    assert code == 1
    assert lines_for(out, "delivery.smtp") == [
        f"problem  delivery.smtp: 127.0.0.1:{port} does not offer STARTTLS (security: starttls)"
    ]


def test_smtp_server_that_is_down_did_not_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nobody listens there
    code, out = check(smtp_config(tmp_path, port), capsys, "--smtp")
    assert code == 1
    (line,) = lines_for(out, "delivery.smtp")
    assert line.startswith(f"problem  delivery.smtp: 127.0.0.1:{port} did not answer")
    assert "ConnectionRefusedError" in line


def test_smtp_is_contacted_only_on_request_and_must_be_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = smtp_config(tmp_path, free_port())
    code, out = check(config, capsys)
    assert code == 0
    assert not lines_for(out, "delivery.smtp")
    code, out = check(write_config(tmp_path), capsys, "--smtp")
    assert code == 1
    assert lines_for(out, "delivery.smtp")[0].startswith("problem ")
