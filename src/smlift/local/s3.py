"""Local S3: `s3://BUCKET/KEY` is the file `$SMLIFT_HOME/s3/BUCKET/KEY`.

What it promises, as S3 does:
- **Keys stay inside their bucket.** A key with a `..` or `.` segment, an absolute key
  (`s3://b//etc`), an empty segment (`a//b`) or a NUL byte is refused with a StorageError that
  names the URI; bucket names follow S3's naming rules (InputError).
- **Objects appear whole.** Every write goes to a temporary name (`.smlift-tmp-...`) in the
  destination folder and is then renamed, which is atomic on POSIX. Readers never see a half-written
  object; `list_keys` never lists a temporary name.
- **What a job gets is its own.** Staging inputs (`stage_prefix`, `stage_manifest`) copies objects
  into the job's folder with a copy-on-write reflink (`FICLONE`) where the filesystem has it, and a
  real copy otherwise: never a hard link or a symlink, so whatever a job does to its inputs cannot
  change a stored object.

Where a filesystem cannot be S3 (documented in docs/fidelity.md): an object `a` and an object
`a/b` cannot both exist (StorageError), keys ending in `/` are prefixes, not objects, and buckets
are created on first write.

The bottom of the module holds what `smlift s3 cp|ls|sync` do, as library calls that return
what they did, so the CLI only renders.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..confined import LinkRefused, is_confined, open_dir, open_file_at, regular_files
from ..errors import InputError, StorageError
from ..names import BUCKET
from .home import smlift_home

TEMP_PREFIX = ".smlift-tmp-"
FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
_BUCKET_RE = BUCKET  # S3's rule (smlift.names)
_IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255  # NAME_MAX: the longest file name Linux filesystems store


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://b/k/x` -> `("b", "k/x")`. InputError unless it is an s3:// URI with a valid bucket."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise InputError(f"not an S3 URI: {uri!r}", where=str(uri),
                         fix="write it as s3://BUCKET/KEY")
    bucket, _, key = uri[len("s3://"):].partition("/")
    check_bucket_name(bucket, uri)
    return bucket, key


def check_bucket_name(bucket: str, uri: str) -> None:
    """S3's bucket naming rules: 3-63 characters of a-z 0-9 . -, starting and ending with a
    letter or digit, no `..`, not an IP address."""
    if not bucket:
        raise InputError("the S3 URI has no bucket", where=uri, fix="write it as s3://BUCKET/KEY")
    if not _BUCKET_RE.match(bucket) or ".." in bucket or _IP_RE.match(bucket):
        raise InputError(f"invalid bucket name {bucket!r}", where=uri,
                         fix="bucket names are 3-63 characters of a-z, 0-9, '.' and '-', "
                             "starting and ending with a letter or digit")


def check_key(key: str, uri: str) -> None:
    """Refuse keys that would escape the bucket folder or cannot be a file path."""
    if key.startswith("/"):
        raise StorageError("absolute keys are refused: the key starts with '/'", where=uri,
                           fix="remove the extra '/' after the bucket name")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise StorageError("the key is not valid UTF-8 (S3 keys are UTF-8 text)", where=uri,
                           fix="rename the object with UTF-8 characters only") from None
    if "\0" in key or len(encoded) > _MAX_KEY_BYTES:
        raise StorageError("the key has a NUL byte or is longer than 1024 bytes", where=uri,
                           fix="use a shorter key of printable characters")
    segments = key.split("/")
    for index, segment in enumerate(segments):
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise StorageError(f"a key segment is longer than {MAX_SEGMENT_BYTES} bytes, which "
                               "local S3 cannot store as a file name", where=uri,
                               fix="split the key with '/' or shorten it (see docs/fidelity.md)")
        if segment in ("..", "."):
            raise StorageError(f"the key has a {segment!r} segment, which would leave its folder",
                               where=uri, fix="use a plain key without '.' or '..' segments")
        if segment == "" and index < len(segments) - 1:
            raise StorageError("the key has an empty segment ('//')", where=uri,
                               fix="remove the doubled '/'")
        if segment.startswith(TEMP_PREFIX):
            raise StorageError(f"keys may not start with {TEMP_PREFIX!r} (smlift's temporary "
                               "names)", where=uri, fix="rename the object")


def copy_file(src: Path, dst: Path) -> None:
    """Copy `src` to `dst` (replacing it): a copy-on-write reflink where the filesystem has one
    (btrfs, XFS, bcachefs), else a real copy. Never a hard link or symlink."""
    with open(src, "rb") as fsrc:
        copy_from(fsrc, dst)


def copy_from(fsrc, dst: Path) -> None:
    """`copy_file` from a file already open for reading (e.g. opened without following links)."""
    with open(dst, "wb") as fdst:
        try:
            fcntl.ioctl(fdst.fileno(), FICLONE, fsrc.fileno())
            return
        except OSError:
            pass  # EOPNOTSUPP / EXDEV / EINVAL: this filesystem cannot reflink
        shutil.copyfileobj(fsrc, fdst, 1 << 20)


def _temp_name(folder: Path, name: str) -> Path:
    return folder / f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{name}"


def write_atomically(dest: Path, fill) -> None:
    """Create `dest` through a temporary name in its folder: `fill(temp_path)` writes it, then it
    is renamed into place. On any failure the temporary file is removed."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next(p for p in (dest.parent, *dest.parent.parents) if p.exists() and not p.is_dir())
        raise InputError(f"cannot create the folder {dest.parent}: {blocker} is a file",
                         where=str(dest), fix="choose a destination whose folders are not files") from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(dest) from None
        raise
    if dest.is_dir() and not dest.is_symlink():
        raise InputError("is a folder, not a file", where=str(dest),
                         fix="name a file to write, e.g. FOLDER/NAME")
    temp = _temp_name(dest.parent, dest.name)
    try:
        fill(temp)
        os.replace(temp, dest)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(dest) from None
        raise
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def disk_full(where: Path) -> StorageError:
    """The error for a write that found the disk full (ENOSPC) or the quota used (EDQUOT)."""
    return StorageError("no space left on the disk", where=str(where),
                        fix="free some space (or point SMLIFT_HOME at a bigger disk), then "
                            "run the command again")


