"""Reading JSON Lines, once for every command that takes records (``tag``, ``eval``).

A bad line is reported as a :class:`BadLine` naming the file and line number
rather than raised, so a caller chooses: ``tag`` reports it and goes on with the
rest, ``eval`` stops (a labelled set with a broken line would give wrong figures).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not a JSON object, with where it is (``file:line``)."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def read_objects(lines: Iterable[str], name: str) -> Iterator[tuple[str, dict[str, Any]] | BadLine]:
    """``(where, object)`` for each non-blank line, or a :class:`BadLine`."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadLine(where, f"not valid JSON: {exc.msg}")
            continue
        if isinstance(value, dict):
            yield where, value
        else:
            yield BadLine(where, "expected a JSON object")
