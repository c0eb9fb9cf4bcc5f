"""Every image and video blob in a git repository's history: what `audit REPO --history` scans.

A photo deleted from HEAD but reachable from a branch or tag is still in every clone (for BIPA
15(a) it is still retained). This source lists each such blob once, keyed by its blob id, with the
commit that first added it, every path it had, whether HEAD still holds it, and the refs that
reach it.

How it lists, whatever the length of the history (a fixed handful of git processes):

1. One `git log --all --raw -z --diff-merges=first-parent --root --no-renames` walk. Every
   (path, blob) pair of any reachable tree shows up as an added, modified or type-changed entry
   of some commit: following first parents from a commit whose tree holds it always reaches the
   commit that brought it in (against its first parent, or a root commit). Merges are diffed
   against their first parent, so a blob first written by a merge (a conflict resolution) is not
   missed. The walk is in date order (children before parents), which also carries each ref down
   to the commits it reaches. Every (commit, path, blob) entry is held in memory.
2. One `git cat-file --batch-check`: the size of every distinct blob, and which are missing.
3. One `git cat-file --batch`: every blob up to `sniff_limit` bytes is classified by its leading
   bytes (image and video signatures; a Git LFS pointer is recognised as one), whatever its name.
   git cannot hand out only a blob's first bytes, so a sniffed blob passes whole through the pipe
   (and is dropped as it is read): the cost is the total size of the distinct blobs, once each.
   Larger blobs are classified by name: an image or video extension lists them, any other name
   reports them as `unclassified` (not scanned), never silently dropped.

Gitlinks (submodules), LFS pointers, missing objects, a shallow clone's cut history, refs to
trees or blobs and (with include_videos=False) videos are reported as Skipped with a stable reason.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from ..errors import ConfigError, UnreadableFile
from ..imaging import sniff_format
from ..metadata import sidecar_paths
from ..video.decode import VIDEO_SUFFIXES
from .objects import Skipped, SourceObject, printable, spool_command

DEFAULT_SNIFF_LIMIT = 128 * 1024 * 1024  # above GitHub's 100 MB file limit: nearly every blob is sniffed
LFS_POINTER_MAX = 1024  # git-lfs never treats a larger blob as a pointer
_HEAD_BYTES = 1024  # what is kept of a sniffed blob

IMAGE_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".tif", ".tiff", ".bmp", ".webp", ".heic", ".heif",
    ".avif", ".jxl", ".jp2", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".raw",
})
# ".ts" is left out on purpose: in a repository it is far more often TypeScript than MPEG-TS.

_FILE_MODES = (b"100644", b"100755")
_GITLINK_MODE = b"160000"
_LFS_VERSIONS = (b"version https://git-lfs.github.com/spec/v1", b"version https://hawser.github.com/spec/v1")
# Where the repository is must come from the argument, never from a hook's inherited variables.
_REPO_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_NAMESPACE", "GIT_PREFIX")


# ----------------------------------------------------------------------------------------- objects

@dataclass(frozen=True)
class HistoryBlob:
    """Location of a blob by id, with the tree folder its sidecars are looked up in.

    `anchor` is HEAD's commit for a blob HEAD still holds (the sidecar next to it now, as an audit
    of the work tree reads it) and the adding commit for a blob only in history; `siblings` are
    the sidecar candidates present there (name, blob id), as seen when listing.
    """

    git_dir: bytes
    blob: str
    anchor: str
    folder: bytes
    siblings: tuple[tuple[bytes, str], ...] = ()

    def read(self) -> bytes:
        return _read_blob(self.git_dir, self.blob)

    def consume(self, fn):
        """fn(stream) over the blob spooled to a temporary file in blocks (a large video)."""
        return spool_command(_argv(self.git_dir, ("cat-file", "blob", self.blob)), self.git_dir, _env(), fn)

    def sibling(self, name: str) -> bytes | None:
        raw = os.fsencode(name)
        for sibling_name, blob in self.siblings:
            if sibling_name == raw:
                return _read_blob(self.git_dir, blob)
        # Not a candidate seen while listing: look it up in the anchor's tree.
        path = posixpath.join(self.folder, raw)
        try:
            proc = _git(self.git_dir, "ls-tree", "-z", "--full-tree", self.anchor, "--", path)
        except ConfigError as e:
            raise UnreadableFile(str(e)) from None
        mode, _, rest = proc.stdout.partition(b" ")
        if proc.returncode != 0 or mode not in _FILE_MODES:
            return None
        return _read_blob(self.git_dir, rest.split(b"\t", 1)[0].split(b" ")[1].decode("ascii"))


@dataclass(frozen=True, kw_only=True)
class HistoryObject(SourceObject):
    """An image or video blob of the repository's history, once per blob id.

    As a SourceObject: url `git:<blob id>:<first path>` (stable while history is not rewritten),
    relpath the path in HEAD (else the first path), change_key the blob id, modified the author
    date of the adding commit. No author or committer name is kept.
    """

    blob: str
    kind: str  # "image" or "video"
    format: str | None  # from the content ("JPEG", "MP4"...); None: classified by name only
    added_commit: str  # the commit that first added the blob (earliest in date order)
    added_date: datetime  # its author date, with the author's UTC offset
    added_path: str  # the path it was added at (printable)
    # The adding commit is a shallow clone's boundary: the blob may have been added earlier, in
    # history this clone does not have.
    added_at_shallow_boundary: bool
    paths: tuple[str, ...]  # every path it had in history, sorted (printable)
    in_head: bool
    head_paths: tuple[str, ...]  # its paths in HEAD's tree (empty if only in history)
    refs: tuple[str, ...]  # refs it is reachable from (full names; "HEAD" when detached)

    def provenance(self) -> dict:
        return {"history": self.history()}

    def history(self) -> dict:
        """The block a finding carries in the reports."""
        return {
            "blob": self.blob, "kind": self.kind, "commit": self.added_commit,
            "author_date": self.added_date.isoformat(), "added_path": self.added_path,
            "shallow_boundary": self.added_at_shallow_boundary, "paths": list(self.paths),
            "in_head": self.in_head, "head_paths": list(self.head_paths), "refs": list(self.refs),
        }


@dataclass
class HistoryStats:
    """What a listing cost; pass one to list_history to have it filled in."""

    commits: int = 0
    introductions: int = 0  # (commit, path, blob) entries read from the walk
    blobs: int = 0  # distinct file blobs in the walked history
    sniffed_blobs: int = 0
    sniffed_bytes: int = 0
    listed: int = 0
    skipped: int = 0
    walk_seconds: float = 0.0
    sniff_seconds: float = 0.0


# ------------------------------------------------------------------------------------------- git

def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_NO_LAZY_FETCH"] = "1"  # a partial clone must not download while being audited (git >= 2.44)
    return env


def _argv(git_dir: bytes, args: Iterable[bytes | str]) -> list[bytes | str]:
    # --no-replace-objects: audit the objects that are really there, not what refs/replace shows
    return ["git", "--no-replace-objects", "-c", "log.showSignature=false", b"--git-dir=" + git_dir, *args]


def _git(git_dir: bytes, *args: bytes | str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(_argv(git_dir, args), cwd=git_dir, input=stdin, capture_output=True, env=_env())
    except FileNotFoundError:
        raise ConfigError("git is not installed or not on PATH") from None


def _checked(git_dir: bytes, *args: bytes | str, stdin: bytes | None = None) -> bytes:
    proc = _git(git_dir, *args, stdin=stdin)
    if proc.returncode != 0:
        raise ConfigError(_failure(args, proc.returncode, proc.stderr))
    return proc.stdout


def _failure(args, returncode: int, stderr: bytes) -> str:
    message = os.fsdecode(stderr).strip() or f"exit status {returncode}"
    return f"git {os.fsdecode(args[0])} failed: {printable(message)}"


def _popen(git_dir: bytes, *args: bytes | str, stdin: bool = False) -> subprocess.Popen:
    try:
        return subprocess.Popen(_argv(git_dir, args), cwd=git_dir, env=_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
    except FileNotFoundError:
        raise ConfigError("git is not installed or not on PATH") from None


def _read_blob(git_dir: bytes, blob: str) -> bytes:
    try:
        proc = _git(git_dir, "cat-file", "blob", blob)
    except ConfigError as e:
        raise UnreadableFile(str(e)) from None
    if proc.returncode != 0:
        raise UnreadableFile(f"git cat-file failed: {printable(os.fsdecode(proc.stderr).strip())}")
    return proc.stdout


class _Batch:
    """`git cat-file --batch` (or --batch-check) over many object names, read as a stream.

    A thread feeds the names, so neither pipe can fill up while the other waits.
    """

    def __init__(self, git_dir: bytes, names: list[bytes], check: bool):
        self.args = ("cat-file", "--batch-check" if check else "--batch")
        self.proc = _popen(git_dir, *self.args, stdin=True)
        self.names = names
        self.errors: list[BaseException] = []
        self.stderr = b""
        self.writer = threading.Thread(target=self._feed, daemon=True)
        self.stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self.writer.start()
        self.stderr_reader.start()

    def _feed(self) -> None:
        try:
            for start in range(0, len(self.names), 1024):
                self.proc.stdin.write(b"".join(n + b"\n" for n in self.names[start:start + 1024]))
            self.proc.stdin.close()
        except (BrokenPipeError, OSError) as e:  # git died; the reader reports it
            self.errors.append(e)

    def _drain_stderr(self) -> None:
        self.stderr = self.proc.stderr.read()

    def objects(self, keep: int | None) -> Iterator[tuple[bytes, bytes, bytes, int, bytes | None]]:
        """(name, object id, type or b"missing", size, first `keep` bytes or all if keep is None) per
        name, in order."""
        out = self.proc.stdout
        try:
            for name in self.names:
                header = out.readline()
                if not header:
                    break
                parts = header.rstrip(b"\n").split(b" ")
                if parts[-1] in (b"missing", b"ambiguous") or len(parts) < 3:
                    yield name, b"", b"missing", 0, None
                    continue
                oid, kind, size = parts[0], parts[1], int(parts[2])
                if self.args[1] == "--batch-check":
                    yield name, oid, kind, size, None
                    continue
                want = size if keep is None else min(size, keep)
                content = out.read(want)
                left = size - want
                while left > 0:
                    chunk = out.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    left -= len(chunk)
                out.read(1)  # the newline after the content
                yield name, oid, kind, size, content
            else:
                return
            self.close()
            raise ConfigError(_failure(self.args, self.proc.returncode or 1, self.stderr))
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdout.close()
            self.proc.kill()
        self.proc.wait()
        self.writer.join()
        self.stderr_reader.join()


# ----------------------------------------------------------------------------------- classifying

def _suffix_kind(path: bytes) -> str | None:
    suffix = posixpath.splitext(path.lower())[1].decode("ascii", "replace")
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    return None


_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}


def sniff_media(head: bytes) -> tuple[str, str] | None:
    """("image" or "video", format) named by a file's leading bytes, or None."""
    fmt = sniff_format(head)
    if fmt == "BMP":  # "BM" alone also starts plenty of text files: check the DIB header's size
        if len(head) < 18 or int.from_bytes(head[14:18], "little") not in _BMP_HEADER_SIZES:
            fmt = None
    if fmt is not None:
        return "image", fmt
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "image", "JXL"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n":
        return "image", "JPEG2000"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"crx ":
            return "image", "CR3"
        if brand in _AUDIO_BRANDS:
            return None
        return "video", {b"qt  ": "MOV", b"M4V ": "M4V"}.get(brand, "3GP" if brand.startswith(b"3g") else "MP4")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video", "WEBM" if b"webm" in head[:64] else "MKV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video", "AVI"
    if head[4:8] in _QUICKTIME_ATOMS and int.from_bytes(head[:4], "big") >= 8:
        return "video", "MOV"
    return None


