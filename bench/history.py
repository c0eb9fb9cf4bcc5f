"""What listing a repository's history costs (bipacheck.sources.git_history.list_history).

Builds a synthetic repository with `git fast-import` in a temporary folder: COMMITS commits on
main and feature branches merged back every few dozen commits, a tag every 500 commits, 300
source files edited 1-3 at a time, a JPEG photo (a crop of a scikit-image photo) added every
PHOTO_EVERY commits, a third of them deleted later and some renamed, a few photos committed under
non-image names, and a few 2 MB binaries (non-images the sniffer must read). Then times, each in
a fresh process (peak RSS from the kernel):

* list_history over the whole history, and with --since covering the newest tenth (seconds,
  and the peak resident memory of the Python process, imports included);
* for comparison, `git rev-list --objects --all` alone (the cheapest full object walk git has)
  and `git log --all --raw` alone (the walk list_history parses).

    python bench/history.py [--commits 5000] [--photo-every 25] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def photo(rng: random.Random, photos: list) -> bytes:
    from PIL import Image

    im = photos[rng.randrange(len(photos))]
    w, h = im.size
    x, y = rng.randrange(w // 3), rng.randrange(h // 3)
    buf = io.BytesIO()
    im.crop((x, y, x + w // 2, y + h // 2)).save(buf, "JPEG", quality=rng.randrange(70, 95))
    return buf.getvalue()


def text(rng: random.Random, lines: int) -> bytes:
    words = ["face", "ledger", "consent", "photo", "retain", "audit", "scan", "git", "blob", "tree"]
    return "".join(" ".join(rng.choice(words) for _ in range(rng.randrange(4, 12))) + "\n"
                   for _ in range(lines)).encode()


def build(root: Path, commits: int, photo_every: int) -> dict:
    from PIL import Image
    from skimage import data

    photos = [Image.fromarray(getattr(data, n)()) for n in ("astronaut", "coffee", "chelsea", "rocket")]
    rng = random.Random(26)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=ENV)
    out = io.BytesIO()
    mark = 0
    files = {f"src/mod{i:03d}.py": text(rng, 60) for i in range(300)}
    live: dict[str, list[str]] = {}  # photos each branch added and still has
    counts = {"photos": 0, "misnamed": 0, "deleted": 0, "renamed": 0, "binaries": 0}
    tips = {"main": None}
    when = 1_600_000_000

    def blob(content: bytes) -> int:
        nonlocal mark
        mark += 1
        out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(content)) + content + b"\n")
        return mark

    for n in range(commits):
        branch = "main" if n % 40 < 25 else f"feature{(n // 40) % 3}"
        live_photos = live.setdefault(branch, [])
        changes: list[bytes] = []
        if n == 0:
            changes += [b"M 100644 :%d %s\n" % (blob(c), p.encode()) for p, c in files.items()]
        for _ in range(rng.randrange(1, 4)):
            path = rng.choice(list(files))
            lines = files[path].splitlines(keepends=True)  # edit a few lines: files keep their size
            at = rng.randrange(len(lines) - 3)
            files[path] = b"".join(lines[:at]) + text(rng, 3) + b"".join(lines[at + 3:])
            changes.append(b"M 100644 :%d %s\n" % (blob(files[path]), path.encode()))
        if n % photo_every == 0:
            misnamed = n % (photo_every * 20) == 0
            path = f"assets/{n:05d}.{'dat' if misnamed else 'jpg'}"
            counts["misnamed" if misnamed else "photos"] += 1
            changes.append(b"M 100644 :%d %s\n" % (blob(photo(rng, photos)), path.encode()))
            live_photos.append(path)
        if n % (photo_every * 3) == 7 and live_photos:
            changes.append(b"D %s\n" % live_photos.pop(rng.randrange(len(live_photos))).encode())
            counts["deleted"] += 1
        if n % (photo_every * 5) == 11 and live_photos:
            old = live_photos.pop(0)
            new = old.replace("assets/", "assets/moved/")
            changes.append(b"R %s %s\n" % (old.encode(), new.encode()))
            live_photos.append(new)
            counts["renamed"] += 1
        if n % 1000 == 500:
            changes.append(b"M 100644 :%d bin/blob%d.bin\n" % (blob(rng.randbytes(2 << 20)), n))
            counts["binaries"] += 1
        when += 3600
        mark += 1
        commit = mark
        out.write(b"commit refs/heads/%s\nmark :%d\n" % (branch.encode(), commit))
        out.write(b"author A <a@example.com> %d +0000\ncommitter A <a@example.com> %d +0000\n" % (when, when))
        out.write(b"data 6\ncommit\n")
        parent = tips.get(branch) or tips["main"]
        if parent:
            out.write(b"from :%d\n" % parent)
        if branch == "main" and n % 40 == 0:
            for other in ("feature0", "feature1", "feature2"):
                if tips.get(other):
                    out.write(b"merge :%d\n" % tips[other])
        out.write(b"".join(changes) + b"\n")
        tips[branch] = commit
        if n % 500 == 499:
            out.write(b"reset refs/tags/v%d\nfrom :%d\n\n" % (n // 500, commit))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=out.getvalue(), check=True, env=ENV)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True, env=ENV)
    subprocess.run(["git", "gc", "-q"], cwd=root, check=True, env=ENV)
    return counts


def timed(code: str, *args: str) -> dict:
    """Run python -c CODE in a fresh process; its printed JSON plus wall time and peak RSS."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                          env={**ENV, "PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - start
    return {**json.loads(proc.stdout or "{}"), "wall_s": round(wall, 2)}


