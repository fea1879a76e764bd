"""The interoperability grid (conformance.interop) and the compatibility document
(conformance.matrix): a broken writer or reader is a failure naming the clause and the side at
fault, a reader-only implementation is a reader only, and an implementation that cannot start is
unavailable, never a pass."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.conformance import (
    AdapterUnavailable,
    Call,
    FluidAdapter,
    Outcome,
    ProgramSpec,
    TensorValue,
    Value,
)
from fluidspec.conformance.interop import LAYOUTS, fixed_values, run_interop
from fluidspec.conformance.matrix import SCHEMA, chapters, render_markdown
from fluidspec.conformance.toys import BrokenDropsLod


def _cells(grid: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(c["layout"], c["writer"], c["reader"]): c for c in grid["cells"]}


class _Reference(FluidAdapter):
    def __init__(self, name: str) -> None:
        super().__init__(name, "fluidspec.reference", "fluidspec.reference.io")


class _ReaderOnly(_Reference):
    """The reference claiming load_inference_model alone, as OpenVINO's frontend does."""

    def hello(self) -> dict[str, Any]:
        return {**super().hello(), "apis": ["load_inference_model"]}


class _AddsOneOnLoad(_Reference):
    """The reference, but every float value it loads is off by one (a broken reader)."""

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        out = super().run(program, scope, call)
        if call.api.startswith("load") and out.ok:
            out.scope = {n: TensorValue(v.array + 1, v.lod)
                         if isinstance(v, TensorValue) and v.array.dtype.kind == "f" else v
                         for n, v in out.scope.items()}
        return out


class _FlipsAWeightByte(_Reference):
    """The reference, but the last byte of the parameters an inference save writes is flipped
    (a broken writer)."""

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        out = super().run(program, scope, call)
        if call.api == "save_inference_model" and out.ok:
            path = Path(call.get("dirname"), call.get("params_filename") or "w")
            raw = bytearray(path.read_bytes())
            raw[-1] ^= 0x40
            path.write_bytes(bytes(raw))
        return out


class _CannotStart:
    name = "absent"

    def hello(self) -> dict[str, Any]:
        raise AdapterUnavailable("not installed here")

    def run(self, *args: Any) -> Outcome:
        raise AdapterUnavailable("not installed here")

    def close(self) -> None:
        pass


def test_two_implementations_that_agree_pass_every_cell_of_every_layout():
    grid = run_interop(["reference", "numba"])
    assert [lay["id"] for lay in grid["layouts"]] == list(LAYOUTS)
    assert len(grid["cells"]) == len(LAYOUTS) * 2 * 2
    assert {c["status"] for c in grid["cells"]} == {"pass"}, [
        c for c in grid["cells"] if c["status"] != "pass"]


def test_a_writer_that_drops_the_lod_fails_as_the_writer_with_the_lod_clause():
    grid = run_interop(["reference", BrokenDropsLod()])
    cells = _cells(grid)
    for layout in ("separate", "combined"):
        bad = cells[(layout, "toy-drops-lod", "reference")]
        assert (bad["status"], bad["at_fault"], bad["clause"]) == ("fail", "writer", "FMT-LOD-001"), bad
        assert cells[(layout, "reference", "toy-drops-lod")]["status"] == "pass"
    # The toy has no inference APIs: those cells are not claimed, not passed.
    assert cells[("inference-dir", "toy-drops-lod", "reference")]["status"] == "not-claimed"
    assert cells[("inference-dir", "reference", "toy-drops-lod")]["status"] == "not-claimed"


def test_a_reader_that_changes_values_fails_as_the_reader_in_every_layout():
    grid = run_interop(["reference", _AddsOneOnLoad("adds-one")])
    cells = _cells(grid)
    for layout in LAYOUTS:
        bad = cells[(layout, "reference", "adds-one")]
        assert bad["status"] == "fail" and bad["at_fault"] == "reader", bad
        assert bad["clause"], bad
        assert cells[(layout, "adds-one", "reference")]["status"] == "pass"