class LocalS3:
    """Objects under `home/s3/BUCKET/KEY` (home defaults to `smlift_home()`)."""

    def __init__(self, home: Path | None = None):
        if home is None:
            home = smlift_home()
        self.home = Path(home)
        self.root = self.home / "s3"

    # -- paths ----------------------------------------------------------------------------
    def path_for(self, uri: str) -> Path:
        """The file (object) or folder (prefix) of `uri`; refuses keys escaping the bucket."""
        bucket, key = split_uri(uri)
        check_key(key, uri)
        return self.root / bucket / key if key else self.root / bucket

    def _reachable(self, path: Path) -> bool:
        """No symbolic link from the bucket folder down to `path` (links planted in the S3 tree
        are not objects or prefixes, and are never followed: `confined.is_confined`)."""
        return is_confined(self.root, path)

    def _object_path(self, uri: str) -> Path:
        """The file of an object to write: the key must name an object, not a prefix."""
        path = self.path_for(uri)
        if not self._reachable(path):
            raise LinkRefused("a symbolic link in the local S3 tree stands on this key's path; "
                              "smlift does not follow links out of local S3", where=uri,
                              fix=f"remove the link under {self.root}")
        bucket, key = split_uri(uri)
        if not key or key.endswith("/"):
            raise StorageError("the key is empty or ends with '/', so it names a prefix, not an "
                               "object", where=uri, fix="add the object's name after the last '/'")
        self._check_no_conflict(path, uri)
        return path

    def _check_no_conflict(self, path: Path, uri: str) -> None:
        bucket_dir = self.root / split_uri(uri)[0]
        if path.is_dir() and not path.is_symlink():
            raise StorageError("objects exist under this key used as a prefix; a folder cannot "
                               "also be an object here", where=uri,
                               fix="choose another key (see docs/fidelity.md)")
        for parent in path.parents:
            if parent == bucket_dir or bucket_dir not in parent.parents:
                break
            if parent.is_file() or parent.is_symlink():
                rel = parent.relative_to(bucket_dir).as_posix()
                raise StorageError(f"an object {rel!r} exists where this key needs a prefix",
                                   where=uri, fix="choose another key (see docs/fidelity.md)")

    def uri_for(self, bucket: str, key: str) -> str:
        return f"s3://{bucket}/{key}"

    # -- reading --------------------------------------------------------------------------
    def is_object(self, uri: str) -> bool:
        path = self.path_for(uri)
        return (not uri.endswith("/") and self._reachable(path) and path.is_file()
                and not path.is_symlink())

    def exists(self, uri: str) -> bool:
        """True for an object, or for a prefix with at least one object under it."""
        return self.is_object(uri) or bool(self._iter_keys(uri, limit=1))

    def list_keys(self, uri: str) -> list[str]:
        """Full s3:// URIs of the objects whose key starts with the URI's key, sorted like S3
        (by the UTF-8 bytes of the key). Temporary names are never listed."""
        bucket, _ = split_uri(uri)
        keys = self._iter_keys(uri)
        return [self.uri_for(bucket, k) for k in sorted(keys, key=lambda k: k.encode())]

    def _iter_keys(self, uri: str, limit: int | None = None) -> list[str]:
        bucket, prefix = split_uri(uri)
        check_key(prefix, uri)
        bucket_dir = self.root / bucket
        # S3 prefixes are string prefixes: "data/in" matches "data/input.csv" and "data/in/x".
        start = bucket_dir / prefix.rpartition("/")[0] if "/" in prefix else bucket_dir
        found: list[str] = []
        if not self._reachable(start) or not start.is_dir():
            return found
        for folder, dirs, files in os.walk(start):
            rel_folder = Path(folder).relative_to(bucket_dir).as_posix()
            rel_folder = "" if rel_folder == "." else rel_folder + "/"
            dirs[:] = sorted(d for d in dirs if not d.startswith(TEMP_PREFIX)
                             and _may_hold(rel_folder + d + "/", prefix)
                             and not os.path.islink(os.path.join(folder, d)))
            for name in files:
                key = rel_folder + name
                if (name.startswith(TEMP_PREFIX) or not key.startswith(prefix)
                        or os.path.islink(os.path.join(folder, name))):
                    continue
                found.append(key)
                if limit and len(found) >= limit:
                    return found
        return found

    def get_file(self, uri: str, dest: Path) -> None:
        """Download one object to `dest` (atomically); StorageError (NoSuchKey) if absent."""
        src = self._existing_object(uri)
        write_atomically(Path(dest), lambda temp: copy_file(src, temp))

    def get_bytes(self, uri: str) -> bytes:
        return self._existing_object(uri).read_bytes()

    def _existing_object(self, uri: str) -> Path:
        if not self.is_object(uri):
            raise StorageError("NoSuchKey: the specified key does not exist", where=uri,
                               fix="list what is there with `smlift s3 ls`")
        return self.path_for(uri)

    def stat(self, uri: str) -> os.stat_result:
        return self._existing_object(uri).stat()

    # -- writing --------------------------------------------------------------------------
    def put_file(self, src: Path, uri: str) -> None:
        """Upload a local file as the object `uri`, visible only once complete."""
        src = Path(src)
        if not src.is_file():
            raise InputError(f"no such file: {src}", where=str(src), fix="check the path")
        dest = self._object_path(uri)
        write_atomically(dest, lambda temp: copy_file(src, temp))

    def put_bytes(self, data: bytes, uri: str) -> None:
        write_atomically(self._object_path(uri), lambda temp: temp.write_bytes(data))

    def delete(self, uri: str) -> None:
        """Remove an object (absent is fine, as in S3) and the folders it leaves empty."""
        path = self.path_for(uri)
        if not self.is_object(uri):
            return
        path.unlink()
        bucket_dir = self.root / split_uri(uri)[0]
        for parent in path.parents:
            if parent == bucket_dir:
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def copy_object(self, src_uri: str, dst_uri: str) -> None:
        src = self._existing_object(src_uri)
        if src == self.path_for(dst_uri):  # S3 answers InvalidRequest, and so do we
            raise StorageError("InvalidRequest: this copy request is illegal because it is trying "
                               "to copy an object to itself", where=dst_uri,
                               fix="copy to another key")
        write_atomically(self._object_path(dst_uri), lambda temp: copy_file(src, temp))

    # -- SageMaker Processing staging -----------------------------------------------------
    def stage_prefix(self, uri: str, dest_dir: Path, shard: tuple[int, int] = (0, 1)) -> int:
        """S3Prefix File mode: every object under the prefix into `dest_dir`, at its key
        relative to the prefix (an object whose key *is* the prefix lands under its own name).
        Reflink or real copy, never a link. `shard=(i, n)`: only the objects `deal` gives the
        i-th of n instances (ShardedByS3Key). Returns the number of objects staged."""
        bucket, prefix = split_uri(uri)
        keys = deal(self._iter_keys(uri), *shard)
        for key in keys:
            rel = key[len(prefix):].lstrip("/") or key.rpartition("/")[2]
            self._stage_one(self.root / bucket / key, Path(dest_dir), rel)
        return len(keys)

    def stage_manifest(self, uri: str, dest_dir: Path, shard: tuple[int, int] = (0, 1)) -> int:
        """ManifestFile: `[{"prefix": "s3://b/p/"}, "rel/key1", ...]`; each listed object lands
        at its relative key in `dest_dir` (`shard` as in stage_prefix). Returns the number of
        objects staged."""
        prefix, relatives = self._read_manifest(uri)
        relatives = deal(relatives, *shard)
        for rel in relatives:
            obj = prefix + rel
            self._stage_one(self._existing_object(obj), Path(dest_dir), rel)
        return len(relatives)

    def _read_manifest(self, uri: str) -> tuple[str, list[str]]:
        fix = 'write it as [{"prefix": "s3://BUCKET/PREFIX/"}, "relative/key", ...]'
        try:
            manifest = json.loads(self.get_bytes(uri))
        except ValueError as exc:
            raise StorageError(f"the manifest file is not JSON: {exc}", where=uri, fix=fix) from exc
        if (not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict)
                or not isinstance(manifest[0].get("prefix"), str)
                or not all(isinstance(r, str) and r for r in manifest[1:])):
            raise StorageError("the manifest file is not a list starting with a prefix object",
                               where=uri, fix=fix)
        prefix = manifest[0]["prefix"]
        split_uri(prefix)
        for rel in manifest[1:]:
            check_key(split_uri(prefix + rel)[1], uri)
        return prefix, manifest[1:]

    @staticmethod
    def _stage_one(src: Path, dest_dir: Path, rel: str) -> None:
        target = dest_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_file(src, target)

    def publish_dir(self, src_dir: Path, uri: str, *, move: bool = False,
                    root: Path | None = None) -> int:
        """Upload every regular file under `src_dir` to `uri/relpath`: all or none (see
        `publish_dirs`). Returns the number of objects."""
        return self.publish_dirs([(src_dir, uri)], move=move, root=root)

    def publish_dirs(self, folders: list[tuple[Path, str]], *, move: bool = False,
                     root: Path | None = None) -> int:
        """Upload every regular file under each `src_dir` to its `uri/relpath`, all or none.

        No link is followed at any level: a link between `root` (default: each `src_dir`'s
        parent) and `src_dir` raises LinkRefused; under `src_dir`, links, FIFOs and devices are
        skipped. Files are read and renamed through their folder's descriptor (`confined`), so
        what was checked is what is published. Each file first lands under a temporary name next
        to its object (listed by no one), and only when every file of every folder is there are
        they renamed into place; on a failure (a key that cannot be stored, a full disk) every
        temporary is removed and no object changed. `move=True` renames instead of copying when
        on the same filesystem and the file has no other hard link. Returns the count."""
        ready: list[tuple[Path, Path]] = []
        opened: list[int] = []
        try:
            for src, uri in folders:
                src = Path(src)
                base_root = Path(root) if root is not None else src.parent
                opened.append(open_dir(base_root, src.relative_to(base_root)))
                for rel, name, folder_fd in regular_files(opened[-1]):
                    dest = self._object_path(_as_prefix(uri) + Path(rel).as_posix())
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    temp = _temp_name(dest.parent, dest.name)
                    ready.append((temp, dest))
                    if not (move and _move_into(name, folder_fd, temp)):
                        _copy_at(name, folder_fd, temp)
            for temp, dest in ready:
                os.replace(temp, dest)
        except BaseException:
            for temp, _ in ready:
                temp.unlink(missing_ok=True)
            raise
        finally:
            for fd in opened:
                os.close(fd)
        return len(ready)