def lfs_pointer(head: bytes, size: int) -> dict[str, str] | None:
    """The fields of a Git LFS pointer file (oid, size), or None if `head` is not one."""
    if size >= LFS_POINTER_MAX or not head.startswith(_LFS_VERSIONS):
        return None
    fields = {}
    for line in head.split(b"\n")[1:]:
        key, _, value = line.partition(b" ")
        if key:
            fields[key.decode("ascii", "replace")] = value.decode("ascii", "replace")
    return fields


# -------------------------------------------------------------------------------------- the walk

@dataclass
class _Walk:
    commits: list[str] = field(default_factory=list)  # in date order, children first
    index: dict[str, int] = field(default_factory=dict)
    parents: list[tuple[int | str, ...]] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)  # author date, strict ISO 8601
    committed: list[int] = field(default_factory=list)  # committer timestamp
    # blob id -> [(commit index, path)] of every commit that brought it in at a path
    intros: dict[bytes, list[tuple[int, bytes]]] = field(default_factory=dict)
    # submodule path -> [(commit index, submodule commit id)] of the commits recording it
    gitlinks: dict[bytes, list[tuple[int, bytes]]] = field(default_factory=dict)


def _walk(git_dir: bytes, stats: HistoryStats) -> _Walk:
    proc = _popen(git_dir, "log", "--all", "--date-order", "--no-renames", "--raw", "-r", "--no-abbrev", "-z",
                  "--no-color", "--no-ext-diff", "--no-textconv", "--diff-merges=first-parent", "--root",
                  "--format=tformat:%x01%H %P%x00%aI %ct")
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)
    drain.start()
    walk = _Walk()
    paths: dict[bytes, bytes] = {}  # interned
    state = "header"  # header -> date -> entries (meta, path)*
    current = -1
    meta: bytes | None = None
    pending = b""
    try:
        while chunk := proc.stdout.read(1 << 20):
            tokens = (pending + chunk).split(b"\0")
            pending = tokens.pop()
            for token in tokens:
                if state == "entries" and meta is not None:
                    _entry(walk, current, meta, paths.setdefault(token, token), stats)
                    meta = None
                elif state == "date":
                    author_date, _, committed = token.partition(b" ")
                    walk.dates.append(author_date.decode("ascii"))
                    walk.committed.append(int(committed))
                    state = "entries"
                elif token.startswith(b"\x01"):
                    ids = token[1:].decode("ascii").split(" ")
                    current = len(walk.commits)
                    walk.index[ids[0]] = current
                    walk.commits.append(ids[0])
                    walk.parents.append(tuple(p for p in ids[1:] if p))
                    state = "date"
                elif state == "entries":
                    meta = token.lstrip(b"\n")
                    if not meta.startswith(b":"):
                        raise ConfigError(f"git log: unexpected output {printable(os.fsdecode(token[:80]))!r}")
                elif token:
                    raise ConfigError(f"git log: unexpected output {printable(os.fsdecode(token[:80]))!r}")
    finally:
        proc.stdout.close()
        proc.wait()
        drain.join()
    if proc.returncode != 0:
        raise ConfigError(_failure(("log",), proc.returncode, b"".join(stderr)))
    # Parents as indexes (a parent outside the walk, e.g. cut by a shallow clone, is dropped).
    walk.parents = [tuple(walk.index[p] for p in ps if p in walk.index) for ps in walk.parents]
    stats.commits = len(walk.commits)
    return walk


