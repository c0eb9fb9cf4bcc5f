"""Staged sources: real git repositories in tmp_path; what is read is the index, not the disk."""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import pytest

from bipacheck.errors import ConfigError
from bipacheck.sources import Skipped, SourceObject, staged_objects


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch):
    # No user/system config (hooks, signing, default branch...) may change what the tests see.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{var}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{var}_EMAIL", "test@example.com")
    for var in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)


def git(repo: Path, *args: str | bytes) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True).stdout


def blob_sha(repo: Path, path: str) -> str:
    return git(repo, "rev-parse", f":0:{path}").decode().strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "photos").mkdir()
    (root / "photos" / "old.jpg").write_bytes(b"committed photo")
    (root / "photos" / "keep.jpg").write_bytes(b"unchanged photo")
    (root / "photos" / "drop.jpg").write_bytes(b"to be deleted")
    (root / "README").write_bytes(b"readme")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def by_url(items) -> dict[str, SourceObject | Skipped]:
    return {i.url: i for i in items}


def test_read_returns_staged_bytes_not_the_working_tree(repo: Path):
    (repo / "photos" / "old.jpg").write_bytes(b"staged edit")
    (repo / "photos" / "new.jpg").write_bytes(b"staged new photo")
    git(repo, "add", "photos/old.jpg", "photos/new.jpg")
    # Edits after staging are not part of the commit and must not be audited.
    (repo / "photos" / "old.jpg").write_bytes(b"unstaged later edit")
    (repo / "photos" / "new.jpg").unlink()
    (repo / "photos" / "keep.jpg").write_bytes(b"modified but never staged")

    items = list(staged_objects(str(repo)))
    assert [i.url for i in items] == ["photos/new.jpg", "photos/old.jpg"]
    old, new = items[1], items[0]
    assert old.read() == b"staged edit"
    assert new.read() == b"staged new photo"
    assert old.relpath == "photos/old.jpg"
    assert old.change_key == blob_sha(repo, "photos/old.jpg")
    assert old.size == len(b"staged edit")
    assert pickle.loads(pickle.dumps(old)).read() == b"staged edit"


def test_deleted_in_index_is_not_listed(repo: Path):
    git(repo, "rm", "-q", "--cached", "photos/drop.jpg")
    (repo / "README").write_bytes(b"readme v2")
    git(repo, "add", "README")
    assert [i.url for i in staged_objects(str(repo))] == ["README"]


def test_paths_filter_accepts_files_and_folders(repo: Path):
    for name in ("old.jpg", "keep.jpg"):
        (repo / "photos" / name).write_bytes(b"v2 of " + name.encode())
    (repo / "README").write_bytes(b"readme v2")
    git(repo, "add", "-A")
    assert [i.url for i in staged_objects(str(repo), ["photos/keep.jpg"])] == ["photos/keep.jpg"]
    assert [i.url for i in staged_objects(str(repo), ["photos"])] == [
        "photos/keep.jpg", "photos/old.jpg",
    ]
    assert list(staged_objects(str(repo), [])) == []
    assert list(staged_objects(str(repo), ["photos/never-existed.jpg"])) == []
    # Paths are relative to repo_dir even when it is a subfolder; urls stay relative to the root.
    assert [i.url for i in staged_objects(str(repo / "photos"), ["old.jpg"])] == ["photos/old.jpg"]


def test_repository_without_commits_lists_every_staged_file(tmp_path: Path):
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q")
    (root / "a.jpg").write_bytes(b"first")
    (root / "sub").mkdir()
    (root / "sub" / "b.jpg").write_bytes(b"second")
    (root / "untracked.jpg").write_bytes(b"never added")
    git(root, "add", "a.jpg", "sub/b.jpg")
    items = list(staged_objects(str(root)))
    assert [(i.url, i.read()) for i in items] == [("a.jpg", b"first"), ("sub/b.jpg", b"second")]


def test_awkward_file_names(repo: Path):
    names = [b"with space.jpg", b"new\nline.jpg", b"caf\xe9.jpg"]
    for name in names:
        with open(os.path.join(os.fsencode(repo), name), "wb") as f:
            f.write(b"bytes of " + name)
    git(repo, "add", "--", *names)
    got = {i.url: i for i in staged_objects(str(repo))}
    assert set(got) == {"with space.jpg", "new\\x0aline.jpg", "caf\\xe9.jpg"}
    assert got["caf\\xe9.jpg"].read() == b"bytes of caf\xe9.jpg"
    assert got["new\\x0aline.jpg"].read() == b"bytes of new\nline.jpg"
    # The paths filter takes the real (os.fsdecode'd) names.
    [only] = staged_objects(str(repo), [os.fsdecode(b"caf\xe9.jpg")])
    assert only.url == "caf\\xe9.jpg"


def test_sibling_reads_the_staged_sidecar(repo: Path):
    (repo / "photos" / "new.jpg").write_bytes(b"photo")
    (repo / "photos" / "new.jpg.xmp").write_bytes(b"<staged/>")
    git(repo, "add", "photos")
    (repo / "photos" / "new.jpg.xmp").write_bytes(b"<working tree/>")
    (repo / "photos" / "untracked.xmp").write_bytes(b"<untracked/>")
    photo = by_url(staged_objects(str(repo)))["photos/new.jpg"]
    assert photo.sibling("new.jpg.xmp") == b"<staged/>"
    assert photo.sibling("untracked.xmp") is None


def test_merge_conflict_is_reported_as_skipped(repo: Path):
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "photos" / "old.jpg").write_bytes(b"other side")
    git(repo, "commit", "-q", "-am", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "photos" / "old.jpg").write_bytes(b"main side")
    git(repo, "commit", "-q", "-am", "main")
    merge = subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True)
    assert merge.returncode != 0  # the conflict this test needs
    [item] = staged_objects(str(repo))
    assert item == Skipped("photos/old.jpg", "unmerged", "unresolved merge conflict in the index")


def test_not_a_repository_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="not inside a git work tree"):
        staged_objects(str(tmp_path))
