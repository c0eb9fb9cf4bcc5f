"""The sidecar window of streamed bucket listings, on listings built to be awkward: its answers must
equal what a listing held whole gives (the candidates that exist), in listing order, with bounded
memory and few look-ups. The store here is a sorted list of keys; tests/test_bucket_requests.py
runs the same code against a real S3 server."""

from __future__ import annotations

import random

import pytest

from bipacheck.sources.sidecar_window import SidecarWindow, candidates, look_up_groups

FOLDERS = ["b/x", "b/x/y", "b/x-y", "b/z"]
STEMS = ["a", "a.b", "a(1)", "p", "pic", "z", "IMG_0001", "x" * 50]
PHOTOS = [".jpg", ".png", ".JPG", ""]
SIDECARS = [".xmp", ".XMP", ".json", ".jpg.xmp", ".jpg.json", ".jpg.supplemental-metadata.json", ".jpg(1).json"]


def random_listing(rng: random.Random) -> list[str]:
    keys = set()
    for folder in FOLDERS:
        for stem in rng.sample(STEMS, rng.randint(1, len(STEMS))):
            keys.add(f"{folder}/{stem}{rng.choice(PHOTOS)}")
            if rng.random() < 0.6:
                keys.add(f"{folder}/{stem}{rng.choice(SIDECARS)}")
        for name in (".picasa.ini", "picasa.ini"):
            if rng.random() < 0.4:
                keys.add(f"{folder}/{name}")
        for i in range(rng.randint(0, 40)):  # filler that pushes names apart
            keys.add(f"{folder}/{rng.choice('0ABkq')}{i:03d}.jpg")
    return sorted(keys)


class Store:
    """Answers look-ups from the whole listing and counts them."""

    def __init__(self, keys: list[str]):
        self.keys = set(keys)
        self.asked: list[list[str]] = []

    def look_up(self, keys: list[str]) -> dict[str, str]:
        self.asked.append(keys)
        return {k: f"info of {k}" for k in keys if k in self.keys}


def run(keys: list[str], **limits) -> tuple[list[tuple[str, dict | None]], Store, int]:
    store = Store(keys)
    window = SidecarWindow(store.look_up, **limits)
    out, most_waiting = [], 0
    for key in keys:
        window.listed(key, f"info of {key}")
        out += window.add(key, key)
        most_waiting = max(most_waiting, len(window._queue))
    out += window.finish(complete=True)
    return out, store, most_waiting


def held_whole(keys: list[str]) -> list[tuple[str, dict]]:
    present = set(keys)
    return [(k, {c: f"info of {c}" for c in candidates(k) if c in present}) for k in keys]


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("limits", [{}, {"max_waiting": 3, "max_remembered": 4, "max_looked_up": 5}],
                         ids=["defaults", "tight"])
def test_the_window_gives_what_a_listing_held_whole_gives(seed, limits):
    keys = random_listing(random.Random(seed))
    out, _, most_waiting = run(keys, **limits)
    assert out == held_whole(keys)
    assert most_waiting <= limits.get("max_waiting", 256) + 1


def test_a_large_folder_looks_up_its_picasa_file_once():
    photos = [f"b/f/{i:04d}.jpg" for i in range(1000)]  # all sort before picasa.ini
    keys = sorted([*photos, "b/f/picasa.ini", "b/f/zz.jpg"])
    out, store, most_waiting = run(keys, max_waiting=50)
    assert out == held_whole(keys)
    assert store.asked == [["b/f/picasa.ini"]] and most_waiting <= 51


def test_names_listed_too_long_ago_are_looked_up_not_assumed_absent():
    keys = sorted(["b/f/a.json", *(f"b/f/a.k{i}.xmp" for i in range(5)), "b/f/a.png"])
    out, store, _ = run(keys, max_remembered=2)
    assert dict(out)["b/f/a.png"] == {"b/f/a.json": "info of b/f/a.json"}
    assert any("b/f/a.json" in asked for asked in store.asked)


def test_a_failed_listing_hands_back_none_for_what_it_had_not_reached():
    store = Store([])
    window = SidecarWindow(store.look_up)
    out = []
    for key in ["b/f/a.jpg", "b/f/a.jpg.xmp", "b/f/q.jpg", "b/f/r.jpg"]:
        window.listed(key, f"info of {key}")
        out += window.add(key, key)
    window.add("a skip", None)
    out += window.finish(complete=False)
    # every name of a.jpg (picasa.ini too) sorts before q.jpg: known; r.jpg's (r.jpg.xmp...) were never reached
    assert out == [("b/f/a.jpg", {"b/f/a.jpg.xmp": "info of b/f/a.jpg.xmp"}), ("b/f/a.jpg.xmp", {}),
                   ("b/f/q.jpg", {}), ("b/f/r.jpg", None), ("a skip", None)]
    assert store.asked == []  # nothing more is asked of a store whose listing just failed


def test_look_ups_share_a_request_per_photo_and_keep_picasa_files_apart():
    groups = look_up_groups(candidates("b/f/a.jpg"))
    assert [(folder, prefix) for folder, prefix, _ in groups] == [("b/f", ".picasa.ini"), ("b/f", "a."),
                                                                  ("b/f", "picasa.ini")]
    assert sorted(k for _, _, keys in groups for k in keys) == candidates("b/f/a.jpg")
