"""A headless Chromium page for the browser tests: Debian's Chromium driven through Playwright.

Playwright's own browser download is never used: the tests take the system's Chromium
(``FLUIDSPEC_CHROMIUM`` or ``chromium`` on PATH, installed by scripts/_browser_env.sh).  Without
one the tests skip with that reason, and CI installs it, so they run there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

#: Widths the pages are checked at: a laptop and a phone.
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    return os.environ.get("FLUIDSPEC_CHROMIUM") or shutil.which("chromium")


@contextmanager
def chromium_page(viewport: dict[str, int] = DESKTOP) -> Iterator[Any]:
    """A fresh page of a headless Chromium; skips the test when there is no Chromium here."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium (install Debian's chromium or set FLUIDSPEC_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=viewport)
            yield page
        finally:
            browser.close()
