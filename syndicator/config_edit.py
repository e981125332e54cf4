"""Changing the sources in config.yaml without disturbing the operator's comments.

``sources add``, ``disable``, ``enable`` and ``remove`` edit the file the operator
wrote. A plain YAML round trip would drop every comment of the shipped,
commented config, so the edit goes through ruamel.yaml's round-trip mode, which
keeps comments, order and quoting. The result is validated as a whole before the
file is replaced (atomically), so a change that would make the configuration
invalid leaves the file as it was.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from syndicator.atomic import atomic_write
from syndicator.config import parse_settings
from syndicator.errors import ConfigError

Edit = Callable[[CommentedSeq], None]


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap the operator's long lines
    rt.indent(mapping=2, sequence=4, offset=2)  # the shipped config's list style
    return rt


def source_snippet(entry: dict[str, Any]) -> str:
    """The YAML for one list entry, indented as the shipped config does (for --dry-run)."""
    body = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
    return "".join(f"  {line}" if line.strip() else line for line in body.splitlines(True))


def _edited(text: str, edit: Edit) -> str:
    """``text`` with ``edit`` applied to its top-level ``sources`` list."""
    rt = _yaml()
    try:
        document = rt.load(text)
    except YAMLError as exc:
        raise ConfigError(f"the configuration is not valid YAML: {exc}") from None
    if not isinstance(document, CommentedMap):
        raise ConfigError("the configuration is not a mapping of settings")
    sources = document.get("sources")
    if sources is None:
        sources = document["sources"] = CommentedSeq()
    if not isinstance(sources, CommentedSeq):
        raise ConfigError("'sources' must be a list")
    edit(sources)
    out = io.StringIO()
    rt.dump(document, out)
    return out.getvalue()


def _take_trailing_comment(entry: Any) -> Any:
    """Detach the comment lines that follow ``entry`` in the file.

    ruamel.yaml attaches the comments between the end of a list and the next
    top-level key (in the shipped config, the heading of the ``collect`` section)
    to the list's last entry. When that entry stops being last, they must move
    with the end of the list, not stay in the middle of it.
    """
    if not isinstance(entry, CommentedMap) or not entry:
        return None
    last = list(entry.keys())[-1]
    slots = entry.ca.items.get(last)
    if not slots or len(slots) < 3 or slots[2] is None:
        return None
    token = slots[2]
    slots[2] = None
    return token


def _put_trailing_comment(entry: Any, token: Any) -> None:
    if token is None or not isinstance(entry, CommentedMap) or not entry:
        return
    last = list(entry.keys())[-1]
    slots = entry.ca.items.setdefault(last, [None, None, None, None])
    slots[2] = token


def _keeping_trailing_comment(sources: CommentedSeq, change: Edit) -> None:
    """Apply ``change`` so that the comment after the list stays after the list."""
    token = _take_trailing_comment(sources[-1]) if sources else None
    change(sources)
    if sources:
        _put_trailing_comment(sources[-1], token)


def _index(sources: CommentedSeq, source_id: str) -> int:
    for position, entry in enumerate(sources):
        if isinstance(entry, dict) and entry.get("id") == source_id:
            return position
    known = ", ".join(str(e.get("id")) for e in sources if isinstance(e, dict))
    raise ConfigError(f"no source with id {source_id!r} in the configuration (known: {known})")


def with_source(text: str, entry: dict[str, Any]) -> str:
    """``text`` with ``entry`` appended to its ``sources`` list."""
    return _edited(
        text,
        lambda sources: _keeping_trailing_comment(
            sources, lambda seq: seq.append(CommentedMap(entry))
        ),
    )


def with_source_enabled(text: str, source_id: str, enabled: bool) -> str:
    """``text`` with the source ``source_id`` switched on or off.

    ``enabled: true`` is the default, so enabling removes the key rather than
    writing the default out.
    """

    def switch(sources: CommentedSeq) -> None:
        entry = sources[_index(sources, source_id)]
        token = _take_trailing_comment(entry)
        if enabled:
            entry.pop("enabled", None)
        else:
            entry["enabled"] = False
        _put_trailing_comment(entry, token)

    return _edited(text, switch)


def without_source(text: str, source_id: str) -> str:
    """``text`` without the source ``source_id``."""
    return _edited(
        text,
        lambda sources: _keeping_trailing_comment(
            sources, lambda seq: seq.pop(_index(seq, source_id))
        ),
    )


def rewrite_config(path: Path, change: Callable[[str], str]) -> None:
    """Apply ``change`` to the file at ``path``, refusing anything invalid.

    A :class:`ConfigError` (from the change or from validating its result)
    leaves the file untouched; the file keeps its permissions.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    updated = change(text)
    parse_settings(yaml.safe_load(updated), path)
    try:
        atomic_write(path, updated.encode("utf-8"), path.stat().st_mode & 0o7777)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None


def add_source(path: Path, entry: dict[str, Any]) -> None:
    """Append a source to the config file at ``path``, refusing anything invalid."""
    rewrite_config(path, lambda text: with_source(text, entry))
