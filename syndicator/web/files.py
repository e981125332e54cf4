"""Which file of the output folder a request path names, if any: the only door to the disk.

The output folder is public, but its neighbours are not, and neither are the
publish temporaries (``.syndicator-tmp-*``, half-written until renamed) nor
anything a symlink points to outside the folder. So a request path is taken
apart segment by segment and refused (:class:`NotServed`, answered 404 like any
unknown file) when any segment is empty, ``.`` or ``..``, starts with a dot,
or holds a backslash or NUL, whichever way it was spelt on the wire
(``%2e%2e``, ``%2F``: the router hands us decoded text). What is left is
resolved with symlinks followed and must still lie inside the folder, under no
dotted name. A folder is never listed: ``dir/`` serves ``dir/index.html`` or
nothing.

Everything here is synchronous file-system work; the handler runs it in a
worker thread.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

INDEX = "index.html"


class NotServed(Exception):
    """The path names nothing we serve; the reason is for a developer, never for the client."""


@dataclass(frozen=True)
class AddSlash:
    """The path names a folder with an index page but lacks its trailing ``/``.

    Redirecting keeps the pages' relative links (``corruption.html``, ``../index.html``)
    resolving against the folder, as a web server does.
    """


@dataclass(frozen=True)
class StaticFile:
    """A regular file inside the folder, read whole: output files are feeds and pages."""

    path: Path
    body: bytes
    mtime: float


def _segments(tail: str) -> tuple[list[str], bool]:
    """The path's names and whether it ended in ``/`` (a folder was asked for)."""
    if tail in ("", "/"):
        return [], True
    folder = tail.endswith("/")
    names = (tail[:-1] if folder else tail).split("/")
    for name in names:
        if name in ("", ".", "..") or name.startswith(".") or "\\" in name or "\x00" in name:
            raise NotServed(f"refused path segment {name!r}")
    return names, folder


def _inside(root: Path, candidate: Path) -> Path:
    """``candidate`` with every link resolved, if it exists and stays in ``root`` undotted."""
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # missing, unreadable, or a symlink loop
        raise NotServed(f"{candidate}: {type(exc).__name__}") from exc
    if not real.is_relative_to(root):
        raise NotServed(f"{candidate} leads out of the folder")
    if any(part.startswith(".") for part in real.relative_to(root).parts):
        raise NotServed(f"{candidate} leads to a dotfile")
    return real


def locate(root: Path, tail: str) -> Path | AddSlash:
    """The regular file that ``tail`` (the decoded path below the mount point) names."""
    names, folder = _segments(tail)
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise NotServed(f"output folder {root}: {type(exc).__name__}") from exc
    target = _inside(real_root, real_root.joinpath(*names))
    if target.is_dir():
        index = _inside(real_root, target / INDEX)
        if not folder:
            return AddSlash()
        target = index
    elif folder:
        raise NotServed(f"{target} is not a folder")
    return target


def read(path: Path) -> StaticFile:
    """The file's bytes and modification time, from one open file (a publish may rename over it).

    ``O_NOFOLLOW``: the path was resolved by :func:`locate`; a link put in its place since is
    refused rather than followed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise NotServed(f"{path}: {type(exc).__name__}") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotServed(f"{path} is not a regular file")
        return StaticFile(path, handle.read(), info.st_mtime)


def find(root: Path, tail: str) -> StaticFile | AddSlash:
    """:func:`locate` then :func:`read`, as one call for a worker thread."""
    found = locate(root, tail)
    return found if isinstance(found, AddSlash) else read(found)
