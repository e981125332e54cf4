"""What parsing one fetched document yields, whatever its format."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from syndicator.collect.releases.common import ReleaseError
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


@contextmanager
def parse_errors(what: str, memory_mb: int | None = None) -> Iterator[None]:
    """Turn any failure of the work inside into ``ParseFailure("parse_error", ...)``.

    ``what`` names the work ("parsing URL", "reading URL"). ParseFailure and
    ReleaseError pass through. Parsing runs on untrusted bytes, in a worker
    (where only exceptions that pickle by their arguments may leave) or
    in-process: either way a hostile document must fail its own source with
    ``parse_error``, the same way wherever it was parsed.
    """
    try:
        yield
    except (ParseFailure, ReleaseError):
        raise
    except MemoryError:
        limit = f"more than {memory_mb} MB" if memory_mb else "too much memory"
        raise ParseFailure("parse_error", f"{what} needed {limit}") from None
    except RecursionError:
        raise ParseFailure("parse_error", f"{what} failed: nesting too deep") from None
    except Exception as exc:
        raise ParseFailure("parse_error", f"{what} failed: {type(exc).__name__}: {exc}") from None
