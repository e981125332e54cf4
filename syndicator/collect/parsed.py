"""What parsing one fetched document yields, whatever its format."""

from __future__ import annotations

from dataclasses import dataclass

from syndicator.models import Item


class ParseFailure(Exception):
    """The document is not a feed we can read; ``error_class`` is not_a_feed or parse_error."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class

    def __reduce__(self) -> tuple[type[ParseFailure], tuple[str, str]]:
        # Raised in parse worker processes: keep both arguments across pickling.
        return (ParseFailure, (self.error_class, str(self)))


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """Items already wrapped into records; nothing past this point sees a feedparser dict."""

    title: str
    kind: str
    items: tuple[Item, ...]
    warnings: tuple[str, ...] = ()
