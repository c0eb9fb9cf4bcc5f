"""Size and render time of the HTML report at 10,000 findings, against the JSON report of the same run.

Builds a synthetic report (N photos with 4 faces each: 3 without a release, 1 consented, plus a
retention finding on every 4th photo: 10,000 findings by default) whose photos are symlinks to a
few real scikit-image photos, so thumbnails are made from real pixels. Measures the Python render
(HTML with thumbnails, HTML without pixels, JSON as the baseline) and, when chromium is installed,
the time headless Chromium takes to open the page, apply a filter, and show the next page.

    python bench/html_report.py [--photos 3077] [--no-browser]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_report(folder: Path, photos: int):
    from PIL import Image
    from skimage import data as skdata

    from bipacheck.findings import FaceRecord, Finding
    from bipacheck.policy.bipa import RULES
    from bipacheck.policy.pack import available, rule_book
    from bipacheck.report.model import Report

    sources = []
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        buf = io.BytesIO()
        Image.fromarray(getattr(skdata, name)()).convert("RGB").resize((1600, 1200)).save(buf, "JPEG", quality=88)
        path = folder / f"{name}.jpg"
        path.write_bytes(buf.getvalue())
        sources.append((path, hashlib.sha256(buf.getvalue()).hexdigest()))
    findings, rows = [], []
    consent = {"granted_at": "2025-01-01T00:00:00Z", "expires_at": None, "revoked_at": None, "method": "electronic",
               "scope": "face_geometry", "notice_version": "v1", "evidence_uri": "https://legal.example/c.pdf",
               "evidence_sha256": "a" * 64}
    for i in range(photos):
        source, sha = sources[i % len(sources)]
        path = folder / "photos" / f"{i // 100:03d}" / f"IMG_{i:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(source, path)
        faces = [FaceRecord([100 + 300 * k, 200, 120, 150], 0.9, "detector", f"u-{i}-{k}" if k else None,
                            "none" if k < 3 else "valid") for k in range(4)]
        faces[3].consent_id, faces[3].consent = f"c-{i}", consent
        for face in faces[:3]:
            findings.append(Finding(RULES["BIPA-15B-NO-RELEASE"], "violation", f"Face at {face.box} has no release",
                                    str(path), sha, 1, [face]))
        if i % 4 == 0:
            findings.append(Finding(RULES["BIPA-15A-RETENTION"], "violation", "Retention deadline passed",
                                    str(path), sha, 1, [faces[3]]))
        rows.append({"path": str(path), "sha256": sha, "size": 1, "format": "JPEG", "width": 1600, "height": 1200,
                     "faces": 4, "face_records": [f.as_dict() for f in faces]})
    run = {"started_at": "2026-11-01T00:00:00+00:00", "finished_at": "2026-11-01T01:00:00+00:00",
           "sources": [str(folder)], "as_of": "2026-11-01T00:00:00+00:00", "min_face": 24, "max_pixels": 200_000_000,
           "processing": {"profile": "face-templates", "derives_identifiers": True, "consent_scope": "face_geometry",
                          "explanation": "synthetic"},
           "detector": {"detector": "centerface", "model_sha256": "0" * 64, "threshold": 0.3, "review_threshold": 0.225},
           "ledger": {"path": "bench.db", "sha256": "1" * 64, "head_event": 1, "head_hash": "2" * 64}}
    summary = {"files_listed": photos, "scanned": photos, "skipped": 0, "photos_with_faces": photos,
               "faces": 4 * photos, "unconsented_faces": 3 * photos, "photos_with_violations": photos,
               "findings_by_severity": {"violation": len(findings)}, "findings_by_rule": {},
               "exposure": {"label": "estimate", "unconsented_persons": 3 * photos, "unconsented_scans": 3 * photos,
                            "per_person": {"negligent": 0, "reckless": 0}, "per_scan": {"negligent": 0, "reckless": 0},
                            "currency": "USD", "note": "synthetic"}}
    return Report(run, summary, findings, [], rows, {"name": "bipacheck", "version": "bench"},
                  rules=rule_book(available()))


def timed(func):
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def browser_times(path: Path) -> dict | None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from browser import CHROMIUM_ARGS, chromium_path

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium_path() is None:
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        _, opened = timed(lambda: (page.goto(path.as_uri()), page.wait_for_selector("article.photo")))
        _, filtered = timed(lambda: (page.select_option("#filter-rule", "BIPA-15A-RETENTION"),
                                     page.locator("#count").inner_text()))
        _, more = timed(lambda: (page.click("#more"), page.locator("article.photo").count()))
        cards = page.locator("article.photo").count()
        browser.close()
    return {"open_s": opened, "filter_s": filtered, "show_more_s": more, "cards_after_more": cards}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=3077, help="photos (3.25 findings each: 3077 -> 10,000)")
    parser.add_argument("--no-browser", action="store_true")
    opts = parser.parse_args()
    from bipacheck.report.formats import JsonFormat
    from bipacheck.report.html import HtmlFormat

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = build_report(folder, opts.photos)
        print(f"{len(report.findings):,} findings on {len(report.photos):,} photos")
        results = {}
        for label, fmt in (("json (baseline)", JsonFormat()), ("html, thumbnails", HtmlFormat()),
                           ("html, no pixels", HtmlFormat(thumbnails="none"))):
            text, seconds = timed(lambda: fmt.render(report))
            out = folder / f"report-{len(results)}.{fmt.name}"
            out.write_text(text, encoding="utf-8")
            results[label] = (seconds, len(text.encode("utf-8")), out)
        base_s, base_bytes, _ = results["json (baseline)"]
        for label, (seconds, size, out) in results.items():
            print(f"{label:18} render {seconds:6.2f} s ({seconds / base_s:5.1f}x json)  "
                  f"size {size / 1e6:6.1f} MB ({size / base_bytes:4.2f}x json)")
            if label.startswith("html") and not opts.no_browser:
                times = browser_times(out)
                if times is None:
                    print("  chromium: not available (apt-get install chromium; pip install playwright)")
                else:
                    print(f"  chromium: open to first photos {times['open_s']:.2f} s, filter {times['filter_s']:.2f} s, "
                          f"next page {times['show_more_s']:.2f} s ({times['cards_after_more']} cards)")


if __name__ == "__main__":
    main()
