"""The interoperability grid: what one implementation writes, another reads back exactly.

For every ordered pair (writer, reader) of implementations and every layout, the writer saves a
fixed set of values (or a fixed inference model), the reader loads the files, and what it loads
is compared exactly with what the writer was given.  The cases are fixed, not drawn by
Hypothesis, so the grid is the same on every run and can be published (docs/compatibility.md).
The suite's own cross-implementation check (``check_interop_matrix``) covers generated cases of
``save_vars``; this grid adds the inference layouts and readers that only load.

A cell is ``pass``, ``fail`` (with the clause it breaks and whether the writer or the reader is
at fault), ``not-claimed`` (the writer does not claim the save API or the reader the load API of
the layout) or ``unavailable`` (one side cannot be started here): never a pass by default.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.conformance._adapter import Adapter
from fluidspec.conformance._case import (
    Call,
    OpSpec,
    Outcome,
    ProgramSpec,
    TensorValue,
    Value,
    VarSpec,
)
from fluidspec.conformance._diagnose import diagnose_value
from fluidspec.conformance._discovery import resolve
from fluidspec.conformance._helpers import program_of, var_for
from fluidspec.conformance._verdict import ClauseFailure
from fluidspec.conformance.checks.inference import fetch_names
from fluidspec.conformance.checks.selection import writer_at_fault

__all__ = ["LAYOUTS", "Side", "run_interop", "fixed_values", "inference_model"]

#: layout -> (save API, load API, what it is).
LAYOUTS: dict[str, tuple[str, str, str]] = {
    "separate": ("save_vars", "load_vars", "save_vars to one file per variable"),
    "combined": ("save_vars", "load_vars", "save_vars to one combined file"),
    "inference-dir": ("save_inference_model", "load_inference_model",
                      "save_inference_model to dirname/__model__ and one file per parameter"),
    "inference-combined": ("save_inference_model", "load_inference_model",
                           "save_inference_model with model_filename and params_filename"),
}


def fixed_values() -> dict[str, Value]:
    """The values every vars layout exchanges: the dtypes every implementation here writes,
    a LoD, a 0-d and an empty tensor; exact binary fractions so no reader can round them."""
    return {
        "fc.w_0": TensorValue(np.array([[0.5, -1.25, 3.0], [-0.0, 1e-3, 65504.0]], np.float32)),
        "emb.f64": TensorValue(np.array([1.0 / 3, -2.5, 1e300, 5e-324], np.float64)),
        "ids": TensorValue(np.arange(10, 15, dtype=np.int64).reshape(5, 1), [[0, 2, 5]]),
        "count.i32": TensorValue(np.array([-(2**31), 0, 2**31 - 1], np.int32)),
        "mask.u8": TensorValue(np.array([0, 1, 255], np.uint8)),
        "half.f16": TensorValue(np.array([[1.5, -0.25], [6.0e-8, 65504.0]], np.float16)),
        "step.i8": TensorValue(np.array(-7, np.int8)),
        "empty.f32": TensorValue(np.zeros((0, 4), np.float32)),
    }


@dataclass(frozen=True)
class InferenceModel:
    program: ProgramSpec
    values: dict[str, Value]
    feeds: list[str]
    targets: list[str]
    kept: list[str]  # the parameters the pruned model keeps


def inference_model() -> InferenceModel:
    """x -> matmul_v2(x, w) -> elementwise_add(., b) -> y, and a parameter pruning drops; ops a
    reader that converts the model (OpenVINO's frontend) has converters for."""
    w = TensorValue(np.array([[0.5, -1.0], [2.0, 0.25], [-3.0, 4.0]], np.float32))
    b = TensorValue(np.array([0.125, -8.0], np.float32))
    unused = TensorValue(np.ones(4, np.float32))
    program = ProgramSpec(
        vars=(VarSpec("x", shape=(-1, 3)), var_for("w", w, param=True), var_for("b", b, param=True),
              var_for("unused.w", unused, param=True), VarSpec("h", shape=(-1, 2)),
              VarSpec("y", shape=(-1, 2))),
        ops=(OpSpec("matmul_v2", {"X": ("x",), "Y": ("w",)}, {"Out": ("h",)},
                    {"trans_x": False, "trans_y": False}),
             OpSpec("elementwise_add", {"X": ("h",), "Y": ("b",)}, {"Out": ("y",)}, {"axis": -1})))
    return InferenceModel(program, {"w": w, "b": b, "unused.w": unused}, ["x"], ["y"], ["w", "b"])


@dataclass
class Side:
    """One implementation of the grid: its adapter, and what its hello says (or why it has none)."""

    name: str
    adapter: Adapter | None
    apis: frozenset[str]
    unavailable: str | None = None

    @property
    def writes(self) -> bool:
        return self.unavailable is not None or bool(self.apis & {a for a, _, _ in LAYOUTS.values()})


def _side(item: str | Adapter) -> Side:
    adapter = resolve(item) if isinstance(item, str) else item
    name = adapter.name
    try:
        info = adapter.hello()
    except Exception as exc:  # an implementation that cannot start is a column of "unavailable"
        adapter.close()
        return Side(name, None, frozenset(), f"{type(exc).__name__}: {exc}".splitlines()[0])
    apis = info.get("apis") if isinstance(info, dict) else None
    return Side(name, adapter, frozenset(a for a in apis or () if isinstance(a, str)))


def _fault(at: str, clause: str, detail: str) -> dict[str, Any]:
    return {"status": "fail", "at_fault": at, "clause": clause, "detail": detail}


def _error(outcome: Outcome) -> str:
    return str((outcome.error or {}).get("error") or "an error")


def _compare(expected: dict[str, Value], found: dict[str, Value]) -> tuple[str, str] | None:
    for name, value in expected.items():
        diag = diagnose_value(value, found.get(name), name)
        if diag is not None:
            return diag
    return None


def _vars_cell(writer: Side, reader: Side, layout: str, work: Path) -> dict[str, Any]:
    values = fixed_values()
    names = list(values)
    program = program_of(values)
    args = {"dirname": str(work), "filename": "__params__" if layout == "combined" else None,
            "vars": names, "predicate": None}
    assert writer.adapter is not None and reader.adapter is not None
    saved = writer.adapter.run(program, values, Call("save_vars", args))
    if not saved.ok:
        return _fault("writer", "SEL-SAVE-001", f"{writer.name} save_vars failed: {_error(saved)}")
    back = reader.adapter.run(program, {}, Call("load_vars", args))
    wrong = None if not back.ok else _compare(values, back.scope)
    if back.ok and wrong is None:
        return {"status": "pass"}
    try:  # the written bytes decide who is at fault: the oracle's bytes are the spec's
        writer_at_fault(values, names, Call("save_vars", args), None)
    except ClauseFailure as blame:
        return _fault("writer", blame.clause, f"{writer.name} wrote {blame.message}")
    if not back.ok:
        return _fault("reader", "SEL-LOAD-007",
                      f"{reader.name} load_vars of correct files failed: {_error(back)}")
    assert wrong is not None
    return _fault("reader", wrong[0], f"{reader.name} loaded {wrong[1]}")


def _inference_args(layout: str, work: Path) -> dict[str, Any]:
    combined = layout == "inference-combined"
    return {"dirname": str(work), "model_filename": "model" if combined else None,
            "params_filename": "params" if combined else None}


#: What a wrong load of the model breaks, charged to the reader or (when the oracle, reading the
#: same files, is wrong the same way) to the writer.
_INFERENCE_CLAUSES = {"feeds": ("INF-LOAD-003", "INF-SAVE-004"),
                      "fetches": ("INF-LOAD-003", "INF-SAVE-005"),
                      "values": ("INF-LOAD-002", "INF-SAVE-008"),
                      "error": ("INF-LOAD-002", "INF-SAVE-008")}


def _inference_loaded(model: InferenceModel, back: Outcome, fetched: list[str]
                      ) -> tuple[str, str] | None:
    """What is wrong with a load of the model: (a key of ``_INFERENCE_CLAUSES``, what), or None."""
    if not back.ok:
        return "error", f"load_inference_model failed: {_error(back)}"
    feeds, fetches = back.result.get("feed_target_names"), back.result.get("fetch_target_names")
    if feeds != model.feeds:
        return "feeds", f"feed names {feeds}, expected {model.feeds}"
    if fetches != fetched:
        return "fetches", f"fetch names {fetches}, the model fetches {fetched}"
    wrong = _compare({p: model.values[p] for p in model.kept}, back.scope)
    return None if wrong is None else ("values", wrong[1])


def _inference_cell(writer: Side, reader: Side, layout: str, work: Path,
                    oracle: Adapter) -> dict[str, Any]:
    from fluidspec.spec.framework_pb2 import ProgramDesc

    model = inference_model()
    args = _inference_args(layout, work)
    assert writer.adapter is not None and reader.adapter is not None
    saved = writer.adapter.run(model.program, model.values, Call("save_inference_model", {
        **args, "feeded_var_names": model.feeds, "target_vars": model.targets}))
    model_path = work / (args["model_filename"] or "__model__")
    if not saved.ok or not model_path.is_file():
        return _fault("writer", "INF-SAVE-008",
                      f"{writer.name} save_inference_model failed: {_error(saved)}"
                      if not saved.ok else f"{writer.name} wrote no {model_path.name}")
    try:
        fetched = fetch_names(ProgramDesc.FromString(model_path.read_bytes()))
    except Exception:
        return _fault("writer", "PROG-SCHEMA-001", f"{model_path.name} is not a ProgramDesc")
    back = reader.adapter.run(ProgramSpec(), {}, Call("load_inference_model", args))
    wrong = _inference_loaded(model, back, fetched)
    if wrong is None:
        return {"status": "pass"}
    # The oracle reading the same files wrongly too means the files are wrong.
    again = back if reader.adapter is oracle else oracle.run(
        ProgramSpec(), {}, Call("load_inference_model", args))
    oracle_wrong = _inference_loaded(model, again, fetched)
    if oracle_wrong is not None:
        return _fault("writer", _INFERENCE_CLAUSES[oracle_wrong[0]][1],
                      f"{writer.name} wrote a model the reference reads wrongly: {oracle_wrong[1]}")
    return _fault("reader", _INFERENCE_CLAUSES[wrong[0]][0], f"{reader.name}: {wrong[1]}")


def _cell(writer: Side, reader: Side, layout: str, oracle: Adapter) -> dict[str, Any]:
    save_api, load_api, _ = LAYOUTS[layout]
    missing = [s.name for s in (writer, reader) if s.unavailable is not None]
    if missing:
        return {"status": "unavailable", "detail": f"{' and '.join(missing)} cannot start here"}
    if save_api not in writer.apis or load_api not in reader.apis:
        unclaimed = [f"{s.name} {api}" for s, api in ((writer, save_api), (reader, load_api))
                     if api not in s.apis]
        return {"status": "not-claimed", "detail": f"not claimed: {', '.join(unclaimed)}"}
    work = Path(tempfile.mkdtemp(prefix="fluidspec-interop-"))
    try:
        if load_api == "load_vars":
            return _vars_cell(writer, reader, layout, work)
        return _inference_cell(writer, reader, layout, work, oracle)
    except Exception as exc:  # adapters report errors as outcomes: this is the grid's own bug
        return {"status": "fail", "at_fault": "grid", "clause": None,
                "detail": f"the grid crashed: {type(exc).__name__}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_interop(impls: Sequence[str | Adapter], layouts: Iterable[str] = tuple(LAYOUTS)) -> dict[str, Any]:
    """The grid for ``impls`` (names to resolve, or adapters) as JSON: each ordered pair, the
    diagonal too (a round trip).  Implementations that claim no save API appear as readers
    only.  Every adapter is closed at the end.
    """
    sides = [_side(n) for n in impls]
    oracle = next((s.adapter for s in sides if s.name == "reference" and s.adapter), None)
    own_oracle = oracle is None
    if oracle is None:
        oracle = resolve("reference")
    layouts = list(layouts)
    try:
        writers = [s for s in sides if s.writes]
        cells = [{"writer": w.name, "reader": r.name, "layout": layout,
                  **_cell(w, r, layout, oracle)}
                 for layout in layouts for w in writers for r in sides]
    finally:
        for s in sides:
            if s.adapter is not None:
                s.adapter.close()
        if own_oracle:
            oracle.close()
    return {
        "layouts": [{"id": lay, "save": LAYOUTS[lay][0], "load": LAYOUTS[lay][1],
                     "what": LAYOUTS[lay][2]} for lay in layouts],
        "writers": [w.name for w in writers],
        "readers": [s.name for s in sides],
        "unavailable": {s.name: s.unavailable for s in sides if s.unavailable is not None},
        "cells": cells,
    }