def deal(keys: list[str], index: int, count: int) -> list[str]:
    """The keys a ShardedByS3Key input gives instance `index` (0-based) of `count`: the keys in
    S3's order (by their UTF-8 bytes), dealt round-robin. AWS does not document its split; this
    is smlift's (docs/fidelity.md)."""
    ordered = sorted(keys, key=lambda key: key.encode())
    return ordered if count == 1 else ordered[index::count]


def _may_hold(folder_key: str, prefix: str) -> bool:
    """Can keys under the folder `folder_key` (ending in '/') start with `prefix`?"""
    return folder_key.startswith(prefix) or prefix.startswith(folder_key)


def _as_prefix(uri: str) -> str:
    """`s3://b/p` -> `s3://b/p/`: the URI as a folder-like prefix."""
    return uri if uri.endswith("/") else uri + "/"


def _regular_files(src_dir: Path) -> list[Path]:
    """Regular files under `src_dir`, without following symlinks (to files or folders)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(src_dir, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            st = path.lstat()
            if os.path.islink(path) or not _is_regular(st.st_mode):
                continue
            found.append(path)
    return found


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _move_into(name: str, folder_fd: int, dest: Path) -> bool:
    """Rename `name` in the folder `folder_fd` to `dest` (atomic); False when it must be copied
    instead (another filesystem, or a file with other hard links that could still write to it)."""
    if os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_nlink > 1:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(name, dest, src_dir_fd=folder_fd)
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            return False
        raise
    return True


def _copy_at(name: str, folder_fd: int, dest: Path) -> None:
    with os.fdopen(open_file_at(folder_fd, name), "rb") as fsrc:
        copy_from(fsrc, dest)


# -- what `smlift s3 cp|ls|sync` do ------------------------------------------------------------
@dataclass(frozen=True)
class Transfer:
    """One object moved by cp or sync: action is "upload", "download" or "copy"."""

    action: str
    src: str
    dst: str


@dataclass(frozen=True)
class Listing:
    """One `ls` line: a common prefix (`is_prefix`) or an object with its size and mtime."""

    name: str
    is_prefix: bool = False
    size: int = 0
    modified: float = 0.0


def _is_s3(location: str) -> bool:
    return str(location).startswith("s3://")


def copy_objects(s3: LocalS3, src: str, dst: str, *, recursive: bool = False) -> list[Transfer]:
    """`aws s3 cp` semantics: local->s3 (upload), s3->local (download), s3->s3 (copy).
    A destination ending in '/' (or an existing local folder) gets the source's name."""
    if not _is_s3(src) and not _is_s3(dst):
        raise InputError("one of SRC and DST must be an s3:// URI", where=f"{src} -> {dst}",
                         fix="e.g. `smlift s3 cp data.csv s3://bucket/input/`")
    if "-" in (src, dst):
        raise InputError("'-' (standard input or output) is not a file", where=f"{src} -> {dst}",
                         fix="stream one object, without --recursive: `smlift s3 cp s3://B/K -`")
    if recursive:
        return _copy_tree(s3, src, dst)
    if _is_s3(src) and not s3.is_object(src):
        raise StorageError("NoSuchKey: the specified key does not exist", where=src,
                           fix="add --recursive to copy every object under a prefix")
    if not _is_s3(src) and not Path(src).is_file():
        if Path(src).is_dir():
            raise InputError("is a folder, not a file", where=src, fix="add --recursive to copy a folder")
        raise InputError(f"no such file: {src}", where=src, fix="check the path")
    name = src.rpartition("/")[2] if _is_s3(src) else Path(src).name
    if _is_s3(dst):
        bucket, key = split_uri(dst)
        if key == "" or key.endswith("/"):
            dst = f"s3://{bucket}/{key}{name}"
    elif dst.endswith("/") or Path(dst).is_dir():
        dst = str(Path(dst) / name)
    return [_transfer_one(s3, src, dst)]


