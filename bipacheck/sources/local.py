"""Local files and folders, listed with plain os calls on bytes paths so that any filename works."""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from ..errors import OutsideRoot, UnreadableFile
from .filters import ManifestKey, PathFilter
from .objects import Skipped, SourceObject, printable, with_sidecars

# O_NONBLOCK: a file swapped for a FIFO after listing must not hang read().
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _os_message(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.EIO:
        return "I/O error"
    return exc.strerror or str(exc)


def _read_regular_file(path: bytes, missing_ok: bool = False, root_real: bytes | None = None,
                       outside: str = "", consume=lambda f: f.read()):
    """The file's bytes. root_real: the file must lie inside that folder. Checked before the open (so
    nothing outside is even opened) and, what decides, after it on the descriptor itself: a link
    swapped between the first check and the open is never read."""
    if root_real is not None and not within_root(path, root_real):
        raise OutsideRoot(outside)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        if missing_ok:
            return None
        raise UnreadableFile("vanished since listing") from None
    except OSError as e:
        raise UnreadableFile(_os_message(e)) from None
    try:
        opened = os.fstat(fd)
        if root_real is not None and not _opened_within(path, opened, root_real):
            raise OutsideRoot(outside)
        mode = opened.st_mode
        if stat.S_ISDIR(mode):
            if missing_ok:
                return None
            raise UnreadableFile("is a directory")
        if not stat.S_ISREG(mode):
            raise UnreadableFile("not a regular file (FIFO, socket or device)")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return consume(f)
    except OSError as e:
        raise UnreadableFile(f"I/O error: {_os_message(e)}") from None
    finally:
        os.close(fd)


OUTSIDE_ROOT = ("outside-root", "symbolic link leads outside the audited folder; not followed "
                "(--follow-symlinks follows it)")


def _opened_within(path: bytes, opened: os.stat_result, root_real: bytes) -> bool:
    """Is the file behind an open descriptor (`opened`, its fstat) the one `path` now resolves to, and
    does that lie inside root_real? If a link on the way was swapped after the open, either the place
    it now leads is outside, or it is not the file that was opened: both refuse."""
    real = os.path.realpath(path)
    if not within_root(real, root_real):
        return False
    try:
        now = os.stat(real)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino)


def within_root(path: bytes, root_real: bytes | None) -> bool:
    """Whether `path`, every link in it resolved, lies in the folder whose real path is `root_real`
    (None: links may lead anywhere)."""
    if root_real is None:
        return True
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real.rstrip(b"/") + b"/")


@dataclass(frozen=True)
class LocalFile:
    """A local file by its real (bytes) path; picklable. root_real: the audited folder's real path,
    checked again when reading (a file swapped for a link out after listing, a sidecar that is a
    link out); None when links may lead anywhere."""

    path: bytes
    root_real: bytes | None = None

    def read(self) -> bytes:
        data = _read_regular_file(self.path, root_real=self.root_real,
                                  outside="now a symbolic link leading outside the audited folder; not read")
        assert data is not None
        return data

    def content_sha256(self) -> str:
        """SHA-256 of the file's bytes, streamed (the scan cache verifies a hit with it, never trusting
        size and times alone)."""
        return _read_regular_file(self.path, root_real=self.root_real,
                                  outside="now a symbolic link leading outside the audited folder; not read",
                                  consume=lambda f: hashlib.file_digest(f, "sha256").hexdigest())

    def consume(self, fn):
        """fn(the open file), read in place: a large video is decoded from the file, not from memory."""
        return _read_regular_file(self.path, root_real=self.root_real,
                                  outside="now a symbolic link leading outside the audited folder; not read",
                                  consume=fn)

    def sibling(self, name: str) -> bytes | None:
        path = os.path.join(os.path.dirname(self.path), os.fsencode(name))
        return _read_regular_file(path, missing_ok=True, root_real=self.root_real,
                                  outside="a symbolic link leading outside the audited folder; not read")


def _join(url_root: str, relpath: str) -> str:
    return url_root + relpath if url_root.endswith("/") else f"{url_root}/{relpath}"


