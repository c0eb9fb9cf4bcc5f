"""History source: real git repositories with real commits in tmp_path, real photos from scikit-image."""

from __future__ import annotations

import os
import pickle
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bipacheck.errors import ConfigError
from bipacheck.sources import Skipped
from bipacheck.sources.git_history import HistoryObject, HistoryStats, list_history, sniff_media
from bipacheck.sources.objects import SourceObject
from tests.images import encode, rgb
from tests.requirements import require_module, require_tool

require_tool("git", "git")  # with CI=true a missing git fails the tests, never skips them

FACE_PNG = encode(np.asarray(Image.fromarray(rgb("astronaut")).resize((160, 160))))
FACE_JPEG = encode(np.asarray(Image.fromarray(rgb("astronaut")).resize((200, 200))), "JPEG", quality=90)
SCENE_PNG = encode(np.asarray(Image.fromarray(rgb("coffee")).resize((120, 80))))
SCENE_JPEG = encode(np.asarray(Image.fromarray(rgb("rocket")).resize((90, 120))), "JPEG")
T0 = datetime(2023, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-6)))  # Chicago, winter


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch, tmp_path):
    # No user/system config (hooks, signing, default branch...) may change what the tests see.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for var in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{var}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{var}_EMAIL", "test@example.com")
    for var in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)


def git(repo: Path, *args: str | bytes, when: datetime | None = None) -> str:
    env = dict(os.environ)
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env).stdout.decode()


class Repo:
    """A work tree with helpers that commit at a given time; `clock` moves one day per commit."""

    def __init__(self, root: Path):
        self.root = root
        self.clock = T0
        root.mkdir()
        git(root, "init", "-q", "-b", "main")

    def write(self, path: str | bytes, data: bytes) -> None:
        full = os.path.join(os.fsencode(self.root), os.fsencode(path))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)

    def commit(self, message: str, *, files: dict | None = None, remove: tuple = ()) -> str:
        for path, data in (files or {}).items():
            self.write(path, data)
        if files:
            git(self.root, "add", "--", *files)
        if remove:
            git(self.root, "rm", "-q", "--", *remove)
        self.clock += timedelta(days=1)
        git(self.root, "commit", "-q", "--allow-empty", "-m", message, when=self.clock)
        return self.head()

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()

    def blob(self, data: bytes) -> str:
        return subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True,
                              check=True).stdout.decode().strip()

    def __call__(self, *args, **kwargs) -> str:
        return git(self.root, *args, **kwargs)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.commit("readme", files={"README.md": b"# photos\n", "src/app.py": b"print('hello')\n"})
    return r


def objects(items) -> dict[str, HistoryObject]:
    """HistoryObjects by blob id (the test fails on any Skipped it did not expect)."""
    items = list(items)
    assert all(isinstance(i, HistoryObject) for i in items), [i for i in items if isinstance(i, Skipped)]
    return {i.blob: i for i in items}


def skipped(items) -> list[Skipped]:
    return [i for i in items if isinstance(i, Skipped)]


# --------------------------------------------------------------------------------- the audit's core

def test_a_deleted_face_photo_is_listed_with_the_commit_that_added_it(repo: Repo):
    added = repo.commit("add team photo", files={"team/alice.png": FACE_PNG})
    added_at = repo.clock
    repo.commit("remove photo (privacy request)", remove=("team/alice.png",))
    items = list(list_history(repo.root))
    (obj,) = objects(items).values()
    assert obj.blob == repo.blob(FACE_PNG) == obj.change_key
    assert obj.added_commit == added
    assert obj.added_date == added_at and obj.added_date.utcoffset() == timedelta(hours=-6)
    assert obj.modified == added_at
    assert obj.in_head is False and obj.head_paths == ()
    assert obj.paths == ("team/alice.png",) and obj.added_path == "team/alice.png"
    assert obj.relpath == "team/alice.png"
    assert obj.url == f"git:{obj.blob}:team/alice.png"
    assert obj.refs == ("refs/heads/main",)
    assert (obj.kind, obj.format, obj.size) == ("image", "PNG", len(FACE_PNG))
    assert isinstance(obj, SourceObject)
    assert obj.read() == FACE_PNG
    again = pickle.loads(pickle.dumps(obj))  # workers receive it
    assert again == obj and again.read() == FACE_PNG
    assert obj.history() == {
        "blob": obj.blob, "kind": "image", "commit": added, "author_date": "2023-03-03T09:30:00-06:00",
        "added_path": "team/alice.png", "shallow_boundary": False, "paths": ["team/alice.png"],
        "in_head": False, "head_paths": [], "refs": ["refs/heads/main"],
    }