def test_a_writer_of_wrong_inference_parameters_fails_as_the_writer():
    grid = run_interop(["reference", _FlipsAWeightByte("flips")],
                       layouts=["inference-dir", "inference-combined"])
    cells = _cells(grid)
    for layout in ("inference-dir", "inference-combined"):
        for reader in ("reference", "flips"):
            bad = cells[(layout, "flips", reader)]
            assert (bad["status"], bad["at_fault"], bad["clause"]) == (
                "fail", "writer", "INF-SAVE-008"), bad
        assert cells[(layout, "reference", "flips")]["status"] == "pass"


def test_a_reader_only_implementation_is_a_column_and_never_a_row():
    grid = run_interop(["reference", _ReaderOnly("reader")])
    assert grid["writers"] == ["reference"]
    assert grid["readers"] == ["reference", "reader"]
    cells = _cells(grid)
    assert cells[("separate", "reference", "reader")]["status"] == "not-claimed"
    assert cells[("inference-dir", "reference", "reader")]["status"] == "pass"
    assert cells[("inference-combined", "reference", "reader")]["status"] == "pass"
    assert not any(c["writer"] == "reader" for c in grid["cells"])


def test_an_implementation_that_cannot_start_is_unavailable_in_every_cell_it_is_in():
    grid = run_interop(["reference", _CannotStart()])
    assert grid["unavailable"] == {"absent": "AdapterUnavailable: not installed here"}
    mine = [c for c in grid["cells"] if "absent" in (c["writer"], c["reader"])]
    assert mine and {c["status"] for c in mine} == {"unavailable"}


def test_the_fixed_values_cover_the_cases_the_grid_promises():
    values = fixed_values()
    dtypes = {np.asarray(v.array).dtype for v in values.values()}
    assert {np.dtype(t) for t in ("float32", "float64", "float16", "int64", "int32", "uint8",
                                  "int8")} <= dtypes
    assert any(v.lod for v in values.values())
    assert any(np.asarray(v.array).ndim == 0 for v in values.values())
    assert any(np.asarray(v.array).size == 0 for v in values.values())


def test_chapters_are_in_the_spec_order_and_hold_every_clause():
    from fluidspec import spec

    found = chapters()
    assert [c["number"] for c in found] == sorted(c["number"] for c in found)
    assert found[0]["id"] == "errors"
    assert sorted(c["id"] for ch in found for c in ch["clauses"]) == sorted(
        c.id for c in spec.clauses())


def _document() -> dict[str, Any]:
    ch = chapters()[0]
    clause = ch["clauses"][0]["id"]
    ok = {"counts": {"pass": 1, "fail": 0, "known": 0, "stale": 0, "not-claimed": 0,
                     "not-exercised": 0}, "clauses": {clause: {"status": "pass"}}}
    known = {"counts": {**ok["counts"], "pass": 0, "known": 1},
             "clauses": {clause: {"status": "known", "known_failure_reason": "a <reason>"}}}
    return {"schema": SCHEMA, "profile": "ci",
            "chapters": [{k: ch[k] for k in ("id", "number", "title")}],
            "implementations": [
                {"name": "good", "available": True, "version": "1", "apis": [],
                 "reader_only": False, "unavailable_reason": None},
                {"name": "meh", "available": True, "version": "2", "apis": [],
                 "reader_only": True, "unavailable_reason": None},
                {"name": "gone", "available": False, "version": None, "apis": [],
                 "reader_only": False, "unavailable_reason": "not here"}],
            "results": {"good": {ch["id"]: ok}, "meh": {ch["id"]: known},
                        "gone": {ch["id"]: ok}},
            "interop": run_interop(["reference", _CannotStart()], layouts=["separate"])}


def test_the_page_links_each_chapter_cell_to_its_clause_list_and_never_passes_the_unavailable():
    page = render_markdown(_document())
    links = re.findall(r'<a href="#([^"]+)">', page)
    assert links and all(f'<details class="compat-clauses" id="{a}">' in page for a in links)
    assert "a &lt;reason&gt;" in page  # the known failure's reason, escaped
    table = page[page.index('id="compat-chapters"'):page.index("</table>")]
    assert table.count(">unavailable<") == 1 and "gone" in table
    assert 'id="c-gone-' not in page  # no clause list claims anything of it
    grid = page[page.index('id="interop-grid-separate"'):]
    assert html.escape("absent") in grid and "✓ pass" in grid and "unavailable" in grid