def _change_key(st: os.stat_result) -> str:
    # inode and ctime too: a same-size file swapped in with its mtime set back (touch -d) gets a new
    # ctime, which only the kernel sets (the cache also re-hashes the content of every hit)
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


def _make_object(url: str, relpath: str, real: bytes, st: os.stat_result,
                 root_real: bytes | None = None) -> SourceObject:
    modified = datetime.fromtimestamp(st.st_mtime, timezone.utc).replace(microsecond=0)
    return SourceObject(url, relpath, st.st_size, _change_key(st), LocalFile(real, root_real), modified=modified)


def _regular_files(children: list) -> dict[str, str]:
    """Change key of every regular file in a folder listing, by file name."""
    return {posixpath.basename(c.relpath): _change_key(c.st) for c in children
            if c.skip is None and not c.is_dir and stat.S_ISREG(c.st.st_mode)}


def _stat_failure(exc: OSError, via_symlink: bool) -> tuple[str, str]:
    """(reason, message) for an entry that could not be stat'ed."""
    if exc.errno == errno.ELOOP:
        return "symlink-loop", "symbolic link loop"
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        if via_symlink:
            return "dangling-symlink", "symbolic link points to a missing file"
        return "not-found", "vanished during listing"
    if isinstance(exc, PermissionError):
        return "permission-denied", "permission denied"
    return "unreadable", _os_message(exc)


@dataclass
class _Child:
    relpath: str
    real: bytes
    st: os.stat_result | None = None
    skip: tuple[str, str] | None = None

    @property
    def is_dir(self) -> bool:
        return self.st is not None and stat.S_ISDIR(self.st.st_mode)


def _list_children(folder: bytes, folder_rel: str, root_real: bytes | None) -> list[_Child]:
    """One folder's entries, stat'ed, in an order that makes the depth-first walk sorted by relpath.
    Symbolic links are followed when they stay inside root_real (or root_real is None)."""
    children = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = printable(os.fsdecode(entry.name))
            child = _Child(f"{folder_rel}/{name}" if folder_rel else name, entry.path)
            is_link = entry.is_symlink()
            try:
                if not is_link:
                    child.st = entry.stat(follow_symlinks=False)
                else:
                    child.st = os.stat(entry.path)  # first: a loop or a dangling link says so
                    if not within_root(entry.path, root_real):
                        child.st, child.skip = None, OUTSIDE_ROOT
            except OSError as e:
                child.skip = _stat_failure(e, is_link)
            children.append(child)
    # A folder sorts as "name/" so that "a-b" < "a/x" holds just as in a sort of full relpaths.
    children.sort(key=lambda c: c.relpath + "/" if c.is_dir else c.relpath)
    return children


GIT_HISTORY = ("git-history", "a git repository's history (its object store, where photos deleted from the "
               "work tree are still kept): audit it with --history, or pass --exclude .git to audit the work tree "
               "only")


def _walk(root: bytes, url_root: str, root_st: os.stat_result, filt: PathFilter,
          root_real: bytes | None) -> Iterator[SourceObject | Skipped]:
    root_key = (root_st.st_dev, root_st.st_ino)
    # (st_dev, st_ino) of every folder entered -> its relpath: stops symlink loops and
    # keeps a folder reached through two links from being audited twice.
    visited = {root_key: "."}
    try:
        top = _list_children(root, "", root_real)
    except OSError as e:
        yield Skipped(url_root, *_stat_failure(e, False))
        return
    stack, files = [iter(top)], [_regular_files(top)]  # files: each open folder's, for sidecars
    ancestors = [root_key]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            files.pop()
            ancestors.pop()
            continue
        url = _join(url_root, child.relpath)
        if child.skip is not None:
            if filt.accepts(child.relpath):
                yield Skipped(url, *child.skip)
        elif child.is_dir:
            if filt.prunes(child.relpath):
                continue
            if posixpath.basename(child.relpath) == ".git":
                # git's object store holds every photo ever committed, compressed: not walked as
                # files, and never passed over in silence either
                yield Skipped(url, *GIT_HISTORY)
                continue
            key = (child.st.st_dev, child.st.st_ino)
            if key in ancestors:
                yield Skipped(url, "symlink-loop", f"links back to its own parent folder {visited[key]}")
            elif key in visited:
                yield Skipped(url, "already-listed", f"same folder as {visited[key]}, listed there")
            else:
                visited[key] = child.relpath
                try:
                    children = _list_children(child.real, child.relpath, root_real)
                except OSError as e:
                    yield Skipped(url, *_stat_failure(e, False))
                    continue
                stack.append(iter(children))
                files.append(_regular_files(children))
                ancestors.append(key)
        elif stat.S_ISREG(child.st.st_mode):
            if filt.accepts(child.relpath):
                yield with_sidecars(_make_object(url, child.relpath, child.real, child.st, root_real),
                                    files[-1].get)
        elif filt.accepts(child.relpath):
            yield Skipped(url, "not-a-regular-file", "not a regular file (FIFO, socket or device)")


