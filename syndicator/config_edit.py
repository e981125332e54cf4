"""Adding a source to config.yaml without disturbing the operator's comments.

A YAML round trip through a parser would drop every comment in the shipped,
commented config. Instead the new entry is inserted as text at the end of the
top-level ``sources:`` block, the result is validated as a whole, and only then
is the file replaced (atomically). Anything unusual (flow style, no block) is
refused with the snippet to paste by hand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from syndicator.atomic import atomic_write
from syndicator.config import parse_settings
from syndicator.errors import ConfigError

TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def source_snippet(entry: dict[str, Any]) -> str:
    """The YAML for one list entry, indented as the shipped config does."""
    body = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
    return "".join(f"  {line}" if line.strip() else line for line in body.splitlines(True))


def with_source(text: str, entry: dict[str, Any]) -> str:
    """``text`` with ``entry`` appended to its top-level ``sources:`` block list."""
    lines = text.splitlines(True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^sources\s*:", line)), None)
    if start is None:
        raise ConfigError("no top-level 'sources:' block to add to")
    if lines[start].split(":", 1)[1].split("#", 1)[0].strip():
        raise ConfigError("'sources:' is written in flow style; add the entry by hand")
    end = next(
        (i for i in range(start + 1, len(lines)) if TOP_LEVEL_KEY.match(lines[i])), len(lines)
    )
    # Comments and blank lines just before the next key belong to that key.
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    block_end = lines[end - 1] if end > start else ""
    prefix = "" if block_end.endswith("\n") else "\n"
    insert = prefix + "\n" + source_snippet(entry)
    return "".join(lines[:end]) + insert + "".join(lines[end:])


def add_source(path: Path, entry: dict[str, Any]) -> None:
    """Append a source to the config file at ``path``, refusing anything invalid."""
    text = path.read_text(encoding="utf-8")
    updated = with_source(text, entry)
    parse_settings(yaml.safe_load(updated), path)  # a ConfigError leaves the file untouched
    try:
        atomic_write(path, updated.encode("utf-8"), path.stat().st_mode & 0o7777)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