def _entry(walk: _Walk, commit: int, meta: bytes, path: bytes, stats: HistoryStats) -> None:
    # ":<old mode> <new mode> <old id> <new id> <status>"
    # (No --diff-filter: git would then leave out commits that only delete, and with them the
    # parent links that carry refs down to older commits.)
    _, new_mode, _, new_id, status = meta[1:].split(b" ")
    if status.startswith(b"D"):
        return
    if new_mode in _FILE_MODES:
        stats.introductions += 1
        walk.intros.setdefault(new_id, []).append((commit, path))
    elif new_mode == _GITLINK_MODE:
        walk.gitlinks.setdefault(path, []).append((commit, new_id))
    # 120000 (a symbolic link's target text) holds no photo


# -------------------------------------------------------------------------------------- helpers

def _git_dir(repo: bytes) -> bytes:
    if not os.path.isdir(repo):
        raise ConfigError(f"{printable(os.fsdecode(repo))} is not a git repository (no such folder)")
    try:
        proc = subprocess.run(["git", "rev-parse", "--absolute-git-dir"], cwd=repo, capture_output=True,
                              env=_env())
    except FileNotFoundError:
        raise ConfigError("git is not installed or not on PATH") from None
    except PermissionError as e:
        raise ConfigError(f"{printable(os.fsdecode(repo))}: {e.strerror}") from None
    if proc.returncode != 0:
        detail = ": " + printable(os.fsdecode(proc.stderr).strip())
        raise ConfigError(f"{printable(os.fsdecode(repo))} is not a git repository{detail}")
    return proc.stdout.rstrip(b"\n")


