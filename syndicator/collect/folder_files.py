"""Listing and opening release files beneath a folder without ever leaving it.

A folder source is often a drop folder that other people, or a mail robot,
write into, while Syndicator reads it with the service's own rights and
publishes what it reads to the world. A symbolic link in it would hand anyone
who can write the folder everything the service can read (``/etc/passwd``, the
service's own secrets); a FIFO would hang the read forever. So:

* Links are never followed, wherever they point. A link within the folder adds
  nothing (its target is read under its own name) but would give one file two
  identities, and checking where a link leads before opening it races with
  whoever can retarget it; refusing every link is the one rule without a gap.
* Only regular files are read; FIFOs, sockets and devices are skipped unopened.
* Subfolders are opened by descriptor relative to their parent with
  ``O_NOFOLLOW``, and files likewise with ``O_NOFOLLOW | O_NONBLOCK``; the opened
  descriptor is checked again with ``fstat`` (a regular file, within the size
  cap) before a byte is read, and at most the cap plus one byte is read. A file
  or folder swapped for a link or a FIFO between the listing and the read is
  refused rather than followed, and an open never waits for a FIFO's writer.

Hard links are ordinary files to the kernel and are read; Linux's
``fs.protected_hardlinks`` (on by default) already stops anyone from linking a
file they could not read and write themselves.

A name that is not valid UTF-8 is skipped too: the relative path becomes the
item's identity in the database, which stores text. Every entry skipped for one
of these reasons is reported with its relative path and the reason, so the
source's health says why a file did not become an item. Hidden entries (a
leading dot) stay skipped silently, as before.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType

_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW
_CHUNK = 1 << 20
LINKS_NOT_FOLLOWED = "links are never followed"
NOT_TEXT = "its name is not valid UTF-8 (rename it to have it read)"


class FolderOpenError(Exception):
    """The configured folder itself cannot be opened; ``missing`` tells why."""

    def __init__(self, message: str, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


class SkippedFile(Exception):
    """A listed file that is not read; ``str()`` is the reason, for the warning."""


@dataclass(frozen=True, slots=True)
class Listing:
    files: tuple[str, ...]
    """Relative POSIX paths of the regular files to read, in path order."""
    skipped: tuple[str, ...]
    """One warning per entry left out, naming it and saying why."""


def kind_of(mode: int) -> str:
    """What a directory entry is, in an operator's words."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


def over_cap(size: int, max_bytes: int) -> str:
    return f"{size} bytes is over the {max_bytes}-byte cap"


