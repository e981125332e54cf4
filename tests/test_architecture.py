"""The rooms of docs/architecture.md, held against the code's imports.

Stages meet in the models and the store, never in each other; the command line and the
web application reach the work only through the service. The rules are spelt out here
once, and docs/architecture.md's "may use" column says the same in words.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "syndicator"

SHARED = frozenset(
    {
        "__version__", "addresses", "atomic", "config", "errors", "jsonl", "models",
        "resources", "site", "teaser", "text", "written_dates", "templating", "i18n",
    }
)
"""Leaf modules any room may use: records, settings, errors and small pure helpers."""

MAY_USE: dict[str, frozenset[str]] = {
    "collect": SHARED,
    # The store indexes and pre-filters with the query package's pure word rules.
    "store": SHARED | {"query"},
    "tagging": SHARED,
    # Saved searches fold text and know country codes as the tagger does.
    "query": SHARED | {"tagging"},
    "publish": SHARED | {"store"},
    "deliver": SHARED | {"store"},
    "config_edit": SHARED,
    "service": SHARED
    | {"collect", "store", "tagging", "query", "publish", "deliver", "config_edit"},
    # The web application reaches the work through the service; it also reads the
    # signed-link tokens and email templates of deliver, the media types of publish's
    # formats registry, and types against the store.
    "web": SHARED | {"service", "deliver", "publish", "store"},
    "cli": SHARED | {"service", "web", "config_edit"},
}


REGISTRIES = frozenset(
    {
        "syndicator.collect.kinds",
        "syndicator.publish.formats",
        "syndicator.deliver.transports",
        "syndicator.query.subscription",
    }
)
"""The configuration checks source kinds, output formats and transports against their
registries (imported lazily, inside its validators, since the registries read settings),
and a subscriber's query and countries with the query parser's own checks."""


def _room(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _imported_rooms(path: Path) -> Iterator[str]:
    for module in _imported_modules(path):
        if not (_room(path) == "config" and module in REGISTRIES):
            yield module.split(".")[1]


def _imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "syndicator":
                names = [f"syndicator.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "syndicator" and len(parts) > 1:
                yield name


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_uses_only_what_its_room_may(path: Path) -> None:
    room = _room(path)
    allowed = MAY_USE.get(room, SHARED) | {room}
    used = set(_imported_rooms(path))
    assert used <= allowed, f"{room} may not use {sorted(used - allowed)}"


def test_shared_modules_use_no_room() -> None:
    for path in _modules():
        room = _room(path)
        if room in SHARED:
            used = set(_imported_rooms(path)) - {room}
            assert used <= SHARED, f"{path.name} reaches into {sorted(used - SHARED)}"
