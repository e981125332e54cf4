"""Folders of release files: one item per file, identified by its relative path.

The path (not the content) is the identity, so editing a file updates its
item instead of adding a duplicate. One unreadable file is a warning; the
folder's other files are still collected. A missing folder fails the source.
What may be read at all (regular files beneath the folder, never through a
link) is decided in :mod:`syndicator.collect.folder_files`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from syndicator.collect.folder_files import FolderOpenError, ReleaseFolder, SkippedFile
from syndicator.collect.identity import path_identity
from syndicator.collect.items import make_item
from syndicator.collect.releases import ReleaseError, read_release
from syndicator.config import CollectSettings, FolderSource
from syndicator.models import Item

log = logging.getLogger("syndicator.collect")


class FolderError(Exception):
    """The folder itself cannot be read; ``error_class`` is what the source's health records."""

    def __init__(self, message: str, error_class: str = "not_found") -> None:
        super().__init__(message)
        self.error_class = error_class


@dataclass(frozen=True, slots=True)
class FolderScan:
    items: tuple[Item, ...]
    warnings: tuple[str, ...]


def scan_folder(
    source: FolderSource, settings: CollectSettings, known: frozenset[str] | None = None
) -> FolderScan:
    """Read every matching file of the folder (blocking; run it in a thread).

    ``known`` holds the identities already stored for the source; a file among them
    that has no date was reported when it was new and is not reported again.
    """
    root = source.path
    try:
        folder = ReleaseFolder(root)
    except FolderOpenError as exc:
        raise FolderError(str(exc), "not_found" if exc.missing else "unreadable") from None
    with folder:
        try:
            listing = folder.listing(source.patterns, source.recursive, settings.max_bytes)
        except OSError as exc:
            raise FolderError(
                f"cannot list folder {root}: {exc.strerror or exc}", "unreadable"
            ) from None
        return _read_all(
            source, settings, folder, listing.files, list(listing.skipped), known
        )


def _read_all(
    source: FolderSource,
    settings: CollectSettings,
    folder: ReleaseFolder,
    files: tuple[str, ...],
    warnings: list[str],
    known: frozenset[str] | None,
) -> FolderScan:
    root = source.path
    items: list[Item] = []
    for relative in files:
        if len(items) >= settings.max_entries:
            warnings.append(
                f"{root}: more than {settings.max_entries} files; the rest are skipped this cycle"
            )
            break
        try:
            data = folder.read(relative, settings.max_bytes)
        except SkippedFile as exc:
            warnings.append(f"{relative}: skipped, {exc}")
            continue
        except OSError as exc:
            warnings.append(f"{relative}: unreadable ({exc.strerror or exc}); skipped")
            continue
        try:
            release = read_release(PurePosixPath(relative).name, data)
        except ReleaseError as exc:
            warnings.append(f"{relative}: cannot be read as a release ({exc}); skipped")
            continue
        except Exception as exc:  # a file the readers' libraries choke on fails alone
            if not isinstance(exc, ValueError | LookupError | RecursionError):
                log.warning("reading %s failed unexpectedly", root / relative, exc_info=True)
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
