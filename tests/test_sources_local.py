"""Local sources: real files and folders in tmp_path, including the awkward ones."""

from __future__ import annotations

import importlib.util
import os
import pickle
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from bipacheck.errors import ConfigError, UnreadableFile
from bipacheck.sources import Skipped, SourceObject, iter_sources
from tests.requirements import enforced_permissions



@pytest.fixture
def deadline():
    """Fail (instead of hanging the suite) if the test body takes more than 30 seconds."""

    def on_alarm(signum, frame):
        # Not TimeoutError: that is an OSError, which the walker handles as a per-entry failure.
        pytest.fail("listing did not finish within 30 s: the walk is looping or blocked")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def objects(items) -> list[SourceObject]:
    return [i for i in items if isinstance(i, SourceObject)]


def skipped(items) -> list[Skipped]:
    return [i for i in items if isinstance(i, Skipped)]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    write(root / "2019" / "party" / "IMG_1.jpg", b"jpeg one")
    write(root / "2019" / "party" / "IMG_1.jpg.xmp", b"<x:xmpmeta/>")
    write(root / "2019-raw.jpg", b"top level")
    write(root / ".hidden.jpg", b"hidden")
    write(root / "thumbs" / "t1.jpg", b"thumb")
    write(root / "noext", b"no extension")
    return root


def test_nested_folder_lists_every_file_sorted_by_relpath(tree: Path):
    items = list(iter_sources([str(tree)]))
    assert skipped(items) == []
    rels = [o.relpath for o in items]
    # "2019-raw.jpg" sorts before "2019/..." ('-' < '/'), as a plain sort of relpaths says.
    assert rels == sorted(rels)
    assert set(rels) == {
        ".hidden.jpg", "2019-raw.jpg", "2019/party/IMG_1.jpg", "2019/party/IMG_1.jpg.xmp",
        "noext", "thumbs/t1.jpg",
    }
    by_rel = {o.relpath: o for o in items}
    photo = by_rel["2019/party/IMG_1.jpg"]
    assert photo.url == f"{tree}/2019/party/IMG_1.jpg"
    assert photo.size == len(b"jpeg one")
    assert photo.read() == b"jpeg one"
    st = (tree / "2019/party/IMG_1.jpg").stat()
    assert photo.change_key == f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


def test_url_keeps_the_root_as_the_user_wrote_it(tree: Path, monkeypatch):
    monkeypatch.chdir(tree.parent)
    urls = {o.url for o in iter_sources(["photos/"])}
    assert "photos/2019/party/IMG_1.jpg" in urls
    assert "photos/noext" in urls


def test_single_file_spec_yields_that_file(tree: Path):
    [obj] = list(iter_sources([str(tree / "2019-raw.jpg")]))
    assert obj.url == str(tree / "2019-raw.jpg")
    assert obj.relpath == "2019-raw.jpg"
    assert obj.read() == b"top level"


def test_nonexistent_spec_is_skipped_not_fatal(tree: Path):
    items = list(iter_sources([str(tree / "missing"), str(tree / "noext")]))
    assert items[0] == Skipped(str(tree / "missing"), "not-found", "no such file or folder")
    assert items[1].relpath == "noext"


def test_change_key_changes_when_the_file_is_rewritten(tree: Path):
    path = tree / "noext"
    before = next(iter_sources([str(path)])).change_key
    path.write_bytes(b"a different, longer content")
    after = next(iter_sources([str(path)])).change_key
    assert before != after


def test_symlink_loop_finishes_and_is_reported(tmp_path: Path, deadline):
    root = tmp_path / "loopy"
    write(root / "a" / "b" / "pic.jpg", b"pic")
    (root / "a" / "b" / "up").symlink_to("../..")  # points back at root
    (root / "a" / "self").symlink_to(".")
    items = list(iter_sources([str(root)]))
    assert [o.relpath for o in objects(items)] == ["a/b/pic.jpg"]
    loops = {s.url.removeprefix(f"{root}/"): s.reason for s in skipped(items)}
    assert loops == {"a/b/up": "symlink-loop", "a/self": "symlink-loop"}


def test_folder_reached_through_two_links_is_listed_once(tmp_path: Path):
    write(tmp_path / "real" / "x.jpg", b"x")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link1").symlink_to(tmp_path / "real")
    (root / "link2").symlink_to(tmp_path / "real")
    items = list(iter_sources([str(root)], follow_symlinks=True))  # the links lead outside the root
    assert [o.relpath for o in objects(items)] == ["link1/x.jpg"]
    [dup] = skipped(items)
    assert (dup.url, dup.reason) == (f"{root}/link2", "already-listed")
    assert "link1" in dup.message