def test_a_photo_still_in_head_has_its_head_path(repo: Repo):
    added = repo.commit("photos", files={"a/face.jpg": FACE_JPEG, "a/scene.png": SCENE_PNG})
    repo("mv", "a", "album")
    repo.commit("move album")
    got = objects(list_history(repo.root))
    face = got[repo.blob(FACE_JPEG)]
    assert face.in_head is True and face.head_paths == ("album/face.jpg",)
    assert face.relpath == "album/face.jpg"
    assert face.added_commit == added and face.added_path == "a/face.jpg"
    assert face.url == f"git:{face.blob}:a/face.jpg"  # the first path: stable while HEAD changes
    assert face.paths == ("a/face.jpg", "album/face.jpg")
    assert (face.kind, face.format) == ("image", "JPEG")
    assert got[repo.blob(SCENE_PNG)].head_paths == ("album/scene.png",)


def test_the_same_blob_under_two_paths_and_branches_is_listed_once(repo: Repo):
    first = repo.commit("photo", files={"photos/face.png": FACE_PNG})
    repo("checkout", "-q", "-b", "marketing")
    repo.commit("copy for the site", files={"site/img/hero.png": FACE_PNG})
    repo("checkout", "-q", "main")
    repo.commit("archive", files={"archive/2023/face.png": FACE_PNG}, remove=("photos/face.png",))
    items = list(list_history(repo.root))
    got = objects(items)
    assert len(got) == 1
    obj = got[repo.blob(FACE_PNG)]
    assert obj.paths == ("archive/2023/face.png", "photos/face.png", "site/img/hero.png")
    assert obj.added_commit == first and obj.added_path == "photos/face.png"
    assert obj.refs == ("refs/heads/main", "refs/heads/marketing")
    assert obj.in_head and obj.head_paths == ("archive/2023/face.png",)


def test_a_renamed_photo_keeps_its_adding_commit(repo: Repo):
    added = repo.commit("photo", files={"IMG_0001.JPG": FACE_JPEG})
    (repo.root / "people").mkdir()
    repo("mv", "IMG_0001.JPG", "people/bob.jpg")
    renamed = repo.commit("rename")
    (obj,) = objects(list_history(repo.root)).values()
    assert obj.added_commit == added != renamed
    assert obj.paths == ("IMG_0001.JPG", "people/bob.jpg")
    assert obj.relpath == "people/bob.jpg" and obj.url.endswith(":IMG_0001.JPG")


def test_a_blob_reachable_only_from_a_tag_is_found(repo: Repo):
    repo("checkout", "-q", "-b", "release-prep")
    tagged = repo.commit("press kit", files={"press/ceo.png": FACE_PNG})
    repo("tag", "-a", "-m", "press kit 1", "press-1")
    repo("tag", "-a", "-m", "tag of a tag", "press-1-again", "press-1")
    repo("checkout", "-q", "main")
    repo("branch", "-q", "-D", "release-prep")
    repo.commit("later work", files={"src/app.py": b"print('v2')\n"})
    (obj,) = objects(list_history(repo.root)).values()
    assert obj.added_commit == tagged and not obj.in_head
    assert obj.refs == ("refs/tags/press-1", "refs/tags/press-1-again")


def test_a_photo_first_written_by_a_merge_is_found(repo: Repo):
    repo("checkout", "-q", "-b", "side")
    repo.commit("side work", files={"side.txt": b"side\n"})
    repo("checkout", "-q", "main")
    repo.commit("main work", files={"main.txt": b"main\n"})
    repo("merge", "-q", "--no-ff", "--no-commit", "side")
    repo.write("merged/face.png", FACE_PNG)  # only the merge commit has it (an "evil merge")
    repo("add", "merged/face.png")
    repo.clock += timedelta(days=1)
    repo("commit", "-q", "-m", "merge side", when=repo.clock)
    (obj,) = objects(list_history(repo.root)).values()
    assert obj.added_commit == repo.head() and obj.in_head


