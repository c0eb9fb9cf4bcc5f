"""The HTML report in a real headless Chromium: no console errors, no requests, boxes that match the
report's faces with the right colours, filters, blur and reveal. Plus what needs no browser."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.requirements import require_module
from PIL import Image

from tests.browser import PageWatch, launch_browser
from tests.images import encode, rgb
from tests.test_audit import AS_OF, DEMO, audit_json, load_demo_ledger, make_folder, run_cli

COLOURS = {"violation": "rgb(198, 40, 40)", "consented": "rgb(46, 125, 50)", "review": "rgb(230, 138, 0)"}


@pytest.fixture(scope="module")
def browser():
    pw, browser = launch_browser()
    yield browser
    browser.close()
    pw.stop()


pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


@pytest.fixture(scope="module")
def demo(tmp_path_factory, centerface):
    """The demo's HTML report (with and without pixels, and blurred) and its JSON twin."""
    folder = tmp_path_factory.mktemp("html")
    ledger = load_demo_ledger(folder / "demo.db")
    common = (DEMO / "photos", "--ledger", ledger, "--as-of", AS_OF, "--no-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(DEMO)  # the demo operator's attestation
        for name, extra in (("demo.html", ()), ("bare.html", ("--html-thumbnails", "none")),
                            ("blurred.html", ("--html-thumbnails", "blurred"))):
            code, _ = run_cli("audit", *common, "--format", "html", "--output", folder / name, *extra)
            assert code == 1
        _, report = audit_json(*common)
    return folder, report


def shown_by(report: dict, keep) -> list[str]:
    """Names of the photos (not operator findings) with a finding for which keep(finding) holds."""
    return sorted({Path(f["photo"]["path"]).name for f in report["findings"]
                   if f["photo"]["sha256"] is not None or f["rule_id"] == "BIPACHECK-UNSCANNED"
                   if keep(f)})


def payload(html: str) -> dict:
    """The JSON document the page draws from."""
    return json.loads(re.search(r'id="report-data">(.*?)</script>', html).group(1))


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)


def expected_faces(report: dict) -> dict[str, list[tuple[list[int], str]]]:
    """Photo name -> (box, colour status) of every face the JSON report knows."""
    out: dict[str, list] = {}
    for photo in report["photos"]:
        out[Path(photo["path"]).name] = [(f["box"], "consented" if f["consent_status"] == "valid" else "violation")
                                         for f in photo["face_records"]]
    return {name: faces for name, faces in out.items() if faces}


def test_report_renders_without_errors_or_requests(browser, demo):
    folder, report = demo
    watch = PageWatch(browser, folder / "demo.html")
    violations = sum(f["severity"] == "violation" for f in report["findings"])
    assert watch.page.locator("#verdict").inner_text().startswith(
        f"{violations} violation(s) in 4 photo(s) and 1 about the operator")
    assert watch.page.locator("article.photo").count() == 7  # 5 photos with faces + 2 not scanned
    assert watch.page.locator("#operator tr[data-rule]").evaluate_all("rows => rows.map(r => r.dataset.rule)") == [
        "BIPA-15A-POLICY"]  # the policy was adopted after the first scan: about the operator, not a photo
    assert watch.errors == [] and watch.foreign_requests == []
    html = (folder / "demo.html").read_text()
    assert "Content-Security-Policy" in html and not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_boxes_match_the_reports_faces_and_statuses(browser, demo):
    folder, report = demo
    watch = PageWatch(browser, folder / "demo.html")
    for name, faces in expected_faces(report).items():
        card = watch.page.locator(f"article.photo[data-path='{name}']")
        rects = card.locator("svg rect.box")
        drawn = [([int(float(r.get_attribute(a))) for a in ("x", "y", "width", "height")], r.get_attribute("data-status"))
                 for r in rects.all()]
        assert sorted(drawn) == sorted(faces), name
        for rect, (_, status) in zip(rects.all(), drawn):
            assert rect.evaluate("r => getComputedStyle(r).stroke") == COLOURS[status]
    persons = watch.page.locator("#persons-grid tr[data-key]")
    assert sorted(persons.evaluate_all("rows => rows.map(r => [r.dataset.key, r.dataset.status])")) == sorted(
        [p["key"], p["status"]] for p in report["persons"])


