"""Helpers: a scripted HTTP server on 127.0.0.1 for the collect tests.

Each path is given a handler: a canned response (status, headers, body,
delay) or a function that writes whatever it likes to the socket (drip,
lie about Content-Length, ...). Every request is logged with its headers so
tests can check conditional requests, the User-Agent and politeness.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from syndicator.collect.parsed import ParsedFeed

Handler = Callable[[BaseHTTPRequestHandler], None]
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@dataclass
class Logged:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Script:
    routes: dict[str, Handler] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    port: int = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        extra = dict(headers or {})

        def respond(h: BaseHTTPRequestHandler) -> None:
            if delay:
                time.sleep(delay)
            h.send_response(status)
            for k, v in extra.items():
                h.send_header(k, v)
            if "Content-Length" not in extra:
                h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            if status not in (204, 304):
                h.wfile.write(data)

        self.routes[path] = respond

    def requests_to(self, path: str) -> list[Logged]:
        return [r for r in self.log if r.path == path]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default (5) drops simultaneous connects; tests make many
    script: Script

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # clients that hang up early are what several tests are about


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        script = self.server.script
        script.log.append(Logged(self.path, dict(self.headers.items()), time.monotonic()))
        handler = script.routes.get(self.path)
        if handler is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler(self)


def start_server() -> tuple[Script, _Server]:
    script = Script()
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.script = script
    script.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return script, httpd


def run_server() -> Iterator[Script]:
    script, httpd = start_server()
    try:
        yield script
    finally:
        httpd.shutdown()
        httpd.server_close()


def hang_parse(*args: object) -> ParsedFeed:
    """A parse that never ends, run in a parse worker (must be importable there)."""
    time.sleep(60)
    raise AssertionError("a hanging parse should have been killed")


def hog_parse(*args: object) -> ParsedFeed:
    """A parse that tries to take far more memory than a worker may have."""
    blocks = [bytearray(50 * 1024 * 1024) for _ in range(100)]
    raise AssertionError(f"memory limit not applied ({len(blocks)} blocks)")


# --------------------------------------------------------------------- pages


def article(title: str, date: str, body: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("|"))
    return (
        f"<html><head><title>{title} | Org</title>"
        f'<meta property="article:published_time" content="{date}"></head><body>'
        f"<nav><a href='/'>Home</a></nav><main><article><h1>{title}</h1>{paragraphs}"
        "<p>Further information:</p><ul><li>UNODC on Corruption</li></ul></article></main>"
        "<footer>Contact us</footer></body></html>"
    )


LONG = "|".join(
    f"Sentence number {i} about corruption and organised crime in the region." for i in range(8)
)


def listing(links: list[str]) -> str:
    items = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    return (
        "<html><body><nav><a href='/about'>About</a></nav>"
        f"<main><ul>{items}</ul><a href='#top'>top</a></main></body></html>"
    )
