"""Folders of release files: one item per file, identified by its relative path.

The path (not the content) is the identity, so editing a file updates its
item instead of adding a duplicate. One unreadable file is a warning; the
folder's other files are still collected. A missing folder fails the source.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from syndicator.collect.identity import path_identity
from syndicator.collect.items import make_item
from syndicator.collect.releases import ReleaseError, read_release
from syndicator.config import CollectSettings, FolderSource
from syndicator.models import Item

log = logging.getLogger("syndicator.collect")


class FolderError(Exception):
    """The folder itself cannot be read."""


@dataclass(frozen=True, slots=True)
class FolderScan:
    items: tuple[Item, ...]
    warnings: tuple[str, ...]


def _files(source: FolderSource) -> list[Path]:
    root = source.path
    found: set[Path] = set()
    for pattern in source.patterns:
        matches = root.rglob(pattern) if source.recursive else root.glob(pattern)
        for path in matches:
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts):
                continue  # editor swap files, .git, hidden drafts
            if path.is_file():
                found.add(path)
    return sorted(found)


def scan_folder(
    source: FolderSource, settings: CollectSettings, known: frozenset[str] | None = None
) -> FolderScan:
    """Read every matching file of the folder (blocking; run it in a thread).

    ``known`` holds the identities already stored for the source; a file among them
    that has no date was reported when it was new and is not reported again.
    """
    root = source.path
    if not root.exists():
        raise FolderError(f"folder {root} does not exist")
    if not root.is_dir():
        raise FolderError(f"{root} is not a folder")
    try:
        files = _files(source)
    except OSError as exc:
        raise FolderError(f"cannot list folder {root}: {exc}") from None
    items: list[Item] = []
    warnings: list[str] = []
    for path in files:
        relative = path.relative_to(root).as_posix()
        if len(items) >= settings.max_entries:
            warnings.append(
                f"{root}: more than {settings.max_entries} files; the rest are skipped this cycle"
            )
            break
        try:
            size = path.stat().st_size
            if size > settings.max_bytes:
                warnings.append(
                    f"{relative}: skipped, {size} bytes is over the {settings.max_bytes}-byte cap"
                )
                continue
            data = path.read_bytes()
        except OSError as exc:
            warnings.append(f"{relative}: unreadable ({exc.strerror or exc}); skipped")
            continue
        try:
            release = read_release(path.name, data)
        except ReleaseError as exc:
            warnings.append(f"{relative}: cannot be read as a release ({exc}); skipped")
            continue
        except Exception as exc:  # a file the readers' libraries choke on fails alone
            if not isinstance(exc, ValueError | LookupError | RecursionError):
                log.warning("reading %s failed unexpectedly", path, exc_info=True)
            warnings.append(
                f"{relative}: cannot be read as a release ({type(exc).__name__}: {exc}); skipped"
            )
            continue
        identity = path_identity(relative)
        if release.published_at is None and (known is None or identity not in known):
            warnings.append(f"{relative}: no date found; collected without a publication date")
        items.append(
            make_item(
                source_id=source.id,
                identity=identity,
                title=release.title,
                paragraphs=release.paragraphs,
                link=release.link,
                guid=release.guid,
                published_at=release.published_at,
                lang=source.lang or release.lang,
                author=release.author,
                declared_topics=release.declared_topics,
                max_chars=settings.max_field_chars,
            )
        )
    return FolderScan(tuple(items), tuple(warnings))
