"""The compatibility page: docs/data/compatibility.json is what ``fluidspec matrix`` makes now,
and the built page shows its grid, leads from a chapter cell to that chapter's clauses, and stays
readable on a phone.

The freshness test reruns the whole suite on every implementation of the committed document
(about two minutes on two cores: the ``ci`` profile is derandomized, so the document is the same
on every run); it skips, saying which, when one of them cannot start here (CI has them all).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from browser import DESKTOP, PHONE, chromium_page

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "data" / "compatibility.json"


def _update_command(impls: list[str]) -> str:
    return ("fluidspec matrix " + " ".join(f"--impl {i}" for i in impls)
            + " --out docs/data/compatibility.json")


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Paths at which two JSON values differ (the first few are enough to see why)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            out += _differences(old.get(key), new.get(key), f"{where}/{key}")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True))
                for d in _differences(a, b, f"{where}[{i}]")]
    return [] if old == new else [f"{where}: committed {old!r}, now {new!r}"]


def test_the_committed_document_is_what_fluidspec_matrix_makes_now():
    from fluidspec.conformance import resolve
    from fluidspec.conformance.matrix import compatibility_document

    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    impls = [i["name"] for i in committed["implementations"]]
    for name in impls:
        adapter = resolve(name)
        try:
            adapter.hello()
        except Exception as exc:
            pytest.skip(f"{name} cannot start here ({exc}); the document needs every one")
        finally:
            adapter.close()
    fresh = compatibility_document(impls, profile=committed["profile"])
    diffs = _differences(committed, fresh)
    assert not diffs, (f"docs/data/compatibility.json is out of date; update it with\n    "
                       f"{_update_command(impls)}\nfirst differences:\n  "
                       + "\n  ".join(diffs[:15]))


def test_the_committed_document_holds_every_ci_implementation_and_the_whole_grid():
    doc = json.loads(COMMITTED.read_text(encoding="utf-8"))
    names = [i["name"] for i in doc["implementations"]]
    assert names[:5] == ["reference", "numba", "numba-cuda-sim", "paddle-2.6.2", "paddle-3.3.1"]
    assert all(i["available"] for i in doc["implementations"]), "made where one could not start"
    grid = doc["interop"]
    assert len(grid["cells"]) == len(grid["layouts"]) * len(grid["writers"]) * len(grid["readers"])
    readers_only = [i["name"] for i in doc["implementations"] if i["reader_only"]]
    assert not set(readers_only) & set(grid["writers"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d",
                             str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_page_shows_the_grid_and_a_chapter_cell_opens_its_clauses(site: Path):
    doc = json.loads(COMMITTED.read_text(encoding="utf-8"))
    with chromium_page(DESKTOP) as page:
        page.goto((site / "compatibility" / "index.html").as_uri())
        table = page.locator("#compat-chapters")
        assert table.is_visible()
        headers = table.locator("thead th").all_inner_texts()
        assert headers[1:] == [i["name"] for i in doc["implementations"]]
        for layout in doc["interop"]["layouts"]:
            grid = page.locator(f"#interop-grid-{layout['id']}")
            assert grid.is_visible()
            assert grid.locator("tbody tr").count() == len(doc["interop"]["writers"])
        cell = table.locator("tbody td a").first
        target = cell.get_attribute("href").lstrip("#")
        clauses = page.locator(f"details#{target}")
        assert not clauses.evaluate("d => d.open")
        cell.click()
        page.wait_for_function(f"document.getElementById('{target}').open")
        first = clauses.locator("li").first
        assert first.is_visible()
        impl, chapter = doc["implementations"][0]["name"], doc["chapters"][0]["id"]
        first_id = next(iter(doc["results"][impl][chapter]["clauses"]))
        assert first_id in first.inner_text()


@pytest.mark.slow
def test_on_a_phone_the_tables_scroll_in_their_own_box(site: Path):
    with chromium_page(PHONE) as page:
        page.goto((site / "compatibility" / "index.html").as_uri())
        # The page itself never scrolls sideways; a wide table scrolls inside its box.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        boxes = page.locator(".compat-scroll")
        assert boxes.count() >= 2
        for i in range(boxes.count()):
            box = boxes.nth(i)
            assert box.evaluate("b => getComputedStyle(b).overflowX") == "auto"
            width = box.evaluate("b => b.getBoundingClientRect().width")
            assert width <= PHONE["width"]
        wide = boxes.first
        if wide.evaluate("b => b.scrollWidth > b.clientWidth"):
            wide.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
            assert wide.evaluate("b => b.scrollLeft") > 0
        # The text is not shrunk to nothing to make it fit.
        size = page.locator("#compat-chapters td").first.evaluate(
            "td => parseFloat(getComputedStyle(td).fontSize)")
        assert size >= 11