def test_dangling_symlink_is_skipped(tree: Path):
    (tree / "gone.jpg").symlink_to(tree / "never-existed.jpg")
    [skip] = skipped(iter_sources([str(tree)]))
    assert skip.url == f"{tree}/gone.jpg"
    assert skip.reason == "dangling-symlink"


def test_symlinked_file_inside_the_root_is_followed(tree: Path):
    (tree / "alias.jpg").symlink_to(tree / "2019-raw.jpg")
    followed = {o.relpath: o for o in iter_sources([str(tree)])}
    assert followed["alias.jpg"].read() == b"top level"


def test_fifo_is_skipped_and_never_opened(tree: Path, deadline):
    os.mkfifo(tree / "pipe.jpg")
    items = list(iter_sources([str(tree)]))
    [skip] = skipped(items)
    assert (skip.url, skip.reason) == (f"{tree}/pipe.jpg", "not-a-regular-file")


@pytest.fixture
def open_tree(tree: Path):
    """The tree in a folder every user may traverse (tmp_path is its owner's alone), so that only
    the mode bits a test sets keep a user out."""
    base = Path(tempfile.mkdtemp(prefix="bipacheck-perm-"))
    base.chmod(0o755)
    os.rename(tree, base / "photos")
    yield base / "photos"
    for folder, dirs, _ in os.walk(base):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o755)
    shutil.rmtree(base)


def test_unreadable_file_is_listed_but_read_raises(open_tree: Path):
    path = open_tree / "noext"
    path.chmod(0)
    with enforced_permissions():
        obj = next(iter_sources([str(path)]))
        with pytest.raises(UnreadableFile, match="permission denied"):
            obj.read()
        assert next(iter_sources([str(open_tree / "2019-raw.jpg")])).read() == b"top level"  # others stay readable


def test_unlistable_folder_is_skipped_and_the_walk_goes_on(open_tree: Path):
    locked = open_tree / "thumbs"
    locked.chmod(0)
    with enforced_permissions():
        items = list(iter_sources([str(open_tree)]))
    assert Skipped(str(locked), "permission-denied", "permission denied") in items
    assert "2019/party/IMG_1.jpg" in {o.relpath for o in objects(items)}


def test_read_reports_files_that_vanished_or_changed_kind(tree: Path):
    by_rel = {o.relpath: o for o in iter_sources([str(tree)])}
    (tree / "noext").unlink()
    with pytest.raises(UnreadableFile, match="vanished since listing"):
        by_rel["noext"].read()
    (tree / "2019-raw.jpg").unlink()
    (tree / "2019-raw.jpg").mkdir()
    with pytest.raises(UnreadableFile, match="is a directory"):
        by_rel["2019-raw.jpg"].read()


def test_read_does_not_block_on_a_file_swapped_for_a_fifo(tree: Path, deadline):
    [obj] = list(iter_sources([str(tree / "noext")]))
    (tree / "noext").unlink()
    os.mkfifo(tree / "noext")  # opening a FIFO for reading blocks until a writer shows up
    with pytest.raises(UnreadableFile, match="not a regular file"):
        obj.read()


def test_non_utf8_file_name_is_listed_printable_and_read_by_its_real_bytes(tmp_path: Path):
    folder = os.fsencode(tmp_path / "raw")
    os.mkdir(folder)
    fd = os.open(os.path.join(folder, b"caf\xe9.jpg"), os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"latin-1 named photo")
    os.close(fd)
    [obj] = list(iter_sources([os.fsdecode(folder)]))
    assert obj.relpath == "caf\\xe9.jpg"
    obj.url.encode("utf-8")  # valid UTF-8: would raise on the surrogate escapes of a raw name
    assert obj.url.isprintable()
    assert obj.read() == b"latin-1 named photo"
    assert pickle.loads(pickle.dumps(obj)).read() == b"latin-1 named photo"


def test_file_url_spec_with_percent_escapes(tmp_path: Path):
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"caf\xe9 1.jpg"), "wb") as f:
        f.write(b"escaped")
    [obj] = list(iter_sources([f"file://{tmp_path}/caf%E9%201.jpg"]))
    assert obj.read() == b"escaped"
    assert obj.url == f"file://{tmp_path}/caf%E9%201.jpg"