def test_stashed_photos_are_found(repo: Repo):
    repo.write("staged.png", FACE_PNG)
    repo("add", "staged.png")
    repo.write("untracked.jpg", FACE_JPEG)
    repo("stash", "push", "-q", "--include-untracked")
    got = objects(list_history(repo.root))
    assert {(o.relpath, o.refs, o.in_head) for o in got.values()} == {
        ("staged.png", ("refs/stash",), False), ("untracked.jpg", ("refs/stash",), False)}


def test_an_inherited_git_dir_does_not_redirect_the_listing(repo: Repo, tmp_path: Path, monkeypatch):
    other = Repo(tmp_path / "other")
    other.commit("other photo", files={"other.png": SCENE_PNG})
    repo.commit("photo", files={"mine.png": FACE_PNG})
    monkeypatch.setenv("GIT_DIR", str(other.root / ".git"))  # as inside another repository's hook
    assert {o.relpath for o in objects(list_history(repo.root)).values()} == {"mine.png"}


def test_a_detached_head_is_a_ref_of_its_own(repo: Repo):
    repo.commit("base")
    repo("checkout", "-q", "--detach")
    detached = repo.commit("experiment", files={"x.png": FACE_PNG})
    repo("checkout", "-q", "main")
    assert objects(list_history(repo.root)) == {}  # HEAD is main again: the experiment is unreachable
    repo("checkout", "-q", detached)
    (obj,) = objects(list_history(repo.root)).values()
    assert obj.refs == ("HEAD",) and obj.in_head


# ------------------------------------------------------------------------------- what is an image

def test_non_image_blobs_are_ignored(repo: Repo):
    repo.commit("stuff", files={
        "docs/guide.md": b"# Guide\n" * 50, "data/table.csv": b"a,b\n1,2\n", "bin/blob.bin": os.urandom(5000),
        "archive.zip": b"PK\x03\x04" + os.urandom(200), "BMW-notes.txt": b"BM is not a bitmap here\n" * 3,
        "tool.sh": b"#!/bin/sh\necho hi\n", "audio.m4a": b"\x00\x00\x00\x20ftypM4A " + bytes(24),
    })
    repo("rm", "-q", "data/table.csv")
    repo.commit("drop table")
    stats = HistoryStats()
    assert list(list_history(repo.root, stats=stats)) == []
    assert stats.blobs == 9 and stats.sniffed_blobs == 9  # two from the first commit, seven here


def test_an_image_with_a_wrong_extension_is_found_by_content(repo: Repo):
    repo.commit("misnamed", files={"notes.txt": FACE_PNG, "upload/4f1c2a": FACE_JPEG, "scene.gif": SCENE_PNG})
    got = objects(list_history(repo.root))
    assert {(o.relpath, o.kind, o.format) for o in got.values()} == {
        ("notes.txt", "image", "PNG"), ("upload/4f1c2a", "image", "JPEG"), ("scene.gif", "image", "PNG")}


def test_a_file_named_like_an_image_is_listed_whatever_it_holds(repo: Repo):
    # fail closed: the scanner reads it and reports what it really is
    repo.commit("placeholder", files={"avatar.jpg": b"TODO: real photo\n"})
    (obj,) = objects(list_history(repo.root)).values()
    assert (obj.kind, obj.format) == ("image", None)