def test_person_roll_up_shows_processing_dates_and_what_the_evidence_check_found(browser, demo):
    """Each person's first and last processing (the limitation runs from them) and, with --evidence,
    what opening their release's signed document found (Bob's recorded hash is a placeholder)."""
    folder, _ = demo
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(DEMO)
        code, _ = run_cli("audit", DEMO / "photos", "--ledger", folder / "demo.db", "--as-of", AS_OF, "--no-cache",
                          "--evidence", DEMO / "evidence", "--format", "html", "--output", folder / "evidence.html")
    assert code == 1
    watch = PageWatch(browser, folder / "evidence.html")
    row = watch.page.locator("#persons-grid tr[data-key='u-bob']")
    assert row.locator("td.processed").inner_text() == "2024-03-01 → 2025-06-01"
    assert row.locator("td.evidence").inner_text() == "c-bob-1.pdf (placeholder)"
    carol = watch.page.locator("#persons-grid tr[data-key='u-carol']")
    assert carol.locator("td.evidence").inner_text() == "c-carol-1.pdf (verified)"
    assert watch.errors == [] and watch.foreign_requests == []


def test_filters_change_what_is_shown(browser, demo):
    folder, report = demo
    page = PageWatch(browser, folder / "demo.html").page
    shown = lambda: sorted(Path(p).name for p in page.locator("article.photo").evaluate_all(  # noqa: E731
        "cards => cards.map(c => c.dataset.path)"))
    page.select_option("#filter-rule", "BIPA-15B-REVOKED")
    assert shown() == ["carol_selfie.jpg"]
    page.select_option("#filter-rule", "")
    page.fill("#filter-subject", "u-alice")  # consented: found through the faces, not findings
    page.dispatch_event("#filter-subject", "change")
    assert shown() == ["alice_portrait.jpg", "team_offsite.jpg"]
    page.fill("#filter-subject", "")
    page.dispatch_event("#filter-subject", "change")
    page.select_option("#filter-severity", "review")
    assert shown() == shown_by(report, lambda f: f["severity"] == "review") and "notes.jpg" in shown()
    page.select_option("#filter-severity", "")
    page.select_option("#filter-pack", "bipa")  # the finding's own pack (tool rules: "bipacheck")
    assert shown() == shown_by(report, lambda f: f.get("pack") == "bipa")
    page.select_option("#filter-pack", "bipacheck")
    assert shown() == shown_by(report, lambda f: f.get("pack") is None) and "notes.jpg" in shown()


def test_faces_without_release_are_blurred_until_revealed(browser, demo):
    folder, report = demo
    page = PageWatch(browser, folder / "demo.html").page
    veils = page.locator("use.veil")
    unconsented = sum(f["consent_status"] != "valid" for p in report["photos"] for f in p["face_records"])
    assert veils.count() == unconsented == 4
    assert all(v.is_visible() for v in veils.all())
    bystander = page.locator("article.photo[data-path='team_offsite.jpg'] rect.box[data-status=violation]")

    def face() -> np.ndarray:
        bystander.scroll_into_view_if_needed()  # ticking the checkbox scrolls back up
        return pixels(page.screenshot(clip=bystander.bounding_box()))

    blurred = face()
    page.check("#reveal")
    assert not any(v.is_visible() for v in veils.all())
    revealed = face()
    page.uncheck("#reveal")
    again = face()
    # the face's pixels change when revealed (detail comes back); blurring again restores them
    assert revealed.std() > blurred.std() and np.abs(revealed - blurred).mean() > 5
    assert np.abs(again - blurred).mean() < 1


def test_report_without_pixels_still_draws_the_boxes(browser, demo):
    folder, report = demo
    html = (folder / "bare.html").read_text()
    assert "data:image" not in html
    watch = PageWatch(browser, folder / "bare.html")
    page = watch.page
    assert page.locator("svg image").count() == 0 and page.locator("#reveal").count() == 0
    assert page.locator("svg rect.box").count() == sum(len(f) for f in expected_faces(report).values())
    assert watch.errors == [] and watch.foreign_requests == []


def thumbnail_of(html: str, name: str) -> tuple[np.ndarray, int]:
    (photo,) = [p for p in payload(html)["photos"] if p["path"] == name]
    data = base64.b64decode(photo["thumb"].split(",", 1)[1])
    return pixels(data), photo["width"]


def test_blurred_thumbnails_hold_no_unblurred_face_and_offer_no_reveal(browser, demo):
    folder, report = demo
    watch = PageWatch(browser, folder / "blurred.html")
    assert watch.errors == [] and watch.foreign_requests == []
    assert watch.page.locator("#reveal").count() == 0 and watch.page.locator("use.veil").count() == 0
    clear, width = thumbnail_of((folder / "demo.html").read_text(), "team_offsite.jpg")
    blurred, _ = thumbnail_of((folder / "blurred.html").read_text(), "team_offsite.jpg")
    scale = clear.shape[1] / width
    region = lambda img, box: img[int(box[1] * scale):int((box[1] + box[3]) * scale),  # noqa: E731
                                  int(box[0] * scale):int((box[0] + box[2]) * scale)]
    (photo,) = [p for p in report["photos"] if p["path"] == "team_offsite.jpg"]
    for face in photo["face_records"]:
        difference = np.abs(region(clear, face["box"]) - region(blurred, face["box"])).mean()
        if face["consent_status"] == "valid":
            assert difference < 3  # Alice: the same, but for JPEG noise
        else:
            assert difference > 8 and region(blurred, face["box"]).std() < region(clear, face["box"]).std()


