"""The source kinds: what a ``type`` in ``sources`` means, in one table.

Each kind names its settings model (a :class:`~syndicator.config.SourceSettings`
subclass, which config validation uses for the entries of that ``type``), the
coroutine that collects one source of it, and whether the collector should be
handed the item identities the store already holds for a source (so it can skip
what is stored instead of fetching it again).

Adding a kind touches two files: the module with its settings model and its
collect function, and one :func:`register_kind` call (here, for a built-in).
Registration is plain and explicit, so ``grep register_kind`` finds them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from syndicator.collect.folder import FolderError, scan_folder
from syndicator.collect.http import FEED_ACCEPT
from syndicator.collect.pages import add_full_text, collect_page
from syndicator.config import FeedSource, FolderSource, PageSource, SourceSettings
from syndicator.models import CollectResult, Item, SourceState

if TYPE_CHECKING:
    from syndicator.collect.collector import Cycle

S = TypeVar("S", bound=SourceSettings)


@dataclass(frozen=True, slots=True)
class SourceKind(Generic[S]):
    """One kind of source."""

    name: str
    """The ``type`` value in config.yaml."""
    settings: type[S]
    collect: Callable[[Cycle, S, SourceState | None], Awaitable[CollectResult]]
    """Collect one source. Raise :class:`~syndicator.collect.http.FetchError` or
    :class:`~syndicator.collect.parsed.ParseFailure` for a failure of the source, or
    return ``cycle.error(...)``; the cycle turns anything else into an error result too."""
    needs_identities: Callable[[S], bool] = lambda source: False
    """Whether this source wants ``cycle.known_identities(source.id)`` filled in."""


_KINDS: dict[str, SourceKind[Any]] = {}


def register_kind(kind: SourceKind[S]) -> None:
    """Make ``kind.name`` a valid ``type`` in ``sources``; a name is registered once."""
    if kind.name in _KINDS:
        raise ValueError(f"source kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind


def unregister_kind(name: str) -> None:
    """Forget a kind (a test that registered one cleans up with this)."""
    _KINDS.pop(name, None)


def source_kind(name: str) -> SourceKind[Any] | None:
    return _KINDS.get(name)


def kind_of(source: SourceSettings) -> SourceKind[Any]:
    """The kind of a validated source; a source whose kind is gone is a bug, not a config error."""
    kind = _KINDS.get(source.type)
    if kind is None:
        raise LookupError(f"source {source.id}: kind {source.type!r} is not registered")
    return kind


def known_kinds() -> tuple[str, ...]:
    return tuple(sorted(_KINDS))


# --------------------------------------------------------------------------- built-in kinds


async def collect_feed(
    cycle: Cycle, source: FeedSource, state: SourceState | None
) -> CollectResult:
    response, done = await cycle.fetch_source(source, state, accept=FEED_ACCEPT)
    if done is not None:
        return done
    assert response is not None
    parsed = await cycle.parser.parse(
        response.body,
        response.headers,
        response.url,
        source_id=source.id,
        settings=cycle.settings,
        lang=source.lang,
    )
    items: tuple[Item, ...] = parsed.items
    warnings = list(parsed.warnings)
    if source.full_text and items:
        items, more = await add_full_text(
            cycle, items, source.full_text_limit, state, cycle.known_identities(source.id)
        )
        warnings.extend(more)
    return cycle.ok(source, response, items, warnings)


async def collect_folder(
    cycle: Cycle, source: FolderSource, state: SourceState | None
) -> CollectResult:
    try:
        scan = await asyncio.to_thread(
            scan_folder, source, cycle.settings, cycle.known_identities(source.id)
        )
    except FolderError as exc:
        return cycle.error(source, state, exc.error_class, str(exc))
    return CollectResult(
        source_id=source.id,
        status="ok",
        items=scan.items,
        next_fetch_at=cycle.success_time(source, {}, cycle.clock()),
        warnings=scan.warnings,
    )


def _full_text(source: FeedSource) -> bool:
    return source.full_text


register_kind(SourceKind("feed", FeedSource, collect_feed, needs_identities=_full_text))
# Page sources skip stored releases before fetching; folders warn about an undated
# file once, while it is new.
register_kind(SourceKind("page", PageSource, collect_page, needs_identities=lambda s: True))
register_kind(SourceKind("folder", FolderSource, collect_folder, needs_identities=lambda s: True))