def _refs(git_dir: bytes) -> tuple[list[tuple[str, str]], list[Skipped], str | None]:
    """(ref name, peeled commit id) pairs, Skipped for refs to trees or blobs, and HEAD's commit."""
    out = _checked(git_dir, "for-each-ref", "--format=%(objectname) %(refname)")
    refs = [line.split(b" ", 1) for line in out.splitlines() if line]
    head = _git(git_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    head_commit = head.stdout.strip().decode("ascii") if head.returncode == 0 else None
    if head_commit is not None and _git(git_dir, "symbolic-ref", "-q", "HEAD").returncode != 0:
        refs.append([head_commit.encode("ascii"), b"HEAD"])  # detached: HEAD is a ref of its own
    resolved, skipped = [], []
    if refs:
        # "<id>^{}" peels annotated tags, tags of tags too, down to what they finally name
        batch = _Batch(git_dir, [oid + b"^{}" for oid, _ in refs], check=True)
        for (_, name), (_, oid, kind, _, _) in zip(refs, batch.objects(keep=0)):
            refname = printable(os.fsdecode(name))
            if kind == b"commit":
                resolved.append((refname, oid.decode("ascii")))
            else:
                skipped.append(Skipped(f"git:{refname}", "ref-not-commit",
                                       f"{refname} points at a {os.fsdecode(kind)}, not a commit: files under it "
                                       "were not audited (list them with git ls-tree -r)"))
    return resolved, skipped, head_commit


def _reaching_refs(walk: _Walk, refs: list[tuple[str, str]]) -> tuple[list[int], list[str]]:
    """For every commit of the walk a bit mask of the refs that reach it (bit i: names[i])."""
    names = sorted({name for name, _ in refs})
    bit = {name: 1 << i for i, name in enumerate(names)}
    masks = [0] * len(walk.commits)
    for name, oid in refs:
        if oid in walk.index:
            masks[walk.index[oid]] |= bit[name]
    for i, parents in enumerate(walk.parents):  # children come before their parents
        for p in parents:
            masks[p] |= masks[i]
    return masks, names


def _head_tree(git_dir: bytes, head_commit: str) -> dict[bytes, list[bytes]]:
    """blob id -> its paths in HEAD's tree (file blobs only)."""
    out = _checked(git_dir, "ls-tree", "-r", "-z", "--full-tree", head_commit)
    blobs: dict[bytes, list[bytes]] = {}
    for record in filter(None, out.split(b"\0")):
        meta, _, path = record.partition(b"\t")
        mode, _, oid = meta.split(b" ")
        if mode in _FILE_MODES:
            blobs.setdefault(oid, []).append(path)
    return blobs


def _since_timestamp(since: datetime | date | str) -> int:
    if isinstance(since, str):
        try:
            since = datetime.fromisoformat(since.strip())
        except ValueError:
            raise ConfigError(f"--since {since!r} is not an ISO 8601 date (2024-01-31 or "
                              "2024-01-31T12:00:00+01:00)") from None
    if not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day)
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)  # a date without an offset is taken as UTC
    return int(since.timestamp())