def test_include_and_exclude_globs(tree: Path):
    def rels(**kw):
        return [o.relpath for o in iter_sources([str(tree)], **kw)]

    # '**/' also matches zero folders, so top-level files count.
    assert rels(include=["**/*.jpg"]) == [
        ".hidden.jpg", "2019-raw.jpg", "2019/party/IMG_1.jpg", "thumbs/t1.jpg",
    ]
    assert rels(include=["2019/**"]) == ["2019/party/IMG_1.jpg", "2019/party/IMG_1.jpg.xmp"]
    # A folder pattern excludes everything inside it.
    assert rels(include=["*.jpg"], exclude=["thumbs", ".*"]) == [
        "2019-raw.jpg", "2019/party/IMG_1.jpg",
    ]
    assert "2019/party/IMG_1.jpg.xmp" not in rels(exclude=["*.xmp"])


def test_excluded_folder_is_not_walked(tree: Path):
    locked = tree / "thumbs" / "deeper"
    locked.mkdir()
    (locked / "loop").symlink_to("..")
    # Without pruning, the loop inside thumbs/ would be reported.
    assert skipped(iter_sources([str(tree)], exclude=["thumbs"])) == []
    assert len(skipped(iter_sources([str(tree)]))) == 1


def test_manifest_lists_only_its_keys_and_reports_missing_ones(tree: Path, tmp_path: Path):
    manifest = tmp_path / "keys.txt"
    manifest.write_text(
        "# audit batch 7\n"
        "2019/party/IMG_1.jpg\n"
        "\n"
        "./noext\n"
        "2019/party/missing.jpg\n"
        "../outside.jpg\n"
        "noext\n"
    )
    items = list(iter_sources([str(tree)], manifest=str(manifest)))
    assert [o.relpath for o in objects(items)] == ["2019/party/IMG_1.jpg", "noext"]
    reasons = {s.url: s.reason for s in skipped(items)}
    assert reasons == {
        f"{tree}/2019/party/missing.jpg": "not-found",
        f"{tree}/../outside.jpg": "invalid-key",
    }


def test_missing_manifest_or_unknown_scheme_is_a_config_error(tree: Path):
    with pytest.raises(ConfigError, match="manifest not found"):
        iter_sources([str(tree)], manifest=str(tree / "nope.txt"))
    with pytest.raises(ConfigError, match="unsupported source"):
        iter_sources(["ftp://example.com/photos"])


def test_gcs_without_gcsfs_names_the_extra_to_install(monkeypatch):
    # gcsfs is in the test extra: hide it, as a machine without it would
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gcsfs" else find_spec(name, *a))
    with pytest.raises(ConfigError, match=r"pip install gcsfs"):
        iter_sources(["gs://bucket/photos"])


def test_objects_survive_pickling_for_worker_processes(tree: Path):
    for obj in iter_sources([str(tree)]):
        clone = pickle.loads(pickle.dumps(obj))
        assert clone == obj
        assert clone.read() == obj.read()


def test_sibling_reads_a_sidecar_next_to_the_photo(tree: Path):
    photo = next(o for o in iter_sources([str(tree)]) if o.relpath == "2019/party/IMG_1.jpg")
    assert photo.sibling("IMG_1.jpg.xmp") == b"<x:xmpmeta/>"
    assert photo.sibling("IMG_1.xmp") is None
    with pytest.raises(ValueError):
        photo.sibling("../../noext")


def test_listing_streams_instead_of_walking_everything_first(tmp_path: Path):
    # The first object must be available before a slow, huge tree is fully walked; checked by
    # making the rest of the tree unreachable (deleted) after the first item is produced.
    write(tmp_path / "a" / "first.jpg", b"1")
    write(tmp_path / "b" / "second.jpg", b"2")
    items = iter_sources([str(tmp_path)])
    assert next(items).relpath == "a/first.jpg"
    (tmp_path / "b" / "second.jpg").unlink()
    assert list(items) == []


def test_walk_is_not_limited_by_recursion_depth(tmp_path: Path):
    levels = [tmp_path]
    for _ in range(1100):  # deeper than Python's default recursion limit
        levels.append(levels[-1] / "d")
        levels[-1].mkdir()
    (levels[-1] / "bottom.jpg").write_bytes(b"deep")
    try:
        [obj] = list(iter_sources([str(tmp_path)]))
        assert obj.relpath == "d/" * 1100 + "bottom.jpg" and obj.read() == b"deep"
    finally:
        # pytest's own cleanup (shutil.rmtree) recurses and would fail on this tree.
        (levels[-1] / "bottom.jpg").unlink()
        for level in reversed(levels[1:]):
            level.rmdir()