def copy_stream(s3: LocalS3, src: str, dst: str, stdin, stdout) -> None:
    """`aws s3 cp s3://B/K -` (the object to binary `stdout`) and `aws s3 cp - s3://B/K`
    (binary `stdin` to the object, written atomically)."""
    if src == "-" and _is_s3(dst):
        s3.put_bytes(stdin.read(), dst)
    elif dst == "-" and _is_s3(src):
        stdout.write(s3.get_bytes(src))
        stdout.flush()
    else:
        raise InputError("'-' streams one object: the other side must be an s3:// URI",
                         where=f"{src} -> {dst}", fix="e.g. `smlift s3 cp s3://bucket/key -`")


def _transfer_one(s3: LocalS3, src: str, dst: str) -> Transfer:
    if _is_s3(src) and _is_s3(dst):
        s3.copy_object(src, dst)
        return Transfer("copy", src, dst)
    if _is_s3(dst):
        s3.put_file(Path(src), dst)
        return Transfer("upload", src, dst)
    s3.get_file(src, Path(dst))
    mtime = s3.stat(src).st_mtime
    os.utime(dst, (mtime, mtime))  # like aws s3: the local file carries the object's time
    return Transfer("download", src, dst)


def _source_files(s3: LocalS3, src: str) -> dict[str, tuple[str, int, float]]:
    """relative path -> (source location, size, mtime) of everything under a folder or prefix."""
    if _is_s3(src):
        prefix = _as_prefix(src)
        out = {}
        for uri in s3.list_keys(prefix):
            st = s3.stat(uri)
            out[uri[len(prefix):]] = (uri, st.st_size, st.st_mtime)
        return out
    root = Path(src)
    if root.is_file():
        raise InputError("is a file, not a folder", where=src,
                         fix="sync copies folders; for one file use `smlift s3 cp FILE s3://BUCKET/KEY`")
    if not root.is_dir():
        raise InputError(f"no such folder: {src}", where=src, fix="check the path")
    out = {}
    for path in _regular_files(root):
        st = path.stat()
        out[path.relative_to(root).as_posix()] = (str(path), st.st_size, st.st_mtime)
    return out