def _range_commits(git_dir: bytes, rev_range: str) -> set[str]:
    if not rev_range or rev_range.startswith("-"):
        raise ConfigError(f"--range {rev_range!r} is not a revision range (A..B)")
    proc = _git(git_dir, "rev-list", "--end-of-options", os.fsencode(rev_range))
    if proc.returncode != 0:
        raise ConfigError(f"--range {printable(rev_range)}: {printable(os.fsdecode(proc.stderr).strip())}")
    return set(proc.stdout.decode("ascii").split())


def _shallow_boundary(git_dir: bytes) -> set[str]:
    if _checked(git_dir, "rev-parse", "--is-shallow-repository").strip() != b"true":
        return set()
    path = _checked(git_dir, "rev-parse", "--git-path", "shallow").rstrip(b"\n")
    path = os.path.join(git_dir, path)
    try:
        with open(path, "rb") as f:
            return set(f.read().decode("ascii").split())
    except OSError as e:
        raise ConfigError(f"shallow clone, but its boundary cannot be read: {e}") from None


def _missing_in_partial_clone(git_dir: bytes) -> set[bytes]:
    """Blobs a partial clone left on its promisor remote ({} for a full clone), found without
    fetching them: asking cat-file about one would download it (git before 2.44 ignores
    GIT_NO_LAZY_FETCH)."""
    config = _git(git_dir, "config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$")
    if not any(value.strip().lower() not in (b"", b"false") for value in
               (line.partition(b" ")[2] for line in config.stdout.splitlines())):
        return set()
    out = _checked(git_dir, "rev-list", "--objects", "--all", "--missing=print", "--no-object-names")
    return {line[1:] for line in out.splitlines() if line.startswith(b"?")}


