"""The output formats: one table of what publishing can write.

Each format has a name (what ``publish.formats`` lists), a file extension, a
media type, a label for people, and either a builder that turns one channel into
the bytes of one feed file, or none for a site-level output that publishing
writes once for the whole site (the OPML list, the HTML pages). Feed formats are
the ones the pages link to and the OPML list can point to; ``opml_rank`` orders
that choice (lowest first).

The built-in formats are registered in :mod:`syndicator.publish.builtin_formats`,
which the package imports, so adding a feed format touches two files: the
module with its builder and one entry there. Config validation, file names, the
pages' links, the OPML list and the web server's content types all read this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syndicator.publish.channels import Channel


@dataclass(frozen=True, slots=True)
class OutputFormat:
    name: str
    media_type: str
    label: str
    builder: Callable[[Channel], bytes] | None
    """Channel → the bytes of its feed file; None for a site-level output."""
    extension: str = ""
    """Without the dot; the name when empty."""
    opml_rank: int = 100
    """Preference for the OPML outline of a channel (lowest wins)."""

    @property
    def suffix(self) -> str:
        return self.extension or self.name

    @property
    def is_feed(self) -> bool:
        """A per-channel feed: linked from the pages, listed in the OPML list."""
        return self.builder is not None


_FORMATS: dict[str, OutputFormat] = {}


def register_format(fmt: OutputFormat) -> None:
    """Make ``fmt.name`` a valid entry of ``publish.formats``; a name is registered once."""
    if fmt.name in _FORMATS:
        raise ValueError(f"output format {fmt.name!r} is already registered")
    _FORMATS[fmt.name] = fmt


def unregister_format(name: str) -> None:
    """Forget a format (a test that registered one cleans up with this)."""
    _FORMATS.pop(name, None)


def output_format(name: str) -> OutputFormat:
    """The registered format ``name``; a name config validation let through is always there."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise LookupError(
            f"output format {name!r} is not registered; known: {', '.join(known_formats())}"
        ) from None


def known_formats() -> tuple[str, ...]:
    return tuple(sorted(_FORMATS))


def feed_formats(names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``names`` that are per-channel feeds, in the order given."""
    return tuple(n for n in names if output_format(n).is_feed)


def media_type_for(file_name: str) -> str | None:
    """The media type of a published file, by its extension; None when no format makes it.

    For anything that serves the output folder (``syndicator serve``), so it sends
    the same types the feeds' self links and the pages' ``<link>`` announce.
    """
    suffix = file_name.rsplit(".", 1)[-1] if "." in file_name else ""
    return next((f.media_type for f in _FORMATS.values() if f.suffix == suffix), None)