def test_videos_are_found_by_content_and_can_be_left_to_a_later_run(repo: Repo, tmp_path: Path):
    cv2 = require_module("cv2")
    path = str(tmp_path / "clip.mp4")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 5, (160, 160))
    assert writer.isOpened()
    frame = cv2.cvtColor(np.asarray(Image.open(__import__("io").BytesIO(FACE_PNG)).convert("RGB")),
                         cv2.COLOR_RGB2BGR)
    for _ in range(5):
        writer.write(frame)
    writer.release()
    clip = Path(path).read_bytes()
    repo.commit("clips", files={"media/clip.mp4": clip, "media/clip-renamed.bin": clip + b"\0"})
    got = objects(list_history(repo.root))
    assert {(o.relpath, o.kind, o.format) for o in got.values()} == {
        ("media/clip.mp4", "video", "MP4"), ("media/clip-renamed.bin", "video", "MP4")}
    left = list(list_history(repo.root, include_videos=False))
    assert {(s.reason, s.url.rsplit(":", 1)[1]) for s in skipped(left)} == {
        ("video-not-audited", "media/clip.mp4"), ("video-not-audited", "media/clip-renamed.bin")}
    assert not [i for i in left if isinstance(i, HistoryObject)]


def test_media_signatures():
    assert sniff_media(FACE_JPEG[:64]) == ("image", "JPEG")
    assert sniff_media(b"\x00\x00\x00\x1cftypqt  " + bytes(16)) == ("video", "MOV")
    assert sniff_media(b"\x00\x00\x00\x1cftypheic" + bytes(16)) == ("image", "HEIF")
    assert sniff_media(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm") == ("video", "WEBM")
    assert sniff_media(b"RIFF\x00\x00\x00\x00AVI LIST") == ("video", "AVI")
    assert sniff_media(b"BM text that merely starts with BM") is None
    assert sniff_media(b"\x00\x00\x00\x20ftypM4A " + bytes(20)) is None  # audio only


def test_sniffing_is_bounded_by_a_size_limit_and_what_it_cannot_classify_is_reported(repo: Repo):
    repo.commit("big", files={"big/face.jpg": FACE_JPEG, "big/upload-7": FACE_PNG, "small.txt": b"hi\n"})
    limit = min(len(FACE_JPEG), len(FACE_PNG)) - 1
    stats = HistoryStats()
    items = list(list_history(repo.root, sniff_limit=limit, stats=stats))
    (obj,) = [i for i in items if isinstance(i, HistoryObject)]
    assert (obj.relpath, obj.kind, obj.format) == ("big/face.jpg", "image", None)  # by name
    (skip,) = skipped(items)
    assert skip.reason == "unclassified" and skip.url == f"git:{repo.blob(FACE_PNG)}:big/upload-7"
    assert stats.sniffed_bytes < limit * 4


# ----------------------------------------------------------------------------- limiting the walk

def test_range_limits_to_blobs_its_commits_brought_in(repo: Repo):
    repo.commit("one", files={"one.png": FACE_PNG})
    base = repo("rev-parse", "HEAD").strip()
    repo.commit("two", files={"two.jpg": FACE_JPEG})
    repo.commit("three", files={"three.png": SCENE_PNG})
    got = objects(list_history(repo.root, rev_range=f"{base}..main"))
    assert {o.relpath for o in got.values()} == {"two.jpg", "three.png"}
    assert objects(list_history(repo.root, rev_range=f"{base}..{base}")) == {}
    with pytest.raises(ConfigError, match="--range"):
        list_history(repo.root, rev_range="no-such-branch..main")
    with pytest.raises(ConfigError, match="--range"):
        list_history(repo.root, rev_range="--all")


def test_since_limits_by_commit_date_but_keeps_the_real_first_commit(repo: Repo):
    first = repo.commit("one", files={"one.png": FACE_PNG})
    repo.commit("two", files={"two.jpg": FACE_JPEG})
    cut = repo.clock + timedelta(hours=12)
    repo.commit("three", files={"three.png": SCENE_PNG})
    repo.commit("copy one again", files={"copies/one.png": FACE_PNG})
    got = objects(list_history(repo.root, since=cut.isoformat()))
    assert {o.relpath for o in got.values()} == {"three.png", "copies/one.png"}  # HEAD paths
    again = got[repo.blob(FACE_PNG)]
    assert again.added_commit == first and again.added_path == "one.png"
    assert again.paths == ("copies/one.png", "one.png")
    assert {o.relpath for o in objects(list_history(repo.root, since=cut.date())).values()} >= {"three.png"}
    assert objects(list_history(repo.root, since=repo.clock + timedelta(days=1))) == {}
    with pytest.raises(ConfigError, match="--since"):
        list_history(repo.root, since="last tuesday")


# --------------------------------------------------------------------------- awkward repositories

def test_an_lfs_pointer_is_reported_as_not_scanned(repo: Repo):
    oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 2481733\n".encode()
    repo.commit("lfs", files={".gitattributes": b"*.jpg filter=lfs diff=lfs merge=lfs -text\n",
                              "shoot/portrait.jpg": pointer})
    (skip,) = list(list_history(repo.root))
    assert isinstance(skip, Skipped) and skip.reason == "lfs-pointer"
    assert skip.url == f"git:{repo.blob(pointer)}:shoot/portrait.jpg"
    assert f"sha256:{oid}" in skip.message and "2481733" in skip.message


def test_a_shallow_clone_says_its_history_is_incomplete(repo: Repo, tmp_path: Path):
    repo.commit("old photo", files={"old.png": FACE_PNG})
    repo.commit("delete it", remove=("old.png",))
    repo.commit("new photo", files={"new.jpg": FACE_JPEG})
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone))
    items = list(list_history(clone))
    (shallow,) = skipped(items)
    assert shallow.reason == "shallow-clone" and "--unshallow" in shallow.message
    (obj,) = [i for i in items if isinstance(i, HistoryObject)]
    assert obj.relpath == "new.jpg" and obj.added_at_shallow_boundary
    # the full history finds the deleted photo
    assert {o.relpath for o in objects(list_history(repo.root)).values()} == {"old.png", "new.jpg"}