def _trees(git_dir: bytes, specs: list[bytes], hash_len: int) -> dict[bytes, dict[bytes, bytes]]:
    """spec ("<commit>:<folder>") -> {name: blob id} of the files directly in that tree."""
    out: dict[bytes, dict[bytes, bytes]] = {}
    plain = [s for s in specs if b"\n" not in s]
    for spec, _, kind, _, content in _Batch(git_dir, plain, check=False).objects(keep=None):
        if kind == b"tree" and content is not None:
            out[spec] = _parse_tree(content, hash_len)
    for spec in specs:  # a folder name holding a newline cannot go through --batch
        if b"\n" in spec:
            proc = _git(git_dir, "ls-tree", "-z", spec)
            entries: dict[bytes, bytes] = {}
            for record in filter(None, proc.stdout.split(b"\0")):
                meta, _, name = record.partition(b"\t")
                mode, _, oid = meta.split(b" ")
                if mode in _FILE_MODES:
                    entries[name] = oid
            out[spec] = entries
    return out


def _parse_tree(content: bytes, hash_len: int) -> dict[bytes, bytes]:
    entries: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(content):
        space = content.index(b" ", pos)
        nul = content.index(b"\0", space)
        mode = content[pos:space]
        if mode in (b"100644", b"100755"):
            entries[content[space + 1:nul]] = content[nul + 1:nul + 1 + hash_len].hex().encode("ascii")
        pos = nul + 1 + hash_len
    return entries


def _sidecar_names(relpath: str) -> list[str]:
    return sorted({posixpath.basename(p) for p in sidecar_paths(relpath)})


# ------------------------------------------------------------------------------------ the listing

