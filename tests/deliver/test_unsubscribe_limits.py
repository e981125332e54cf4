"""The public endpoint under hostile requests: bounded, brief answers, no stack trace logged.

Every request goes to the real application on 127.0.0.1 (aiohttp's test server,
which applies the same ``handler_args`` as ``syndicator serve``), and every test
checks the captured log for a trace.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from syndicator.deliver.tokens import TokenSigner
from syndicator.models import Subscriber
from syndicator.store import SqlStore, open_store
from syndicator.web.guard import MAX_BODY_BYTES
from syndicator.web.unsubscribe import make_unsubscribe_app

from .conftest import SIGNING_KEY, MakeSettings

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TOKEN = TokenSigner(SIGNING_KEY).sign("ann@example.org")
MB = 1024 * 1024

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
def logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    """Everything logged at the default level, wherever it goes.

    ``syndicator`` stops propagating once the CLI has configured logging in this
    process; let it reach pytest's handler again.
    """
    monkeypatch.setattr(logging.getLogger("syndicator"), "propagate", True)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="syndicator")
    return caplog


def assert_no_trace(logs: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in logs.text
    assert [r.getMessage() for r in logs.records if r.exc_info] == []


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = open_store(url)
    store.sync_config_recipients([Subscriber("ann@example.org", ("corruption",))], NOW)
    store.close()
    return url


@pytest.fixture
async def client(db_url: str, make_settings: MakeSettings) -> AsyncIterator[Client]:
    app = make_unsubscribe_app(lambda: open_store(db_url), make_settings(), clock=lambda: NOW)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


def unsubscribed(db_url: str) -> bool:
    store: SqlStore = open_store(db_url)
    try:
        (state,) = store.recipient_states()
        return state.unsubscribed_at is not None
    finally:
        store.close()


@pytest.mark.parametrize("query", [{}, {"token": TOKEN}])
async def test_a_50_mb_multipart_upload_is_refused_with_413(
    client: Client, logs: pytest.LogCaptureFixture, db_url: str, query: dict[str, str]
) -> None:
    form = aiohttp.FormData()
    form.add_field("token", TOKEN)
    form.add_field(
        "file",
        io.BytesIO(b"\0" * (50 * MB)),
        filename="big.bin",
        content_type="application/octet-stream",
    )
    response = await client.post("/unsubscribe", params=query, data=form)
    assert response.status == 413
    assert len(await response.read()) < 200
    assert not unsubscribed(db_url)
    assert_no_trace(logs)


async def test_a_chunked_body_without_length_is_cut_off_with_413(
    client: Client, logs: pytest.LogCaptureFixture, db_url: str
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield f"token={TOKEN}&".encode()
        for _ in range(50):
            yield b"x" * MB

    response = await client.post(
        "/unsubscribe",
        data=endless(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 413
    assert not unsubscribed(db_url)
    assert_no_trace(logs)


async def test_the_body_limit_is_a_few_kib_not_a_megabyte(
    client: Client, logs: pytest.LogCaptureFixture, db_url: str
) -> None:
    """A one-click body is 26 bytes; 64 KiB is refused even with a genuine token in the URL."""
    padding = "x" * (64 * 1024)
    response = await client.post(
        "/unsubscribe",
        params={"token": TOKEN},
        data={"List-Unsubscribe": "One-Click", "padding": padding},
    )
    assert response.status == 413
    assert not unsubscribed(db_url)
    just_fits = "x" * (MAX_BODY_BYTES - 200)
    response = await client.post("/unsubscribe", data={"token": TOKEN, "padding": just_fits})
    assert response.status == 200
    assert unsubscribed(db_url)
    assert_no_trace(logs)


async def test_a_body_on_a_get_is_bounded_too(
    client: Client, logs: pytest.LogCaptureFixture
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield b"x" * MB

    response = await client.get("/unsubscribe", params={"token": TOKEN}, data=endless())
    assert response.status == 413
    assert_no_trace(logs)


@pytest.mark.parametrize(
    ("content_type", "body", "extra"),
    [
        pytest.param("multipart/form-data", b"token=abc", {}, id="multipart-without-boundary"),
        pytest.param(
            "multipart/form-data; boundary=yy", b"--xx\r\ngarbage\r\n", {}, id="wrong-boundary"
        ),
        pytest.param(
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="token"\r\n'
            b"Content-Type: text/plain; charset=klingon\r\n\r\nabc\r\n--b--\r\n",
            {},
            id="part-with-unknown-charset",
        ),
        pytest.param(
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b--\r\n",
            {},
            id="part-without-name",
        ),
        pytest.param(
            "application/x-www-form-urlencoded; charset=klingon",
            b"token=%FF%FE",
            {},
            id="urlencoded-unknown-charset",
        ),
        pytest.param(
            "application/x-www-form-urlencoded",
            b"not gzip at all",
            {"Content-Encoding": "gzip"},
            id="broken-gzip",
        ),
    ],
)
async def test_malformed_forms_are_answered_400(
    client: Client,
    logs: pytest.LogCaptureFixture,
    db_url: str,
    content_type: str,
    body: bytes,
    extra: dict[str, str],
) -> None:
    response = await client.post(
        "/unsubscribe", data=body, headers={"Content-Type": content_type, **extra}
    )
    assert response.status == 400
    assert "Malformed" in await response.text()
    assert not unsubscribed(db_url)
    assert_no_trace(logs)


@pytest.mark.parametrize("content_type", ["bogus/@@; x=", "application/json", "text/plain"])
async def test_a_body_that_is_not_a_form_is_answered_415(
    client: Client, logs: pytest.LogCaptureFixture, content_type: str
) -> None:
    response = await client.post(
        "/unsubscribe", data=f"token={TOKEN}".encode(), headers={"Content-Type": content_type}
    )
    assert response.status == 415
    assert_no_trace(logs)


async def test_with_the_token_in_the_url_the_body_is_not_parsed(
    client: Client, logs: pytest.LogCaptureFixture, db_url: str
) -> None:
    """The signed token is the proof; an odd body from a mail client must not lose the click."""
    response = await client.post(
        "/unsubscribe",
        params={"token": TOKEN},
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "text/plain"},
    )
    assert response.status == 200
    assert unsubscribed(db_url)
    assert_no_trace(logs)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param("/unsubscribe?token=" + "A" * 100_000, {}, id="huge-token"),
        pytest.param("/unsubscribe?token=" + "A" * 3_000, {}, id="long-token"),
        pytest.param("/unsubscribe", {"X-Junk": "j" * 20_000}, id="huge-header"),
        pytest.param("/" + "p" * 10_000, {}, id="huge-path"),
    ],
)
async def test_oversized_urls_and_headers_are_answered_400(
    client: Client, logs: pytest.LogCaptureFixture, path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status == 400
    assert len(await response.read()) < 2000
    assert_no_trace(logs)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("PUT", "/unsubscribe", 405), ("DELETE", "/unsubscribe", 405), ("GET", "/admin", 404)],
)
async def test_other_methods_and_paths_get_their_status(
    client: Client, logs: pytest.LogCaptureFixture, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, data=b"x" * 100)
    assert response.status == status
    assert_no_trace(logs)


async def test_a_failing_handler_answers_a_short_500_and_logs_one_line(
    db_url: str, make_settings: MakeSettings, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    """A page template that breaks at render time stands for any bug behind a request."""
    custom = tmp_path / "custom"
    (custom / "email").mkdir(parents=True)
    (custom / "email" / "unsubscribe_page.html").write_text("{{ email.no_such_method() }}\n")
    app = make_unsubscribe_app(lambda: open_store(db_url), make_settings(templates_dir=str(custom)))
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        response = await test_client.get("/unsubscribe", params={"token": TOKEN})
        body = await response.text()
    assert response.status == 500
    assert body == "Internal error. Please try again later.\n"
    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "event=http_error method=GET path=/unsubscribe error=UndefinedError"
    ]
    assert_no_trace(logs)


async def test_the_access_log_leaves_out_the_token(
    client: Client, logs: pytest.LogCaptureFixture
) -> None:
    """The token carries the subscriber's address: it stays out of the log."""
    response = await client.get("/unsubscribe", params={"token": TOKEN})
    assert response.status == 200
    assert TOKEN not in logs.text
    assert "event=http_request method=GET path=/unsubscribe status=200" in logs.text
