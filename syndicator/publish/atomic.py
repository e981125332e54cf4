"""Atomic, change-aware file writes for everything users fetch.

A reader or web server must never see half a feed, and a feed that did not
change must keep its mtime (and its inode): conditional GETs, rsync and
mirrors all key on them. So the new bytes are compared with the old ones
first, and only a difference is written (:func:`syndicator.atomic.atomic_write`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from syndicator.atomic import atomic_write, remove_stale_temporaries
from syndicator.errors import OutputError

log = logging.getLogger("syndicator.publish")

FILE_MODE = 0o644
"""Published files are world-readable: the web server usually runs as another user."""


def ensure_folder(folder: Path) -> None:
    """Create ``folder`` (and parents) or raise :class:`OutputError` naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}") from exc
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} is not a folder")


def remove_debris(folder: Path) -> list[Path]:
    """Remove the temporary files killed writers left in ``folder`` (see
    :func:`syndicator.atomic.remove_stale_temporaries`); each removal is logged.

    Raises :class:`OutputError` naming the folder when it cannot be listed.
    """
    try:
        removed = remove_stale_temporaries(folder)
    except FileNotFoundError:
        return []  # a sub-folder not created yet holds no debris
    except OSError as exc:
        raise OutputError(f"cannot list output folder {folder}") from exc
    for path in removed:
        log.warning("removed %s, a temporary file left by a publish run that was killed", path)
    return removed


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds exactly that.

    Returns True when the file was written, False when it was left alone.
    Raises :class:`OutputError` naming the file when it cannot be read or written.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputError(f"cannot read {path} to compare it") from exc
    _replace(path, data)
    return True


def _replace(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data, FILE_MODE)
    except OSError as exc:
        raise OutputError(f"cannot write {path}") from exc
