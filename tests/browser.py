"""Headless Chromium for the HTML report tests: Debian's chromium driven by Playwright.

No browser is ever downloaded (`playwright install` is not used): /usr/bin/chromium or
$BIPACHECK_CHROMIUM. Without one the tests skip, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import shutil

from tests.requirements import unavailable

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    return os.environ.get("BIPACHECK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def launch_browser():
    """(playwright, browser); skips (or fails under CI=true) when Playwright or chromium is missing."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[test]')"
    path = chromium_path()
    if missing is None and path is None:
        missing = "no chromium binary (apt-get install chromium)"
    if missing:
        unavailable(f"browser tests need a browser: {missing}")
    pw = sync_playwright().start()
    return pw, pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


class PageWatch:
    """Opens a local file and records console errors, page errors, dialogs and every request;
    any request other than the file itself is aborted."""

    def __init__(self, browser, path, viewport=(1100, 900)):
        self.url = path.resolve().as_uri()
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.route("**/*", lambda route: route.continue_() if route.request.url == self.url else route.abort())
        self.page.goto(self.url)

    @property
    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url]