def _join(location: str, rel: str) -> str:
    if _is_s3(location):
        return location.rstrip("/") + "/" + rel
    return str(Path(location) / rel)


def _require_source_bucket(s3: LocalS3, src: str) -> None:
    """An s3:// source in a bucket that does not exist is NoSuchBucket, as with `aws s3`, not
    an empty copy."""
    if _is_s3(src) and not (s3.root / split_uri(src)[0]).is_dir():
        bucket = split_uri(src)[0]
        raise StorageError("NoSuchBucket: the specified bucket does not exist", where=src,
                           fix=f"check the bucket name (`smlift s3 ls` lists them); buckets appear "
                               f"with their first object: `smlift s3 cp FILE s3://{bucket}/KEY`")


def _copy_tree(s3: LocalS3, src: str, dst: str) -> list[Transfer]:
    _require_source_bucket(s3, src)
    return [_transfer_one(s3, location, _join(dst, rel))
            for rel, (location, _, _) in sorted(_source_files(s3, src).items())]


def sync_objects(s3: LocalS3, src: str, dst: str, *, delete: bool = False) -> list[Transfer]:
    """`aws s3 sync`: copy a file when the destination lacks it, its size differs, or the source
    is newer. `delete=True` also removes destination files that the source does not have
    (reported with action "delete")."""
    if not _is_s3(src) and not _is_s3(dst):
        raise InputError("one of SRC and DST must be an s3:// URI", where=f"{src} -> {dst}",
                         fix="e.g. `smlift s3 sync data/ s3://bucket/input/`")
    _require_source_bucket(s3, src)
    source = _source_files(s3, src)
    target = _target_files(s3, dst)
    done = []
    for rel, (location, size, mtime) in sorted(source.items()):
        have = target.get(rel)
        if have is None or have[1] != size or mtime > have[2]:
            done.append(_transfer_one(s3, location, _join(dst, rel)))
    if delete:
        for rel in sorted(set(target) - set(source)):
            location = target[rel][0]
            s3.delete(location) if _is_s3(location) else Path(location).unlink()
            done.append(Transfer("delete", location, ""))
    return done


