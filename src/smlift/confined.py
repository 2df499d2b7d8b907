"""Paths that never leave their root: open, walk and remove without following a link.

Anything a job can write (its `/opt/ml` tree, and in the weaker isolation modes all of
SMLIFT_HOME) may hold a symbolic link, a FIFO or a device where smlift expects a folder or a
file. Reading such a thing naively moves a host folder into local S3, chmods a link's target, or
blocks for ever on a FIFO after the job has exited.

Every function here starts from a folder smlift trusts (a job root, the local S3 root, a build
context) and goes down one name at a time, at **every level**, not only the last:

- `open_dir` / `open_file` walk with `openat(O_NOFOLLOW)`: a link anywhere on the way raises
  `LinkRefused`; `open_file` also opens with `O_NONBLOCK` and accepts only a regular file (a FIFO
  or a device raises `LinkRefused` too, without blocking).
- `regular_files` walks a tree from a folder's descriptor (`os.fwalk`, links never followed) and
  yields each regular file with the descriptor of its folder, so the caller reads, renames or
  copies it relative to that descriptor: what was checked is what is used.
- `is_confined` is the path-based test (an `lstat` of each step) for code that keeps working
  with paths, such as local S3: racy against a concurrent writer, but never fooled by a link
  that is already there.
- `remove_tree` removes a folder under a root; a link on the way is unlinked itself, never
  followed, and no permission is ever changed on anything but a real folder or file.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path
from typing import Iterator

from .errors import StorageError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class LinkRefused(StorageError):
    """A symbolic link, or something other than a regular file or folder, where smlift will not
    follow or read it."""


def _parts(root: Path, path: Path) -> list[str]:
    rel = Path(path).relative_to(root) if Path(path).is_absolute() else Path(path)
    parts = [part for part in rel.parts if part not in ("", ".")]
    if ".." in parts:
        raise LinkRefused(f"{path} leaves {root}", where=str(path),
                          fix="use a path without '..'")
    return parts


def _refuse(path: Path, what: str) -> LinkRefused:
    return LinkRefused(f"{path} is {what}; smlift does not follow links or read special files "
                       "here", where=str(path),
                       fix="write a regular file or folder there instead of a link")


def kind(mode: int) -> str:
    """'a symbolic link', 'a FIFO', ... for an error message."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISREG, "a regular file")):
        if test(mode):
            return name
    return "not a regular file"


def _step(parent_fd: int, name: str, shown: Path) -> int:
    """openat(parent, name) as a folder, refusing a link or a non-folder."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        mode = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
        raise _refuse(shown, kind(mode)) from None


def open_dir(root: Path, path: Path | str = ".") -> int:
    """A descriptor of the folder `path` (absolute under `root`, or relative to it), reached
    without following a link at any level below `root`. The caller closes it."""
    root = Path(root)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    shown = root
    try:
        for part in _parts(root, Path(path)):
            shown = shown / part
            next_fd = _step(fd, part, shown)
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_file(root: Path, path: Path | str) -> int:
    """A read-only descriptor of the regular file `path` under `root`, reached without following
    a link at any level; a FIFO or device is refused without blocking. The caller closes it."""
    root = Path(root)
    parts = _parts(root, Path(path))
    folder = open_dir(root, Path(*parts[:-1]) if len(parts) > 1 else ".")
    try:
        return open_file_at(folder, parts[-1], shown=root.joinpath(*parts))
    finally:
        os.close(folder)


def open_file_at(folder_fd: int, name: str, *, shown: Path | None = None) -> int:
    """openat(folder, name) of a regular file: a link, FIFO or device raises LinkRefused (never
    followed, never blocks); a folder raises IsADirectoryError."""
    shown = shown or Path(name)
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):
            mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
            raise _refuse(shown, kind(mode)) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(str(shown))
        raise _refuse(shown, kind(mode))
    return fd


def regular_files(dir_fd: int) -> Iterator[tuple[str, str, int]]:
    """(relative path, name, descriptor of its folder) of each regular file under the folder
    `dir_fd`, sorted; links, FIFOs and devices are skipped, folders reached through a link are
    never entered. The folder descriptor is only valid until the next item."""
    for folder, dirs, files, fd in os.fwalk(".", dir_fd=dir_fd, follow_symlinks=False):
        dirs.sort()
        for name in sorted(files):
            mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            if stat.S_ISREG(mode):
                yield os.path.normpath(os.path.join(folder, name)), name, fd


def is_confined(root: Path, path: Path) -> bool:
    """True when no existing step from `root` (excluded) down to `path` is a symbolic link.
    Missing steps are fine (not created yet), and so is a file where a folder would be: nothing
    beyond it can be reached."""
    current = Path(root)
    for part in _parts(current, Path(path)):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return True
        if stat.S_ISLNK(mode):
            return False
        if not stat.S_ISDIR(mode):
            return True
    return True


def remove_tree(root: Path, path: Path) -> None:
    """Remove the folder `path` under `root`. A link on the way down is unlinked (it lives inside
    the root), never followed; an unreadable folder inside the tree is made readable first (only
    real folders and files are ever chmod-ed)."""
    current = Path(root)
    for part in _parts(current, Path(path)):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return
        if not stat.S_ISDIR(mode):
            current.unlink()  # a link or file where a folder should be: it goes, not its target
            return
    shutil.rmtree(current, onerror=_make_removable)


def _make_removable(function, path, exc_info) -> None:
    if isinstance(exc_info[1], FileNotFoundError):
        return
    try:
        if os.path.islink(path):
            os.unlink(path)  # the link goes; its target is never touched
            return
        parent = os.path.dirname(path)
        if not os.path.islink(parent):
            os.chmod(parent, 0o700)
        os.chmod(path, 0o700)
        function(path)
    except OSError:
        pass  # left behind; the next job of this name starts from a fresh root anyway
