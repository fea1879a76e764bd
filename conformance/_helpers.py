"""Small building blocks the checks share: one-variable programs, loading crafted bytes, asserts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import reject

from fluidspec.conformance._case import (
    Call,
    OpSpec,
    Outcome,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    VarSpec,
)
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._diagnose import diagnose_value
from fluidspec.conformance._oracle import record_bytes
from fluidspec.conformance._verdict import ClauseFailure, Skip

__all__ = [
    "declared_dtype",
    "var_for",
    "program_of",
    "load_file",
    "load_combined",
    "expect_error",
    "expect_ok",
    "expect_values",
    "files_under",
    "UNSAFE_NAMES",
    "save_separate",
    "record_count_cases",
    "tiny_inference_case",
    "python_api",
]

#: Error outcomes that never count as a proper report (ERR-001, PROTO-ERR-003).
NOT_TAXONOMY = ("UNCLASSIFIED", "CRASHED", "TIMEOUT", "BAD_RESPONSE")


def declared_dtype(value: Value) -> str:
    name = np.asarray(value.array).dtype.name
    return "bfloat16" if name == "uint16" else name


def var_for(name: str, value: Value | None, *, param: bool = False, declared: str | None = None,
            shape: tuple[int, ...] | None = None, block: int = 0) -> VarSpec:
    """A persistable variable declared to match ``value`` (or float32 when there is none)."""
    if isinstance(value, SelectedRowsValue):
        return VarSpec(name, block, "SELECTED_ROWS", declared or declared_dtype(value),
                       (value.height, *np.asarray(value.array).shape[1:]), 0, True, False)
    arr_shape = tuple(np.asarray(value.array).shape) if value is not None else (-1,)
    lod_level = len(value.lod) if isinstance(value, TensorValue) else 0
    return VarSpec(name, block, "LOD_TENSOR",
                   declared or (declared_dtype(value) if value is not None else "float32"),
                   shape if shape is not None else arr_shape, lod_level, True, param)


def program_of(values: dict[str, Value], *, params: Iterable[str] = ()) -> ProgramSpec:
    ps = set(params)
    return ProgramSpec(vars=tuple(var_for(n, v, param=n in ps) for n, v in values.items()))


def load_file(ctx: CheckContext, raw: bytes, *, name: str = "t", var: VarSpec | None = None,
              scope: dict[str, Value] | None = None) -> Outcome:
    """Write ``raw`` as the separate file of ``name`` and ``load_vars`` it."""
    d = ctx.fresh_dir("in")
    path = Path(d) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    program = ProgramSpec(vars=(var or VarSpec(name, persistable=True, shape=(-1,)),))
    return ctx.run(program, scope or {}, Call("load_vars", {"dirname": d, "filename": None,
                                                            "vars": [program.vars[0].name],
                                                            "predicate": None}))


def load_combined(ctx: CheckContext, raw: bytes, vars_: list[VarSpec], *, memory: bool = False,
                  scope: dict[str, Value] | None = None) -> Outcome:
    """``load_vars`` a combined stream (from a file, or from memory) for ``vars_``."""
    program = ProgramSpec(vars=tuple(vars_))
    names = [v.name for v in vars_]
    if memory:
        call = Call("load_vars", {"dirname": None, "filename": None, "vars": names,
                                  "predicate": None, "memory": raw})
    else:
        d = ctx.fresh_dir("in")
        os.makedirs(d)
        Path(d, "__params__").write_bytes(raw)
        call = Call("load_vars", {"dirname": d, "filename": "__params__", "vars": names,
                                  "predicate": None})
    return ctx.run(program, scope or {}, call)


def expect_error(outcome: Outcome, ids: str | tuple[str, ...], clause: str, what: str) -> None:
    """The call must fail with one of ``ids``."""
    wanted = (ids,) if isinstance(ids, str) else ids
    if outcome.ok:
        raise ClauseFailure(clause, f"{what}: succeeded, expected error {' or '.join(wanted)}")
    if outcome.error_id not in wanted:
        # Bad input answered with something outside the taxonomy (or a crash) breaks ERR-001 too.
        also = ("ERR-001",) if outcome.error_id in ("UNCLASSIFIED", "CRASHED") else ()
        raise ClauseFailure(clause, f"{what}: error {outcome.error_id} "
                                    f"({(outcome.error or {}).get('message', '')[:200]}), "
                                    f"expected {' or '.join(wanted)}", also)


def expect_refused(outcome: Outcome, ids: str | tuple[str, ...], must: str, id_clause: str,
                   what: str) -> None:
    """The call must fail (charged to ``must`` when it succeeds); that it fails with one of
    ``ids`` is ``id_clause``'s rule.  For clauses whose MUST part is "this is refused" while
    the error id is a SHOULD (a crash or an UNCLASSIFIED error is not a MUST failure)."""
    if outcome.ok:
        wanted = (ids,) if isinstance(ids, str) else ids
        raise ClauseFailure(must, f"{what}: succeeded, expected error {' or '.join(wanted)}")
    expect_error(outcome, ids, id_clause, what)


def expect_ok(outcome: Outcome, clause: str, what: str) -> None:
    if not outcome.ok:
        err = outcome.error or {}
        raise ClauseFailure(clause, f"{what}: failed with {err.get('error')}: "
                                    f"{str(err.get('message', ''))[:300]}")


def expect_values(expected: dict[str, Value], found: dict[str, Value], clause: str | None,
                  what: str, *, written: bool = True) -> None:
    """Every expected value is in ``found``, exactly; the clause is diagnosed when not given.

    ``written``: the values went through bytes, so a numpy uint16 array is expected back as
    bfloat16 with the same bits (FMT-DTYPE-003).
    """
    for name, value in expected.items():
        diag = diagnose_value(value, found.get(name), name, written=written)
        if diag is not None:
            raise ClauseFailure(clause or diag[0], f"{what}: {diag[1]}")


def files_under(dirname: str) -> set[str]:
    """Relative paths of every file under ``dirname`` (``/``-separated)."""
    out = set()
    if not os.path.isdir(dirname):
        return out
    for root, _, files in os.walk(dirname):
        for f in files:
            out.add(os.path.relpath(os.path.join(root, f), dirname).replace(os.sep, "/"))
    return out


def refused_by_sel_save_009(outcome: Outcome, values: dict[str, Value], call: Call) -> bool:
    """True when a separate-files save refused bool/complex values, which SEL-SAVE-009 allows
    (Paddle's ``save`` operator has no kernel for them).  Properties then drop the example."""
    if outcome.ok or outcome.error_id != "UNSUPPORTED_DTYPE":
        return False
    if call.get("dirname") is None or call.get("filename") is not None:
        return False
    return any(np.asarray(v.array).dtype.kind in "bc" for v in values.values())


UNSAFE_NAMES = ["../escape", "/abs_name", "a/../../b", "", ".", "nul\x00byte", ".."]


def save_separate(ctx: CheckContext, values: dict, *, params: tuple[str, ...] = (),
                   clause: str = "FMT-REC-001") -> str:
    """Save ``values`` to separate files; a refusal is charged to ``clause`` (the rule the case
    tests: a save refused for a 2**33 LoD height breaks SAFE-LARGE-001, not FMT-REC-001)."""
    d = ctx.fresh_dir("out")
    program = program_of(values, params=params)
    call = Call("save_vars", {"dirname": d, "filename": None, "vars": list(values),
                              "predicate": None})
    out = ctx.run(program, values, call)
    if refused_by_sel_save_009(out, values, call):
        reject()
    expect_ok(out, clause, f"save_vars of {list(values)} to separate files")
    return d


def record_count_cases() -> list[tuple[str, bytes, list[VarSpec], str, str]]:
    """Combined streams that are not exactly N whole records for N variables:
    (what, stream, variables, the error, the one clause that decides it — format.md §1.6)."""
    vals = [TensorValue(np.arange(3, dtype=np.float32)), TensorValue(np.arange(2, dtype=np.float32)),
            TensorValue(np.arange(4, dtype=np.float32))]
    a, b, c = (record_bytes(v.array) for v in vals)
    two = [var_for("a", vals[0]), var_for("b", vals[1])]
    three = [*two, var_for("c", vals[2])]
    return [
        ("a combined stream whose last record is cut inside its data", a + b[:-2], two,
         "TRUNCATED", "FMT-SAFE-001"),
        ("2 records followed by 2 stray bytes", a + b + b"\x00\x01", two, "TRAILING_BYTES",
         "FMT-COMB-002"),
        ("2 records followed by one whole extra record", a + b + c, two,
         "RECORD_COUNT_MISMATCH", "SEL-LOAD-004"),
        ("2 records followed by a whole record and a cut one", a + b + c + a[:9], two,
         "TRAILING_BYTES", "FMT-COMB-002"),
        # More stray bytes than the expected records hold (89 after 68).
        ("2 records followed by two whole records and a cut one", a + b + c + c + a[:9], two,
         "TRAILING_BYTES", "FMT-COMB-002"),
        ("2 whole records for 3 variables", a + b, three, "RECORD_COUNT_MISMATCH",
         "SEL-LOAD-004"),
    ]


def tiny_inference_case(dirname: str) -> tuple[ProgramSpec, dict[str, Value], Call]:
    """x -> mul(x, w) -> y; an unused parameter that pruning drops."""
    w = TensorValue(np.arange(6, dtype=np.float32).reshape(3, 2))
    unused = TensorValue(np.ones(4, np.float32))
    program = ProgramSpec(
        vars=(VarSpec("x", shape=(-1, 3)), var_for("w", w, param=True),
              var_for("unused.w", unused, param=True), VarSpec("y", shape=(-1, 2))),
        ops=(OpSpec("mul", {"X": ("x",), "Y": ("w",)}, {"Out": ("y",)}),))
    call = Call("save_inference_model", {"dirname": dirname, "feeded_var_names": ["x"],
                                         "target_vars": ["y"], "model_filename": None,
                                         "params_filename": None})
    return program, {"w": w, "unused.w": unused}, call


def python_api(ctx: CheckContext) -> tuple[Any, Any]:
    """(fluid module, io module) of an in-process implementation, else Skip."""
    from fluidspec.conformance._adapter import FluidAdapter

    if not isinstance(ctx.impl, FluidAdapter):
        raise Skip("needs the implementation's Python objects (in-process implementations only)")
    ctx.impl._load()
    ctx.reached += 1  # the check judges the implementation's own objects from here on
    return ctx.impl._fluid, ctx.impl._io