class ReleaseFolder:
    """An open release folder: every later look-up is relative to its descriptor.

    The configured path itself may be a link (that is the operator's choice);
    it is resolved once, when the folder is opened.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise FolderOpenError(f"folder {path} does not exist", missing=True) from None
        except NotADirectoryError:
            raise FolderOpenError(f"{path} is not a folder", missing=True) from None
        except OSError as exc:
            raise FolderOpenError(
                f"cannot open folder {path}: {exc.strerror or exc}", missing=False
            ) from None
        self._real = os.path.realpath(path)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> ReleaseFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ listing

    def listing(self, patterns: tuple[str, ...], recursive: bool, max_bytes: int) -> Listing:
        """The regular files matching ``patterns``, and a warning for every entry refused.

        Raises :class:`OSError` when the folder itself cannot be listed; an
        unreadable subfolder is a warning.
        """
        files: list[str] = []
        skipped: list[str] = []
        self._walk(self._fd, "", patterns, recursive, max_bytes, files, skipped)
        files.sort(key=lambda relative: relative.split("/"))
        return Listing(tuple(files), tuple(skipped))

    def _walk(
        self,
        dir_fd: int,
        prefix: str,
        patterns: tuple[str, ...],
        recursive: bool,
        max_bytes: int,
        files: list[str],
        skipped: list[str],
    ) -> None:
        with os.scandir(dir_fd) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            if entry.name.startswith("."):
                continue  # editor swap files, .git, hidden drafts
            relative = prefix + entry.name
            matches = any(PurePosixPath(relative).match(p) for p in patterns)
            try:
                if not _is_text(entry.name):
                    if matches or (recursive and entry.is_dir(follow_symlinks=False)):
                        shown = relative.encode("utf-8", "backslashreplace").decode("utf-8")
                        skipped.append(f"{shown}: skipped, {NOT_TEXT}")
                elif entry.is_symlink():
                    if matches or recursive:
                        self._note_link(relative, matches, skipped)
                elif entry.is_dir(follow_symlinks=False):
                    if recursive:
                        self._descend(
                            dir_fd, entry.name, relative, patterns, max_bytes, files, skipped
                        )
                elif matches:
                    info = entry.stat(follow_symlinks=False)
                    if not stat.S_ISREG(info.st_mode):
                        kind = kind_of(info.st_mode)
                        skipped.append(f"{relative}: skipped, not a regular file ({kind})")
                    elif info.st_size > max_bytes:
                        skipped.append(f"{relative}: skipped, {over_cap(info.st_size, max_bytes)}")
                    else:
                        files.append(relative)
            except OSError as exc:  # it vanished or changed while we looked
                if matches:
                    skipped.append(f"{relative}: unreadable ({exc.strerror or exc}); skipped")

    def _descend(
        self,
        dir_fd: int,
        name: str,
        relative: str,
        patterns: tuple[str, ...],
        max_bytes: int,
        files: list[str],
        skipped: list[str],
    ) -> None:
        try:
            child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if _swapped(exc):
                reason = f"it is no longer a folder ({_now_what(name, dir_fd)})"
            else:
                reason = f"unreadable ({exc.strerror or exc})"
            skipped.append(f"{relative}/: folder skipped, {reason}")
            return
        try:
            self._walk(child, relative + "/", patterns, True, max_bytes, files, skipped)
        except OSError as exc:
            skipped.append(f"{relative}/: folder skipped, unreadable ({exc.strerror or exc})")
        finally:
            os.close(child)

    def _note_link(self, relative: str, matches: bool, skipped: list[str]) -> None:
        """Warn about a link that names a release file or a folder we would have entered.

        Where it leads is looked up for the warning only: nothing is opened or
        read through it.
        """
        try:
            target = os.path.realpath(os.path.join(self._real, relative), strict=True)
        except (OSError, RuntimeError):  # a loop, or a target that does not exist
            if matches:
                skipped.append(
                    f"{relative}: skipped, a symbolic link that leads nowhere "
                    f"(a loop or a missing target; {LINKS_NOT_FOLLOWED})"
                )
            return
        is_dir = os.path.isdir(target)
        if not (matches or is_dir):
            return  # a link to a file no pattern asks for: we would not read it anyway
        inside = os.path.commonpath([self._real, target]) == self._real
        where = "within the folder" if inside else "outside the folder"
        what = "directory" if is_dir else "file"
        skipped.append(
            f"{relative}: skipped, a symbolic link to a {what} {where} ({LINKS_NOT_FOLLOWED})"
        )

    # ------------------------------------------------------------------ reading

    def read(self, relative: str, max_bytes: int) -> bytes:
        """The bytes of a listed file, opened without following any link on the way.

        Raises :class:`SkippedFile` when the entry is no longer a regular file
        within the cap (it was swapped after the listing), :class:`OSError`
        when it cannot be read.
        """
        *folders, name = relative.split("/")
        opened: list[int] = []
        dir_fd = self._fd
        try:
            for part in folders:
                try:
                    dir_fd = os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
                except OSError as exc:
                    if _swapped(exc):
                        what = _now_what(part, dir_fd)
                        raise SkippedFile(f"the folder {part!r} on its path is {what}") from None
                    raise
                opened.append(dir_fd)
            try:
                fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                if _swapped(exc):
                    raise SkippedFile(f"it is {_now_what(name, dir_fd)}") from None
                raise
        finally:
            for folder_fd in opened:
                os.close(folder_fd)
        try:
            return _read_regular(fd, max_bytes)
        finally:
            os.close(fd)


def _is_text(name: str) -> bool:
    """Whether a name is valid UTF-8: the relative path is the item's stored identity."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.scandir hands undecodable bytes over as lone surrogates
        return False
    return True


def _swapped(exc: OSError) -> bool:
    """An ``O_NOFOLLOW`` / ``O_DIRECTORY`` refusal: the entry changed since it was listed."""
    return exc.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR)


def _now_what(name: str, dir_fd: int) -> str:
    """What an entry that changed since the listing has become, for the warning."""
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except OSError:
        return "gone"
    if stat.S_ISLNK(mode):
        return f"now a symbolic link ({LINKS_NOT_FOLLOWED})"
    return f"now {kind_of(mode)}"


def _read_regular(fd: int, max_bytes: int) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise SkippedFile(f"not a regular file ({kind_of(info.st_mode)})")
    if info.st_size > max_bytes:
        raise SkippedFile(over_cap(info.st_size, max_bytes))
    chunks: list[bytes] = []
    remaining = max_bytes + 1  # one byte more tells a file that grew past the cap
    while remaining > 0:
        chunk = os.read(fd, min(remaining, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    if remaining <= 0:
        raise SkippedFile(f"it grew past the {max_bytes}-byte cap while being read")
    return b"".join(chunks)
