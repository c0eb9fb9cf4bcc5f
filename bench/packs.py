"""Per-photo policy evaluation: BIPA alone vs BIPA + every other jurisdiction pack, measured in the
same run (no detection: faces and ledger are synthetic, the ledger is a real SQLite file).

    python bench/packs.py [--photos 200]
"""
import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from bipacheck.detect.base import Face
from bipacheck.ledger import Ledger
from bipacheck.policy.attestation import parse
from bipacheck.policy.evaluate import PolicyContext, evaluate_photo
from bipacheck.policy.profiles import profile
from bipacheck.policy.scope import PackScope
from bipacheck.scanning.scan import PhotoScan

d = Path(tempfile.mkdtemp())
led = Ledger.create(d / "l.db")
sha = "a" * 64
for i in range(3):
    led.add_subject(f"u{i}", residence=["US-TX", "US-CA", "DE"][i], last_interaction_at="2026-01-01")
    led.link(f"u{i}", photo_sha256=sha)
for m in range(1, 4):
    led.record_processing(f"2025-0{m}-01", photo_sha256=sha, capture_region="US-IL", processing_region="US-IL")
led.close()
led = Ledger.open(d / "l.db", read_only=True)
scan = PhotoScan("a.jpg", "a.jpg", sha, 1, "JPEG", 800, 600,
                 [Face(10 + 100 * i, 10, 80, 80, 0.9) for i in range(3)])
every = PackScope.load()
others = every.face_packs()
att = parse({"processing_regions": ["US-IL"]}, "x")
as_of = datetime(2026, 1, 1, tzinfo=timezone.utc)


def once(scope):
    evaluate_photo(scan, PolicyContext(profile("face-templates"), as_of, 0.5, led, att, scope=scope))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    n = parser.parse_args().photos
    times = {}
    for label, scope in (("bipa only", None), (f"bipa + {len(others)} packs", every)):
        once(scope)
        start = time.perf_counter()
        for _ in range(n):
            once(scope)
        times[label] = (time.perf_counter() - start) / n
        print(f"{label}: {times[label] * 1000:.2f} ms per photo (3 linked faces, 3 processing events)")
    base, full = times.values()
    print(f"ratio: {full / base:.1f}x")


if __name__ == "__main__":
    main()