def list_history(repo: str | os.PathLike[str], *, since: datetime | date | str | None = None,
                 rev_range: str | None = None, include_videos: bool = True,
                 sniff_limit: int = DEFAULT_SNIFF_LIMIT, stats: HistoryStats | None = None,
                 ) -> Iterator[HistoryObject | Skipped]:
    """Every image (and video) blob reachable from any ref, once per blob id, sorted by url.

    since: only blobs brought in by a commit committed at or after this time (git's --since uses
    the committer date too; a date without an offset is UTC). rev_range: only blobs brought in by
    the commits `git rev-list RANGE` names ("v1.0..main"). Either way, the commit that added a
    blob, its paths and its refs come from the whole history: a blob first added before the range
    and committed again inside it is listed with its real first commit.

    Raises ConfigError at call time if `repo` is not in a git repository or git fails. A
    repository without commits lists nothing (the caller treats that as nothing audited).
    """
    stats = stats if stats is not None else HistoryStats()
    repo_bytes = os.fsencode(os.fspath(repo))
    git_dir = _git_dir(repo_bytes)
    repo_name = printable(os.fsdecode(repo_bytes))
    since_ts = None if since is None else _since_timestamp(since)

    started = time.monotonic()
    selected_commits = None if rev_range is None else _range_commits(git_dir, rev_range)
    refs, skipped, head_commit = _refs(git_dir)
    boundary = _shallow_boundary(git_dir)
    walk = _walk(git_dir, stats)
    head_blobs = _head_tree(git_dir, head_commit) if head_commit is not None else {}
    masks, ref_names = _reaching_refs(walk, refs)
    stats.walk_seconds = time.monotonic() - started

    def in_scope(commit: int) -> bool:
        if since_ts is not None and walk.committed[commit] < since_ts:
            return False
        return selected_commits is None or walk.commits[commit] in selected_commits

    if boundary:
        skipped.append(Skipped(repo_name, "shallow-clone",
                               f"shallow clone: history behind {len(boundary)} boundary commit(s) is not in "
                               "this repository, so photos committed there were not audited and a blob's "
                               "first commit may be later than its real one; run git fetch --unshallow and "
                               "audit again"))
    limited = since_ts is not None or selected_commits is not None
    for path, records in sorted(walk.gitlinks.items()):
        if limited and not any(in_scope(c) for c, _ in records):
            continue
        name = printable(os.fsdecode(path))
        first = max(records)[1].decode("ascii")
        skipped.append(Skipped(f"git:{first}:{name}", "submodule",
                               f"{name} is a submodule (recorded by {len(records)} commit(s)): its files live in "
                               "another repository, audit that repository's history separately"))

    # Blobs in scope, and their size (missing objects too).
    chosen = [blob for blob, intros in walk.intros.items() if not limited or any(in_scope(c) for c, _ in intros)]
    stats.blobs = len(walk.intros)
    sizes: dict[bytes, int | None] = {}
    missing = _missing_in_partial_clone(git_dir) if chosen else set()
    present = [blob for blob in chosen if blob not in missing]
    if present:
        for blob, _, kind, size, _ in _Batch(git_dir, present, check=True).objects(keep=0):
            sizes[blob] = size if kind == b"blob" else None

    def first_intro(blob: bytes) -> tuple[int, bytes]:
        intros = walk.intros[blob]
        oldest = max(c for c, _ in intros)  # date order, children first: the last is the earliest
        return oldest, min(p for c, p in intros if c == oldest)

    def name_kind(blob: bytes) -> str | None:
        kinds = {_suffix_kind(p) for _, p in walk.intros[blob]} - {None}
        return "image" if "image" in kinds else "video" if kinds else None

    def url_of(blob: bytes) -> str:
        return f"git:{blob.decode('ascii')}:{printable(os.fsdecode(first_intro(blob)[1]))}"

    # Classify: content first (every blob up to sniff_limit), name for the larger ones.
    classified: dict[bytes, tuple[str, str | None]] = {}
    to_sniff: list[bytes] = []
    missing_unnamed = 0
    for blob in chosen:
        size = sizes.get(blob)
        if size is None:
            if name_kind(blob) is not None:
                skipped.append(Skipped(url_of(blob), "missing-object",
                                       "the blob is not in this repository's object store (a partial clone "
                                       "or a damaged repository): not scanned"))
            else:
                missing_unnamed += 1
        elif size <= sniff_limit:
            to_sniff.append(blob)
        elif (kind := name_kind(blob)) is not None:
            classified[blob] = (kind, None)
        else:
            skipped.append(Skipped(url_of(blob), "unclassified",
                                   f"a {size:,}-byte blob over the sniffing limit of {sniff_limit:,} bytes, "
                                   "not named like an image or video: not classified, not scanned (raise the "
                                   "limit to classify it)"))
    if missing_unnamed:
        skipped.append(Skipped(repo_name, "missing-object",
                               f"{missing_unnamed} blob(s) of the history are not in this repository's object "
                               "store (a partial clone or a damaged repository) and could not be classified: "
                               "fetch them (git fetch --refetch, or a full clone) and audit again"))
    sniff_started = time.monotonic()
    if to_sniff:
        for blob, _, kind, size, head in _Batch(git_dir, to_sniff, check=False).objects(keep=_HEAD_BYTES):
            stats.sniffed_blobs += 1
            stats.sniffed_bytes += size
            if kind != b"blob" or head is None:
                skipped.append(Skipped(url_of(blob), "missing-object", "the blob could not be read: not scanned"))
                continue
            pointer = lfs_pointer(head, size)
            if pointer is not None:
                skipped.append(Skipped(url_of(blob), "lfs-pointer",
                                       f"tracked by Git LFS: history holds only a pointer ({pointer.get('oid', '?')}, "
                                       f"{pointer.get('size', '?')} bytes), the file itself is on the LFS server: "
                                       "not scanned; audit the LFS store or a checkout with the files fetched"))
                continue
            media = sniff_media(head)
            if media is not None:
                classified[blob] = media
            elif (by_name := name_kind(blob)) is not None:
                classified[blob] = (by_name, None)  # named like one: the scanner says what it really is
    stats.sniff_seconds = time.monotonic() - sniff_started

    # Sidecars: in HEAD's tree next to a blob HEAD holds, else in the adding commit's tree.
    hash_len = len(walk.commits[0]) // 2 if walk.commits else 20
    anchors: dict[bytes, tuple[str, bytes, bytes]] = {}  # blob -> (anchor commit, folder, path)
    for blob in classified:
        if blob in head_blobs:
            path = min(head_blobs[blob])
            anchors[blob] = (head_commit, posixpath.dirname(path), path)
        else:
            commit, path = first_intro(blob)
            anchors[blob] = (walk.commits[commit], posixpath.dirname(path), path)
    specs = sorted({a.encode("ascii") + b":" + f for a, f, _ in anchors.values()})
    trees = _trees(git_dir, specs, hash_len) if specs else {}

    results: list[HistoryObject | Skipped] = []
    for blob, (kind, fmt) in classified.items():
        url = url_of(blob)
        if kind == "video" and not include_videos:
            skipped.append(Skipped(url, "video-not-audited", f"a video ({fmt or 'by its name'}): videos were "
                                   "not audited in this run"))
            continue
        commit, added_path = first_intro(blob)
        anchor, folder, anchor_path = anchors[blob]
        relpath = printable(os.fsdecode(anchor_path))
        tree = trees.get(anchor.encode("ascii") + b":" + folder, {})
        found = [(n, tree[os.fsencode(n)].decode("ascii")) for n in _sidecar_names(relpath)
                   if os.fsencode(n) in tree]
        mask = 0
        for c, _ in walk.intros[blob]:
            mask |= masks[c]
        blob_id = blob.decode("ascii")
        added_date = datetime.fromisoformat(walk.dates[commit])
        results.append(HistoryObject(
            url=url, relpath=relpath, size=sizes[blob], change_key=blob_id,
            location=HistoryBlob(git_dir, blob_id, anchor, folder, tuple((os.fsencode(n), b) for n, b in found)),
            sidecars=tuple(found), modified=added_date,
            blob=blob_id, kind=kind, format=fmt, added_commit=walk.commits[commit], added_date=added_date,
            added_path=printable(os.fsdecode(added_path)),
            added_at_shallow_boundary=walk.commits[commit] in boundary,
            paths=tuple(sorted({printable(os.fsdecode(p)) for _, p in walk.intros[blob]})),
            in_head=blob in head_blobs,
            head_paths=tuple(sorted(printable(os.fsdecode(p)) for p in head_blobs.get(blob, ()))),
            refs=tuple(name for i, name in enumerate(ref_names) if mask >> i & 1),
        ))
    stats.listed = len(results)
    stats.skipped = len(skipped)
    results.extend(skipped)
    results.sort(key=lambda r: r.url)
    return iter(results)