def _target_files(s3: LocalS3, dst: str) -> dict[str, tuple[str, int, float]]:
    if not _is_s3(dst) and not Path(dst).exists():
        return {}
    return _source_files(s3, dst)


def list_entries(s3: LocalS3, uri: str | None, *, recursive: bool = False) -> list[Listing]:
    """`aws s3 ls`: with no URI, the buckets; else the common prefixes (`PRE name/`) and objects
    directly under the prefix, named relative to its last '/'; `recursive` lists full keys."""
    if not uri:
        if not s3.root.is_dir():
            return []
        return [Listing(p.name, modified=p.stat().st_mtime) for p in sorted(s3.root.iterdir())
                if p.is_dir() and not p.is_symlink() and not p.name.startswith(TEMP_PREFIX)]
    bucket, prefix = split_uri(uri)
    if not (s3.root / bucket).is_dir():
        raise StorageError("NoSuchBucket: the specified bucket does not exist", where=uri,
                           fix="buckets appear with their first object: `smlift s3 cp FILE "
                               f"s3://{bucket}/KEY`")
    base = prefix.rpartition("/")[0] + "/" if "/" in prefix else ""
    entries: dict[str, Listing] = {}
    for key_uri in s3.list_keys(uri):
        key = split_uri(key_uri)[1]
        after = key[len(prefix):]
        if not recursive and "/" in after:  # a common prefix, as with Delimiter="/"
            name = key[len(base):len(prefix) + after.index("/") + 1]
            entries.setdefault(name, Listing(name, is_prefix=True))
            continue
        st = s3.stat(key_uri)
        name = key if recursive else key[len(base):]
        entries[name] = Listing(name, size=st.st_size, modified=st.st_mtime)
    return sorted(entries.values(), key=lambda e: (not e.is_prefix, e.name.encode()))


def format_listing(entry: Listing) -> str:
    """One line as `aws s3 ls` prints it."""
    if entry.is_prefix:
        return f"{'PRE':>30} {entry.name}"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.modified))
    return f"{stamp} {entry.size:>10} {entry.name}"
