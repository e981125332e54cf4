"""Atomic file replacement, for everything a reader, a relay or an operator may open.

A temporary file in the same folder (same file system, so the rename is
atomic) is written, flushed to disk and renamed over the target; the rename is
then made durable by syncing the folder. Nobody ever sees half a file, and a
crash leaves either the old file or the new one.

A writer killed mid-write (SIGKILL, power loss) cannot remove its temporary
file, and in a folder a web server publishes such debris would pile up and could
be served. So every temporary file is named ``.syndicator-tmp-<pid>-<random>``:
a dotfile, which the documented web server rule refuses to serve
(docs/publishing.md), naming the process that wrote it, so that
:func:`remove_stale_temporaries` can tell debris from a write still under way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from pathlib import Path

log = logging.getLogger("syndicator.atomic")

TEMP_PREFIX = ".syndicator-tmp-"
"""Every temporary file we create starts with this (a dot: web servers hide it)."""
STALE_AFTER_SECONDS = 600.0
"""A temporary file this old is debris whoever wrote it: one write never takes minutes.
Covers writers on another host sharing the folder and process ids reused since."""

_OURS = re.compile(rf"^{re.escape(TEMP_PREFIX)}(\d+)-")
_LEGACY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
"""What versions before the prefix left behind: ``.<target>.<8 random>.tmp``."""


def temp_prefix() -> str:
    """The name prefix of this process's temporary files (also for write probes)."""
    return f"{TEMP_PREFIX}{os.getpid()}-"


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data``; ``mode`` None keeps the private 0600 of a new temp file.

    Raises :class:`OSError`; callers translate it into the error of their resource.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Persist a rename in ``folder``; best effort, as some file systems refuse it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (signal 0 only asks)."""
    if pid <= 0:
        return False  # 0 and negative ids would address process groups
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return True  # cannot tell: keep the file, age will settle it
    return True


def is_stale(name: str, age_seconds: float, alive: bool | None) -> bool:
    """Whether a file called ``name`` is a temporary file no live writer will finish.

    ``alive`` says whether the process named in the file (if any) still runs.
    Ours: stale when that process is gone, or when older than
    :data:`STALE_AFTER_SECONDS` (a reused process id, a writer on another
    host). Names of earlier versions carry no process id: stale by age alone.
    Anything else is not ours and never stale.
    """
    if _OURS.match(name):
        return alive is False or age_seconds > STALE_AFTER_SECONDS
    if _LEGACY.match(name):
        return age_seconds > STALE_AFTER_SECONDS
    return False


def remove_stale_temporaries(folder: Path, now: float | None = None) -> list[Path]:
    """Delete the temporary files that killed writers left in ``folder``; return them.

    Call it where one writer works at a time (publishing holds a lease), before
    writing. A file that cannot be removed is logged and left; listing the
    folder failing raises :class:`OSError`.
    """
    moment = time.time() if now is None else now
    removed: list[Path] = []
    with os.scandir(folder) as entries:
        candidates = [e for e in entries if e.name.startswith(".")]
    for entry in candidates:
        try:
            if entry.is_dir(follow_symlinks=False):
                continue
            age = moment - entry.stat(follow_symlinks=False).st_mtime
            match = _OURS.match(entry.name)
            alive = process_alive(int(match.group(1))) if match else None
            if not is_stale(entry.name, age, alive):
                continue
            os.unlink(entry.path)
        except FileNotFoundError:
            continue  # its writer finished (or another cleaner got there) meanwhile
        except OSError as exc:
            log.warning("cannot remove stale temporary file %s: %s", entry.path, exc)
            continue
        removed.append(Path(entry.path))
    return removed
