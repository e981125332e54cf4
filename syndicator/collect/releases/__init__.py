"""Readers for release files, chosen by file extension."""

from __future__ import annotations

from collections.abc import Callable

from syndicator.collect.releases.common import Release, ReleaseError
from syndicator.collect.releases.eml import read_eml
from syndicator.collect.releases.html import read_html
from syndicator.collect.releases.markdown import read_markdown
from syndicator.collect.releases.text import read_text

READERS: dict[str, Callable[[bytes], Release]] = {
    ".txt": read_text,
    ".text": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".eml": read_eml,
}


def read_release(name: str, data: bytes) -> Release:
    """Read ``data`` as the release type its file ``name`` suggests (plain text by default)."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return READERS.get(suffix, read_text)(data)


__all__ = ["READERS", "Release", "ReleaseError", "read_release"]