def test_a_bare_repository(repo: Repo, tmp_path: Path):
    added = repo.commit("photo", files={"p/face.png": FACE_PNG})
    repo.commit("gone", remove=("p/face.png",))
    repo.commit("kept", files={"q/scene.jpg": SCENE_JPEG})
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo.root), str(bare))
    got = objects(list_history(bare))
    assert got[repo.blob(FACE_PNG)].added_commit == added and not got[repo.blob(FACE_PNG)].in_head
    assert got[repo.blob(SCENE_JPEG)].head_paths == ("q/scene.jpg",)
    assert got[repo.blob(FACE_PNG)].read() == FACE_PNG


def test_submodules_are_skipped_with_a_reason(repo: Repo):
    sub_commit = repo.head()  # any commit id will do for a gitlink
    repo("update-index", "--add", "--cacheinfo", f"160000,{sub_commit},vendor/faces-lib")
    repo.commit("add submodule", files={"face.png": FACE_PNG})
    items = list(list_history(repo.root))
    (skip,) = skipped(items)
    assert skip.reason == "submodule" and skip.url == f"git:{sub_commit}:vendor/faces-lib"
    assert "another repository" in skip.message
    assert len(objects(i for i in items if isinstance(i, HistoryObject))) == 1


def test_a_ref_to_a_blob_is_reported(repo: Repo):
    repo.commit("photo", files={"face.png": FACE_PNG})
    repo("tag", "just-a-blob", repo.blob(FACE_PNG))
    items = list(list_history(repo.root))
    (skip,) = skipped(items)
    assert skip.reason == "ref-not-commit" and "refs/tags/just-a-blob" in skip.message


def test_awkward_path_names(repo: Repo):
    names = [b"new\nline.png", b"caf\xe9.jpg", b"dir\xff/with space.png"]
    repo.commit("names", files={names[0]: FACE_PNG, names[1]: FACE_JPEG, names[2]: SCENE_PNG})
    got = {o.relpath: o for o in objects(list_history(repo.root)).values()}
    assert set(got) == {"new\\x0aline.png", "caf\\xe9.jpg", "dir\\xff/with space.png"}
    assert got["new\\x0aline.png"].read() == FACE_PNG
    assert got["caf\\xe9.jpg"].url == f"git:{repo.blob(FACE_JPEG)}:caf\\xe9.jpg"
    assert got["dir\\xff/with space.png"].read() == SCENE_PNG