def _manifest_objects(root: bytes, url_root: str, keys: list[ManifestKey], filt: PathFilter,
                      root_real: bytes | None) -> Iterator[SourceObject | Skipped]:
    for mk in keys:
        relpath = printable(mk.key)
        url = _join(url_root, relpath)
        if mk.invalid:
            yield Skipped(url, "invalid-key", mk.invalid)
            continue
        if not filt.accepts(relpath):
            continue
        real = os.path.join(root, os.fsencode(mk.key))
        try:
            st = os.stat(real)
        except (FileNotFoundError, NotADirectoryError):
            yield Skipped(url, "not-found", "listed in the manifest but not found")
            continue
        except OSError as e:
            yield Skipped(url, *_stat_failure(e, False))
            continue
        if not within_root(real, root_real):  # the key itself or a folder on its way is a link out
            yield Skipped(url, *OUTSIDE_ROOT)
        elif stat.S_ISREG(st.st_mode):
            yield with_sidecars(_make_object(url, relpath, real, st, root_real), partial(_sibling_key, real))
        elif stat.S_ISDIR(st.st_mode):
            yield Skipped(url, "not-a-regular-file", "is a folder; manifest keys name files")
        else:
            yield Skipped(url, "not-a-regular-file", "not a regular file (FIFO, socket or device)")


def _sibling_key(real: bytes, name: str) -> str | None:
    """Change key of the regular file `name` next to `real`, None if there is none (or no access)."""
    try:
        st = os.stat(os.path.join(os.path.dirname(real), os.fsencode(name)))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return f"unknown:{uuid.uuid4().hex}"  # there but not statable: never matches, always rescanned
    return _change_key(st) if stat.S_ISREG(st.st_mode) else None


def iter_local(root: bytes, url_root: str, *, filt: PathFilter, manifest: list[ManifestKey] | None,
               follow_symlinks: bool) -> Iterator[SourceObject | Skipped]:
    """Objects under a local file or folder. `url_root` is the spec as the user wrote it.

    Symbolic links inside the folder are followed where they stay inside it; links leading out
    (`passwd.jpg -> /etc/passwd`, a folder elsewhere) are skipped as `outside-root` unless
    follow_symlinks. The spec itself is followed even if it is a link: the user named it."""
    try:
        st = os.stat(root)
    except OSError as e:
        reason, message = _stat_failure(e, False)
        if reason == "not-found":
            message = "no such file or folder"
        yield Skipped(url_root, reason, message)
        return
    if stat.S_ISREG(st.st_mode):
        # A single-file spec: relpath is its name; a manifest only applies to folders.
        relpath = printable(os.fsdecode(os.path.basename(root)))
        if filt.accepts(relpath):
            yield with_sidecars(_make_object(url_root, relpath, root, st), partial(_sibling_key, root))
    elif not stat.S_ISDIR(st.st_mode):
        yield Skipped(url_root, "not-a-regular-file", "not a regular file (FIFO, socket or device)")
    else:
        root_real = None if follow_symlinks else os.path.realpath(root)
        if manifest is not None:
            yield from _manifest_objects(root, url_root, manifest, filt, root_real)
        else:
            yield from _walk(root, url_root, st, filt, root_real)
