"""Regenerate the README's report screenshots (docs/report-*.png) from the demo corpus.

Needs CenterFace weights, the test extra (playwright) and Debian's chromium.

    python docs/make_screenshots.py
"""

from __future__ import annotations

import csv
import html
import io
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM_ARGS, chromium_path  # noqa: E402


def audit(tmp: Path, fmt: str) -> str:
    from click.testing import CliRunner

    from bipacheck.cli import cli

    out = tmp / f"report.{fmt}"
    CliRunner().invoke(cli, ["audit", "photos", "--ledger", str(tmp / "demo.db"),
                             "--as-of", "2026-11-01", "--no-cache", "--format", fmt, "--output", str(out)])
    return out.read_text(encoding="utf-8")


def small_png(png: bytes, path: Path, width: int = 900) -> None:
    im = Image.open(io.BytesIO(png)).convert("RGB")
    if im.width > width:
        im = im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS)
    im.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


def main() -> None:
    from markdown_it import MarkdownIt
    from playwright.sync_api import sync_playwright

    from tests.test_audit import load_demo_ledger

    docs = ROOT / "docs"
    os.chdir(ROOT / "fixtures" / "demo")  # the demo operator's attestation (.bipacheck.toml) is read from here
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        load_demo_ledger(tmp / "demo.db")
        audit(tmp, "html")
        (tmp / "markdown.html").write_text(
            "<style>body{font:14px system-ui;max-width:900px;margin:16px}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 6px}</style>" + MarkdownIt("commonmark").enable("table").render(audit(tmp, "markdown")))
        rows = list(csv.reader(io.StringIO(audit(tmp, "csv"))))
        keep = [0, 2, 4, 9, 10, 11, 13, 15]  # photo, rule, severity, subject, status, consent id, expires, evidence
        (tmp / "csv.html").write_text(
            "<style>body{font:12px system-ui;margin:8px}table{border-collapse:collapse}td,th{border:1px solid #bbb;"
            "padding:2px 6px;white-space:nowrap}th{background:#e8eef7}</style><table>" + "".join(
                "<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{html.escape(Path(r[c]).name if c == 0 and i else r[c])}"
                                 f"</{'th' if i == 0 else 'td'}>" for c in keep) + "</tr>"
                for i, r in enumerate(rows)) + "</table>")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto((tmp / "report.html").as_uri())
            summary = page.locator("#summary").bounding_box()
            small_png(page.screenshot(clip={"x": 0, "y": 0, "width": 1200, "height": summary["y"] + summary["height"]}),
                      docs / "report-html-summary.png")
            card = page.locator("article.photo[data-path='team_offsite.jpg']")
            small_png(card.screenshot(), docs / "report-html-photo.png")
            small_png(page.locator("#persons").screenshot(), docs / "report-html-persons.png")
            for name in ("markdown", "csv"):
                page.goto((tmp / f"{name}.html").as_uri())
                box = page.locator("body > table" if name == "csv" else "body").bounding_box()
                small_png(page.screenshot(clip={**box, "height": min(box["height"], 760)}), docs / f"report-{name}.png")
            browser.close()


if __name__ == "__main__":
    main()