def test_a_partial_clone_reports_missing_blobs_without_fetching_them(repo: Repo, tmp_path: Path):
    repo.commit("photo", files={"p/face.png": FACE_PNG})
    repo.commit("gone", remove=("p/face.png",))
    repo("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{repo.root}", str(clone))

    def missing() -> int:
        out = git(clone, "rev-list", "--objects", "--all", "--missing=print")
        return sum(line.startswith("?") for line in out.splitlines())

    before = missing()
    items = list(list_history(clone))
    assert missing() == before > 0  # nothing was downloaded
    reasons = {(s.reason, s.url) for s in skipped(items)}
    assert ("missing-object", f"git:{repo.blob(FACE_PNG)}:p/face.png") in reasons
    assert any(r == "missing-object" and u == str(clone) for r, u in reasons)  # the unnamed ones, counted


def test_a_repository_without_commits_lists_nothing(tmp_path: Path):
    Repo(tmp_path / "empty")
    assert list(list_history(tmp_path / "empty")) == []


def test_not_a_repository_is_a_config_error(tmp_path: Path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(ConfigError, match="not a git repository"):
        list_history(tmp_path / "plain")
    with pytest.raises(ConfigError, match="not a git repository"):
        list_history(tmp_path / "missing")


# --------------------------------------------------------------------------------------- sidecars

def test_sidecars_come_from_the_adding_commit_or_from_head(repo: Repo):
    repo.commit("tagged photos", files={
        "old/face.png": FACE_PNG, "old/face.png.xmp": b"<x:xmpmeta>v1</x:xmpmeta>",
        "new/scene.jpg": SCENE_JPEG, "new/scene.xmp": b"<x:xmpmeta>v1</x:xmpmeta>"})
    repo.commit("later edits", files={"old/face.png.xmp": b"<x:xmpmeta>v2</x:xmpmeta>",
                                       "new/scene.xmp": b"<x:xmpmeta>v2</x:xmpmeta>"})
    repo.commit("delete the old photo", remove=("old/face.png", "old/face.png.xmp"))
    got = objects(list_history(repo.root))
    gone, kept = got[repo.blob(FACE_PNG)], got[repo.blob(SCENE_JPEG)]
    # only in history: the sidecar as the commit that added the photo had it
    assert gone.sibling("face.png.xmp") == b"<x:xmpmeta>v1</x:xmpmeta>"
    assert gone.sidecars == (("face.png.xmp", repo.blob(b"<x:xmpmeta>v1</x:xmpmeta>")),)
    # still in HEAD: the sidecar next to it now, as an audit of the work tree reads it
    assert kept.sibling("scene.xmp") == b"<x:xmpmeta>v2</x:xmpmeta>"
    assert kept.sidecars == (("scene.xmp", repo.blob(b"<x:xmpmeta>v2</x:xmpmeta>")),)
    assert kept.sibling("scene.jpg.json") is None
    assert kept.sibling("README.md") is None  # not in the photo's folder
    assert pickle.loads(pickle.dumps(kept)).sibling("scene.xmp") == b"<x:xmpmeta>v2</x:xmpmeta>"
    # the scan cache's sidecar stamps see them (a sidecar-only edit makes a cached scan stale)
    from bipacheck.scanning.sidecar_stamps import SidecarStamper

    stamps = dict(SidecarStamper().stamped([gone, kept]))
    assert stamps[gone] and stamps[kept] and stamps[gone] != stamps[kept]


def test_the_scanner_finds_the_face_in_a_deleted_photo(repo: Repo, centerface):
    from bipacheck.scanning.scan import PhotoScan, scan_object

    repo.commit("add", files={"staff/portrait.jpg": FACE_JPEG, "staff/scene.png": SCENE_PNG})
    repo.commit("remove", remove=("staff/portrait.jpg",))
    got = objects(list_history(repo.root))
    face = scan_object(got[repo.blob(FACE_JPEG)], centerface)
    scene = scan_object(got[repo.blob(SCENE_PNG)], centerface)
    assert isinstance(face, PhotoScan) and len(face.faces) == 1
    assert face.url == got[repo.blob(FACE_JPEG)].url
    assert isinstance(scene, PhotoScan) and scene.faces == []