LIST = """
import json, sys, time
from dataclasses import asdict
from bipacheck.sources.git_history import list_history, HistoryStats, HistoryObject
stats = HistoryStats()
t = time.perf_counter()
items = list(list_history(sys.argv[1], since=sys.argv[2] or None, stats=stats))
s = asdict(stats)
s["seconds"] = round(time.perf_counter() - t, 2)
s["walk_seconds"] = round(s["walk_seconds"], 2); s["sniff_seconds"] = round(s["sniff_seconds"], 2)
s["images"] = sum(isinstance(i, HistoryObject) for i in items)
s["in_head"] = sum(isinstance(i, HistoryObject) and i.in_head for i in items)
s["by_content"] = sum(isinstance(i, HistoryObject) and not i.relpath.endswith(".jpg") for i in items)
# VmHWM, not getrusage: Linux carries ru_maxrss across exec, so it would count the parent's memory
s["python_peak_mb"] = next(int(l.split()[1]) // 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps(s))
"""

IMPORT = """
import json
import bipacheck.sources.git_history
print(json.dumps({"python_peak_mb": next(int(l.split()[1]) // 1024 for l in open("/proc/self/status")
                                         if l.startswith("VmHWM"))}))
"""

GIT = """
import json, subprocess, sys, time
t = time.perf_counter()
out = subprocess.run(sys.argv[2:], cwd=sys.argv[1], capture_output=True, check=True).stdout
print(json.dumps({"seconds": round(time.perf_counter() - t, 2), "output_mb": round(len(out) / 1e6, 1)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commits", type=int, default=5000)
    ap.add_argument("--photo-every", type=int, default=25)
    ap.add_argument("--keep", help="build the repository here and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp) / "synthetic"
        t = time.perf_counter()
        counts = build(root, args.commits, args.photo_every)
        size = subprocess.run(["git", "count-objects", "-vH"], cwd=root, capture_output=True, text=True,
                              env=ENV).stdout
        print(f"built {args.commits} commits in {time.perf_counter() - t:.1f} s: {counts}")
        print("  " + " ".join(line for line in size.splitlines() if line.startswith(("count", "size-pack"))))
        since = subprocess.run(["git", "log", "-1", "--skip", str(args.commits // 10), "--date-order",
                                "--all", "--format=%cI"], cwd=root, capture_output=True, text=True,
                               env=ENV).stdout.strip()
        for label, result in [
            ("import only", timed(IMPORT)),
            ("list_history (whole history)", timed(LIST, str(root), "")),
            (f"list_history --since {since}", timed(LIST, str(root), since)),
            ("git rev-list --objects --all", timed(GIT, str(root), "git", "rev-list", "--objects", "--all")),
            ("git log --all --raw (the walk)", timed(GIT, str(root), "git", "log", "--all", "--raw", "-z",
                                                     "--no-abbrev", "--no-renames", "--root",
                                                     "--diff-merges=first-parent", "--date-order")),
        ]:
            print(f"{label}: {json.dumps(result)}")


if __name__ == "__main__":
    main()
