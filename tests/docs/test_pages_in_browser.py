"""The built site in a real browser (headless Chromium), at a laptop's width and a phone's.

The site is built once into a temporary directory and served over HTTP.  On each checked page:

* the page itself never scrolls sideways;
* every command-output block (``fluidspec inspect``'s hex views among them) shows its whole
  width: nothing, the annotation column above all, is hidden in a horizontal scroll;
* every table fits the content column, or scrolls inside its own box without widening the page;
* a screenshot is saved next to the site (a non-empty PNG), to look at when something fails.

The navigation is followed from the home page to the tutorial, by the sidebar at the laptop's
width and through the drawer at the phone's.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import DESKTOP, PHONE, chromium_page

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["", "format/", "tutorial/", "cli/conformance/", "glossary/", "faq/", "install/"]
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
_PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("mkdocs", reason="the docs extra is installed by scripts/_setup.sh")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass


# Command output is a ```text fence: class language-text (pygments_lang_class in mkdocs.yml).
# In the page: what overflows, as a list of descriptions (empty when everything fits).
_OVERFLOWS = """() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1)
    problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${window.innerWidth}`);
  const content = document.querySelector('.md-content');
  const limit = content.getBoundingClientRect().right + 1;
  for (const code of document.querySelectorAll('.language-text pre > code')) {
    if (code.scrollWidth > code.clientWidth + 1)
      problems.push(`output block scrolls: ${code.scrollWidth} > ${code.clientWidth}: `
                    + code.textContent.split('\\n')[0].slice(0, 60));
  }
  for (const table of document.querySelectorAll('.md-typeset table')) {
    const box = table.closest('.md-typeset__scrollwrap') || table.parentElement;
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
    if (box.getBoundingClientRect().right > limit)
      problems.push(`table's box leaves the content column: ${table.rows[0].textContent.slice(0, 60)}`);
    if (table.getBoundingClientRect().width > box.clientWidth + 1 && !scrolls)
      problems.push(`table wider than its box, which does not scroll: ${table.rows[0].textContent.slice(0, 60)}`);
  }
  return problems;
}"""

_HEX_BLOCKS = """() => Array.from(document.querySelectorAll('.language-text pre > code'))
  .filter(c => /^\\s+[0-9a-f]{8}  ([0-9a-f]{2} )+/m.test(c.textContent)).length"""


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_pages_fit_the_screen(site_url: str, width: str, tmp_path: Path) -> None:
    problems: dict[str, list[str]] = {}
    with chromium_page(VIEWPORTS[width]) as page:
        for path in PAGES:
            page.goto(site_url + path)
            assert page.locator("h1").first.is_visible(), path
            found = page.evaluate(_OVERFLOWS)
            if found:
                problems[path or "/"] = found
            if path == "format/":
                assert page.evaluate(_HEX_BLOCKS) >= 3, "the format page lost its hex views"
            shot = tmp_path / f"{width}-{(path or 'home').strip('/').replace('/', '-')}.png"
            page.screenshot(path=str(shot), full_page=True)
            data = shot.read_bytes()
            assert data.startswith(_PNG) and len(data) > 2000, shot
    assert problems == {}


def test_an_annotation_stays_in_view_on_a_phone(site_url: str) -> None:
    """The right-hand column of a hex view ("TensorDesc: data_type …") is drawn inside the
    block's box and the screen, not beyond their right edge."""
    with chromium_page(PHONE) as page:
        page.goto(site_url + "format/")
        boxes = page.evaluate(_ANNOTATION_BOXES, "TensorDesc: data_type 5 (FP32)")
    assert boxes, "no hex view on the format page shows that annotation"
    for box in boxes:
        assert box["right"] <= box["limit"] + 1 and box["right"] <= box["screen"], box


# The boxes the text ``needle`` is drawn in, wherever it occurs in an output block.
_ANNOTATION_BOXES = """needle => {
  const out = [];
  for (const code of document.querySelectorAll('.language-text pre > code')) {
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf(needle);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + needle.length);
      const limit = code.getBoundingClientRect().right;
      for (const r of range.getClientRects())
        out.push({right: r.right, limit: limit, screen: window.innerWidth});
    }
  }
  return out;
}"""


def test_navigation_reaches_the_tutorial(site_url: str) -> None:
    with chromium_page(DESKTOP) as page:
        page.goto(site_url)
        page.locator(".md-nav--primary").get_by_role("link", name="Tutorial", exact=True).click()
        page.wait_for_url("**/tutorial/")
        assert "LoDTensor" in page.locator("h1").first.inner_text()
    with chromium_page(PHONE) as page:
        page.goto(site_url)
        page.locator("label.md-header__button[for='__drawer']").click()
        link = page.locator(".md-nav--primary").get_by_role("link", name="Glossary", exact=True)
        link.click()
        page.wait_for_url("**/glossary/")
        assert page.locator("h1").first.inner_text().startswith("Glossary")