def test_hostile_file_names_stay_text(browser, tmp_path, centerface):
    # a folder named "<" puts "</script>" into the path, to try to close the data block early
    folder = tmp_path / "photos"
    (folder / "<").mkdir(parents=True)
    name = "</script><img src=x onerror=alert(2)>.png"
    (folder / "<" / name[2:]).write_bytes(encode(rgb("astronaut")))
    out = tmp_path / "r.html"
    run_cli("audit", folder, "--format", "html", "--output", out, "--no-cache")
    watch = PageWatch(browser, out)
    assert watch.errors == [] and watch.foreign_requests == []
    assert watch.page.locator("article.photo h3").inner_text().endswith(name)
    assert watch.page.locator("article.photo img").count() == 0


def test_the_policy_allows_no_inline_code_but_the_reports_own(browser, demo, tmp_path):
    """No 'unsafe-inline': the report's script and style are allowed by their hashes, so the page works,
    while a script or an event handler that got into the page some other way does not run."""
    folder, _ = demo
    html = (folder / "demo.html").read_text()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/]+=*'", policy)
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/]+=*'", policy)
    smuggled = html.replace("</body>", "<script>document.title = 'ran'</script>"
                            "<img id=probe src=\"data:,x\" onerror=\"document.title = 'ran'\"></body>")
    (tmp_path / "smuggled.html").write_text(smuggled)
    watch = PageWatch(browser, tmp_path / "smuggled.html")
    assert watch.page.title() != "ran"
    assert watch.page.locator("article.photo").count() == 7  # the report's own script still drew the photos
    assert any("Content Security Policy" in e for e in watch.errors)  # the browser refused the smuggled code


def test_html_thumbnails_is_a_flag_a_keyword_and_a_config_key(tmp_path, monkeypatch, centerface):
    import bipacheck

    folder = make_folder(tmp_path, **{"a.png": encode(rgb("astronaut"))})
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".bipacheck.toml").write_text('html_thumbnails = "none"\n')
    run_cli("audit", folder, "--format", "html", "--output", tmp_path / "config.html", "--no-cache")
    bipacheck.audit(str(folder), format="html", output=str(tmp_path / "api.html"), html_thumbnails="embed",
                    no_cache=True, config=False)
    run_cli("audit", folder, "--format", "html", "--output", tmp_path / "flag.html", "--no-config", "--no-cache")
    assert "data:image" not in (tmp_path / "config.html").read_text()
    assert "data:image/jpeg" in (tmp_path / "api.html").read_text()
    assert "data:image/jpeg" in (tmp_path / "flag.html").read_text()  # embed is the default


def test_thumbnail_is_dropped_when_the_photo_changed_or_vanished(tmp_path, centerface):
    folder = make_folder(tmp_path, **{"a.png": encode(rgb("astronaut")), "b.png": encode(rgb("astronaut")[:, ::-1])})
    import bipacheck
    from bipacheck.report.html import HtmlFormat

    report = bipacheck.audit([str(folder)])
    (folder / "a.png").write_bytes(encode(rgb("camera")))
    (folder / "b.png").unlink()
    data = payload(HtmlFormat().render(report))
    notes = {Path(p["path"]).name: (p["thumb"], p["note"]) for p in data["photos"]}
    assert notes["a.png"][0] is None and "changed since the audit" in notes["a.png"][1]
    assert notes["b.png"][0] is None and "could not be read again" in notes["b.png"][1]


def test_bucket_photos_get_thumbnails_read_through_the_endpoint(endpoint, request, tmp_path, centerface):
    require_module("s3fs")
    from tests.conftest import bucket_client, fill_prefix

    prefix = fill_prefix(bucket_client(endpoint, "thumbs"), "thumbs", request,
                         {"a.jpg": encode(rgb("astronaut"), "JPEG")})
    out = tmp_path / "r.html"
    code, text = run_cli("audit", f"s3://thumbs/{prefix}", "--endpoint-url", endpoint, "--format", "html",
                         "--output", out, "--no-cache", "--workers", "1")
    assert code == 1, text
    (photo,) = payload(out.read_text())["photos"]
    assert photo["path"] == "a.jpg" and photo["thumb"].startswith("data:image/jpeg;base64,")  # below run.root


def test_a_missing_browser_fails_under_any_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.delenv("BIPACHECK_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        launch_browser()
    monkeypatch.setenv("CI", "1")  # any non-empty value is CI
    with pytest.raises(pytest.fail.Exception):
        launch_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        launch_browser()
