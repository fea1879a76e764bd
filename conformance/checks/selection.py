"""Checks of what save_*/load_* select, write and read (spec/chapters/selection.md, SEL-*).

Properties draw whole cases (``strategies.save_cases``): a program with several blocks and every
variable kind, values, and a save call.  What must be written is computed by ``_oracle`` from the
spec text — not by asking the reference.

The stateful check (``check_stateful_directory``) drives random sequences of save / overwrite /
load / corrupt / delete on one directory against a model of it; the model says what every
load must return — the last saved values, MISSING_FILE after a delete, TRUNCATED after a file is
cut — so bugs that need several steps (stale files, a load that sees an older save, a combined
file not replaced) show up.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, reject, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from fluidspec.conformance import strategies as fs
from fluidspec.conformance._case import (
    Call,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    VarSpec,
)
from fluidspec.conformance._context import PROFILES, CheckContext
from fluidspec.conformance._diagnose import diagnose_combined, diagnose_record
from fluidspec.conformance._helpers import (
    UNSAFE_NAMES,
    expect_error,
    expect_ok,
    expect_values,
    files_under,
    load_combined,
    program_of,
    python_api,
    record_count_cases,
    refused_by_sel_save_009,
    save_separate,
    var_for,
)
from fluidspec.conformance._oracle import (
    record_bytes,
    selected_vars,
    value_bytes,
)
from fluidspec.conformance._registry import check
from fluidspec.conformance._vector_replay import register_vectors
from fluidspec.conformance._verdict import ClauseFailure, fail, require

_VARS_APIS = ("save_vars", "load_vars")


def _placed(case: fs.SaveCase, dirname: str | None) -> Call:
    args = dict(case.call.args)
    if args.get("dirname") is not None:
        args["dirname"] = dirname
    return Call(case.call.api, args)


def _layout(call: Call) -> str:
    if call.get("dirname") is None:
        return "memory"
    return "separate" if call.get("filename") is None else "combined"


def _selection_clause(case: fs.SaveCase, name: str, extra: bool) -> str:
    """Which selection rule a wrongly (not) written name breaks."""
    try:
        v = case.program.var(name)
    except KeyError:
        return "SEL-FILE-001"
    if extra and v.kind == "RAW":
        return "SEL-SAVE-003"
    if case.call.get("vars") is not None:
        return "SEL-CAND-002"
    if not extra and v.block != 0:
        return "SEL-CAND-001"
    return "SEL-CAND-003"


def writer_at_fault(values: dict, names: list[str], call: Call, memory: bytes | None) -> None:
    """When a round trip fails, blame the writer if its bytes differ from the oracle's.

    Reading back what a broken writer wrote usually fails too; the clause to report is the one
    the written bytes break, not the load's.
    """
    layout = _layout(call)
    if layout == "separate":
        for n in names:
            path = Path(call.get("dirname"), n)
            if path.is_file():
                diag = diagnose_record(value_bytes(values[n]), path.read_bytes())
                if diag:
                    raise fail(diag[0], f"(found after a failed round trip) file {n!r}: {diag[1]}")
        return
    found = memory if layout == "memory" else (
        Path(call.get("dirname"), call.get("filename")).read_bytes()
        if Path(call.get("dirname"), call.get("filename")).is_file() else None)
    if found is not None:
        diag = diagnose_combined({n: value_bytes(values[n]) for n in names}, found)
        if diag:
            raise fail(diag[0], f"(found after a failed round trip) {layout} stream: {diag[1]}")


@check("SEL-CAND-001", "SEL-CAND-002", "SEL-CAND-003", "SEL-SAVE-003", "SEL-FILE-001",
       "SEL-FILE-002", "SEL-SAVE-005", "SEL-SAVE-001",
       apis=("save_vars", "save_params", "save_persistables"))
def check_files_written_follow_selection(ctx: CheckContext) -> None:
    """The files a save writes are exactly the selection rule's, holding the oracle's bytes."""

    @ctx.given(fs.save_cases(layout=None, kinds=ctx.var_kinds))
    def prop(case: fs.SaveCase) -> None:
        d = ctx.fresh_dir("out")
        call = _placed(case, d)
        out = ctx.run(case.program, case.values, call)
        if refused_by_sel_save_009(out, case.values, call):
            reject()
        chosen = [v for v in selected_vars(case.program, call) if v.kind != "RAW"]
        raw_only = not chosen and bool(selected_vars(case.program, call, keep_raw=True))
        expect_ok(out, "SEL-SAVE-003" if raw_only else "SEL-SAVE-001",
                  f"{call.api} ({_layout(call)})" + (" of RAW variables only" if raw_only else ""))
        names = list(dict.fromkeys(v.name for v in chosen))
        layout = _layout(call)
        written = files_under(d)
        if not chosen:
            require(not os.path.exists(d), "SEL-SAVE-002",
                    f"empty selection created {d} holding {sorted(written)}")
            return
        if layout == "separate":
            expected = set(names)
            for n in sorted(expected - written):
                raise fail(_selection_clause(case, n, False), f"no file for selected {n!r} "
                           f"(wrote {sorted(written)})")
            for n in sorted(written - expected):
                raise fail(_selection_clause(case, n, True), f"file {n!r} written but not selected")
            for n in names:
                diag = diagnose_record(value_bytes(case.values[n]), Path(d, n).read_bytes())
                if diag:
                    raise fail("SEL-SAVE-005" if diag[0] in ("FMT-DTYPE-002",) else diag[0],
                               f"file {n!r}: {diag[1]}")
            return
        records = {n: value_bytes(case.values[n]) for n in names}
        if layout == "combined":
            require(written == {call.get("filename")}, "SEL-FILE-002",
                    f"combined save wrote {sorted(written)}, expected only {call.get('filename')!r}")
            found = Path(d, call.get("filename")).read_bytes()
        else:
            require(not written, "SEL-FILE-003", f"memory save wrote files {sorted(written)}")
            found = out.memory
        diag = diagnose_combined(records, found)
        if diag:
            clause, msg = diag
            if clause == "FMT-REC-006" or clause == "FMT-COMB-002":
                extra = [v.name for v in selected_vars(case.program, case.call)
                         if v.name not in names]
                clause = _selection_clause(case, extra[0], True) if extra else "SEL-CAND-003"
            raise fail(clause, f"{layout} stream: {msg}")

    prop()


@check("SEL-SAVE-001", "SEL-LOAD-007", "SEL-FILE-003", "SEL-CAND-003",
       apis=("save_vars", "load_vars", "save_params", "load_params", "save_persistables",
             "load_persistables"))
def check_round_trip(ctx: CheckContext) -> None:
    """save_* then load_* of the same program into an empty scope restores every selected value."""

    @ctx.given(fs.save_cases(layout=None, apis=("save_vars", "save_params", "save_persistables"),
                             kinds=ctx.var_kinds))
    def prop(case: fs.SaveCase) -> None:
        d = ctx.fresh_dir("rt")
        call = _placed(case, d)
        saved = ctx.run(case.program, case.values, call)
        if refused_by_sel_save_009(saved, case.values, call):
            reject()
        expect_ok(saved, "SEL-SAVE-001", f"{call.api} ({_layout(call)})")
        load = case.load_call(None if _layout(call) == "memory" else d,
                              saved.memory if _layout(call) == "memory" else None)
        chosen = {v.name for v in selected_vars(case.program, call) if v.kind != "RAW"}
        if not chosen:
            return  # nothing was written; empty loads are check_load_reads_declared_kind's
        back = ctx.run(case.program, {}, load)
        try:
            expect_ok(back, "SEL-LOAD-007" if _layout(call) == "separate" else "SEL-FILE-003",
                      f"{load.api} ({_layout(call)})")
            expect_values({n: case.values[n] for n in chosen}, back.scope, None,
                          f"{call.api} -> {load.api} ({_layout(call)})")
        except ClauseFailure:
            writer_at_fault(case.values, sorted(chosen), call, saved.result.get("memory"))
            raise

    prop()


@check("SEL-FILE-003", "SEL-FILE-002", apis=("save_vars",))
def check_memory_equals_file(ctx: CheckContext) -> None:
    """A memory save returns exactly the bytes the combined file holds."""

    @ctx.given(fs.save_cases(layout="combined", apis=("save_vars",)))
    def prop(case: fs.SaveCase) -> None:
        d = ctx.fresh_dir("out")
        # A selection of RAW variables only: that such a combined/memory save succeeds and
        # writes nothing is SEL-SAVE-010 (SHOULD; Paddle 2.6.2's save_combine refuses it).
        raw_only = bool(selected_vars(case.program, case.call, keep_raw=True)) and \
            not selected_vars(case.program, case.call)
        to_file = ctx.run(case.program, case.values, _placed(case, d))
        expect_ok(to_file, "SEL-SAVE-010" if raw_only else "SEL-FILE-002", "combined save")
        args = {**case.call.args, "dirname": None, "filename": None}
        to_mem = ctx.run(case.program, case.values, Call(case.call.api, args))
        expect_ok(to_mem, "SEL-SAVE-010" if raw_only else "SEL-FILE-003", "memory save")
        path = Path(d, case.call.get("filename"))
        on_disk = path.read_bytes() if path.exists() else None
        if on_disk is None:
            require(not to_mem.result.get("memory"), "SEL-FILE-003",
                    "memory save returned bytes where the file save wrote nothing")
            return
        require(to_mem.memory == on_disk, "SEL-FILE-003",
                f"memory bytes ({len(to_mem.memory)}) differ from the file ({len(on_disk)})")

    prop()


@check("SEL-SAVE-002", apis=("save_vars",))
def check_empty_selection(ctx: CheckContext) -> None:
    """An empty selection warns, returns None and writes nothing, in every mode."""
    t = TensorValue(np.ones(2, np.float32))
    program = ProgramSpec(vars=(VarSpec("t", shape=(2,), persistable=False),))
    for how in ({"vars": [], "predicate": None}, {"vars": None, "predicate": "is_parameter"}):
        for dirname, filename in ((ctx.fresh_dir("e"), None), (ctx.fresh_dir("e"), "p"),
                                  (None, None)):
            out = ctx.run(program, {"t": t}, Call("save_vars", {"dirname": dirname,
                                                                "filename": filename, **how}))
            what = f"save_vars({how}, dirname={'set' if dirname else None}, filename={filename})"
            expect_ok(out, "SEL-SAVE-002", what)
            require(out.result.get("memory") is None, "SEL-SAVE-002", f"{what} returned bytes")
            require(any("no variable" in w for w in out.warnings), "SEL-SAVE-002",
                    f"{what} did not warn (warnings: {out.warnings})")
            require(dirname is None or not os.path.exists(dirname), "SEL-SAVE-002",
                    f"{what} created the directory")


@check("SEL-SAVE-003", apis=("save_vars", "save_persistables"))
def check_raw_skipped(ctx: CheckContext) -> None:
    """RAW variables are dropped; a RAW-only selection writes nothing and does not warn."""
    t = TensorValue(np.ones(2, np.float32))
    program = ProgramSpec(vars=(VarSpec("raw", kind="RAW", dtype=None, shape=None, persistable=True),
                                var_for("t", t)))
    d = ctx.fresh_dir("o")
    out = ctx.run(program, {"t": t}, Call("save_persistables", {"dirname": d, "filename": None}))
    expect_ok(out, "SEL-SAVE-003", "save_persistables with a persistable RAW variable")
    require(files_under(d) == {"t"}, "SEL-SAVE-003", f"wrote {sorted(files_under(d))}, expected t")
    d = ctx.fresh_dir("o")
    out = ctx.run(program, {}, Call("save_vars", {"dirname": d, "filename": None, "vars": ["raw"],
                                                  "predicate": None}))
    expect_ok(out, "SEL-SAVE-003", "save_vars of a RAW variable only")
    require(not files_under(d), "SEL-SAVE-003", f"a RAW-only save wrote {sorted(files_under(d))}")
    require(not any("no variable" in w for w in out.warnings), "SEL-SAVE-003",
            "a RAW-only selection warned as if empty")


@check("SEL-SAVE-010", apis=("save_vars",))
def check_raw_only_combined(ctx: CheckContext) -> None:
    """A combined or memory save of RAW variables only writes nothing and returns None."""
    program = ProgramSpec(vars=(VarSpec("raw", kind="RAW", dtype=None, shape=None,
                                        persistable=True),))
    for dirname, filename in ((ctx.fresh_dir("o"), "all"), (None, None)):
        what = f"save_vars of a RAW variable only (dirname={'set' if dirname else None}, " \
               f"filename={filename})"
        out = ctx.run(program, {}, Call("save_vars", {"dirname": dirname, "filename": filename,
                                                      "vars": ["raw"], "predicate": None}))
        expect_ok(out, "SEL-SAVE-010", what)
        require(out.result.get("memory") is None, "SEL-SAVE-010", f"{what} returned bytes")
        require(dirname is None or not files_under(dirname), "SEL-SAVE-010",
                f"{what} wrote {sorted(files_under(dirname or '.'))}")


@check("SEL-SAVE-004", apis=("save_vars",))
def check_duplicates_collapse(ctx: CheckContext) -> None:
    """A name selected twice is one record (combined) and one file (separate)."""
    a, b = TensorValue(np.arange(3, dtype=np.int32)), TensorValue(np.arange(2, dtype=np.float64))
    program = program_of({"b": b, "a": a})
    values = {"a": a, "b": b}
    out = ctx.run(program, values, Call("save_vars", {"dirname": None, "filename": None,
                                                      "vars": ["b", "a", "b"], "predicate": None}))
    expect_ok(out, "SEL-SAVE-004", "memory save of [b, a, b]")
    want = record_bytes(a.array) + record_bytes(b.array)
    if out.memory != want:
        three = want + record_bytes(b.array)
        if len(out.memory) == len(three) or len(out.memory) == len(want):
            require(len(out.memory) != len(three), "SEL-SAVE-004",
                    "[b, a, b] wrote b twice in the combined stream")
        diag = diagnose_combined({"a": record_bytes(a.array), "b": record_bytes(b.array)},
                                 out.memory)
        raise fail(diag[0] if diag else "SEL-SAVE-004", f"[b, a, b]: {diag[1] if diag else ''}")
    d = ctx.fresh_dir("o")
    out = ctx.run(program, values, Call("save_vars", {"dirname": d, "filename": None,
                                                      "vars": ["b", "a", "b"], "predicate": None}))
    expect_ok(out, "SEL-SAVE-004", "separate save of [b, a, b]")
    require(files_under(d) == {"a", "b"}, "SEL-SAVE-004", f"wrote {sorted(files_under(d))}")


@check("SEL-SAVE-005", apis=("save_vars",))
def check_runtime_value_not_declaration(ctx: CheckContext) -> None:
    """The runtime value's dtype and dims are written, not the declared ones."""
    value = TensorValue(np.array([2.5, -1.0, 3.0], dtype=np.float64))
    program = ProgramSpec(vars=(VarSpec("v", dtype="float32", shape=(1,), persistable=True),))
    out = ctx.run(program, {"v": value}, Call("save_vars", {"dirname": None, "filename": None,
                                                            "vars": ["v"], "predicate": None}))
    expect_ok(out, "SEL-SAVE-005", "saving a 0-d float64 value in a var declared float32 [1]")
    diag = diagnose_record(record_bytes(value.array), out.memory)
    if diag:  # the declaration leaking into dtype or dims is this clause; anything else is not
        raise fail("SEL-SAVE-005" if diag[0] in ("FMT-DTYPE-002", "FMT-REC-005") else diag[0],
                   diag[1])


@check("SEL-SAVE-006", apis=("save_vars",))
def check_uninitialized(ctx: CheckContext) -> None:
    """A selected variable without a value is UNINITIALIZED and nothing is written."""
    a = TensorValue(np.ones(2, np.float32))
    program = ProgramSpec(vars=(var_for("a", a), VarSpec("u", shape=(2,), persistable=True)))
    for filename in (None, "p"):
        d = ctx.fresh_dir("o")
        out = ctx.run(program, {"a": a}, Call("save_vars", {"dirname": d, "filename": filename,
                                                            "vars": ["a", "u"], "predicate": None}))
        expect_error(out, "UNINITIALIZED", "SEL-SAVE-006", f"save of [a, u] with u empty "
                     f"(filename={filename})")
        require(not files_under(d), "SEL-SAVE-006", f"wrote {sorted(files_under(d))} anyway")


@check("SEL-SAVE-007", apis=("save_vars",))
def check_unsupported_kinds(ctx: CheckContext) -> None:
    """Selected variables of other kinds are UNSUPPORTED_VAR_TYPE, before anything is written."""
    a = TensorValue(np.ones(2, np.float32))
    # STRINGS has a type code above RAW's: a reader that orders kinds instead of naming them
    # would skip it like RAW.
    for kind in ("FEED_MINIBATCH", "FETCH_LIST", "READER", "LOD_TENSOR_ARRAY", "STEP_SCOPES",
                 "STRINGS"):
        program = ProgramSpec(vars=(var_for("a", a), VarSpec("z", kind=kind, dtype=None,
                                                             shape=None, persistable=True)))
        d = ctx.fresh_dir("o")
        out = ctx.run(program, {"a": a}, Call("save_vars", {"dirname": d, "filename": None,
                                                            "vars": None, "predicate": None}))
        expect_error(out, "UNSUPPORTED_VAR_TYPE", "SEL-SAVE-007", f"predicate=None with a {kind}")
        require(not files_under(d), "SEL-SAVE-007", f"wrote {sorted(files_under(d))} anyway")


@check("SEL-SAVE-008", "SAFE-ATOMIC-002", apis=("save_vars",))
def check_failed_save_keeps_previous(ctx: CheckContext) -> None:
    """A failing save leaves the previous save intact (SEL-SAVE-008, SAFE-ATOMIC-002)."""
    a1, a2 = TensorValue(np.ones(3, np.float32)), TensorValue(np.zeros(3, np.float32))
    program = ProgramSpec(vars=(var_for("a", a1), VarSpec("u", shape=(3,), persistable=True)))
    for filename in (None, "p"):
        d = ctx.fresh_dir("o")
        first = ctx.run(program, {"a": a1}, Call("save_vars", {"dirname": d, "filename": filename,
                                                               "vars": ["a"], "predicate": None}))
        expect_ok(first, "SEL-SAVE-001", "first save")  # an ordinary save
        before = {n: Path(d, n).read_bytes() for n in files_under(d)}
        bad = ctx.run(program, {"a": a2}, Call("save_vars", {"dirname": d, "filename": filename,
                                                             "vars": ["a", "u"], "predicate": None}))
        require(not bad.ok, "SEL-SAVE-006", "a save with an uninitialised variable succeeded")
        after = {n: Path(d, n).read_bytes() for n in files_under(d)}
        if after != before:  # the same observation breaks both clauses
            raise ClauseFailure("SAFE-ATOMIC-002", f"a failed save changed the previous save "
                                f"(filename={filename}): {sorted(before)} -> {sorted(after)}",
                                ("SEL-SAVE-008",))


@check("SEL-SAVE-009", apis=("save_vars", "load_vars"))
def check_bool_complex_separate(ctx: CheckContext) -> None:
    """bool and complex values in separate files are written as FMT-REC defines (or refused cleanly)."""
    values = {"b": TensorValue(np.array([True, False])),
              "c": TensorValue(np.array([1 + 2j], dtype=np.complex64)),
              "z": TensorValue(np.array([3 - 1j], dtype=np.complex128))}
    for name, value in values.items():
        d = ctx.fresh_dir("o")
        out = ctx.run(program_of({name: value}), {name: value}, Call("save_vars", {
            "dirname": d, "filename": None, "vars": [name], "predicate": None}))
        if not out.ok:
            expect_error(out, "UNSUPPORTED_DTYPE", "SEL-SAVE-009", f"separate save of {name}")
            continue
        diag = diagnose_record(value_bytes(value), Path(d, name).read_bytes())
        if diag:
            raise fail("SEL-SAVE-009", f"{name}: {diag[1]}")


@check("SEL-PATH-001", apis=("load_vars",))
def check_unsafe_names_load(ctx: CheckContext) -> None:
    """A separate load of a variable whose name would leave dirname is UNSAFE_NAME."""
    t = TensorValue(np.ones(2, np.float32))
    for name in UNSAFE_NAMES:
        inner = os.path.join(ctx.fresh_dir("sandbox"), "in", "deep")
        os.makedirs(inner)
        out = ctx.run(ProgramSpec(vars=(var_for(name, t),)), {}, Call("load_vars", {
            "dirname": inner, "filename": None, "vars": [name], "predicate": None}))
        expect_error(out, ("UNSAFE_NAME",), "SEL-PATH-001", f"separate load of var {name!r}")


@check("SEL-PATH-002", "ERR-001", apis=("save_vars",))
def check_file_directory_clash(ctx: CheckContext) -> None:
    """A dirname that is a regular file, ``a`` and ``a/b`` together, or a target that is a
    directory, are UNSAFE_NAME (an error outside the taxonomy also breaks ERR-001)."""
    t = TensorValue(np.ones(2, np.float32))
    program = ProgramSpec(vars=(var_for("a", t), var_for("a/b", t)))
    for filename in (None, "all"):
        parent = ctx.fresh_dir("o")
        os.makedirs(parent)
        Path(parent, "file").write_bytes(b"")
        out = ctx.run(program, {"a": t}, Call("save_vars", {
            "dirname": os.path.join(parent, "file"), "filename": filename, "vars": ["a"],
            "predicate": None}))
        expect_error(out, "UNSAFE_NAME", "SEL-PATH-002",
                     f"a save (filename={filename}) under a dirname that is a regular file")
        require(Path(parent, "file").read_bytes() == b"", "SEL-PATH-002",
                "the regular file given as dirname was changed")
    d = ctx.fresh_dir("o")
    out = ctx.run(program, {"a": t, "a/b": t}, Call("save_vars", {
        "dirname": d, "filename": None, "vars": ["a", "a/b"], "predicate": None}))
    expect_error(out, "UNSAFE_NAME", "SEL-PATH-002", "separate save of 'a' and 'a/b'")
    require(not files_under(d), "SEL-PATH-002", f"wrote {sorted(files_under(d))} anyway")
    d = ctx.fresh_dir("o")
    os.makedirs(os.path.join(d, "a"))
    out = ctx.run(program, {"a": t}, Call("save_vars", {"dirname": d, "filename": None,
                                                        "vars": ["a"], "predicate": None}))
    expect_error(out, "UNSAFE_NAME", "SEL-PATH-002", "saving 'a' where dirname/a is a directory")


def _saved_dir(ctx: CheckContext, values: dict, filename: str | None = None) -> str:
    d = ctx.fresh_dir("src")
    os.makedirs(d)
    if filename is None:
        for n, v in values.items():
            Path(d, n).parent.mkdir(parents=True, exist_ok=True)
            Path(d, n).write_bytes(value_bytes(v))
    else:
        Path(d, filename).write_bytes(b"".join(value_bytes(values[n]) for n in sorted(values)))
    return d


@check("SEL-LOAD-001", "SEL-LOAD-003", apis=("load_vars",))
def check_missing_file(ctx: CheckContext) -> None:
    """A missing file is MISSING_FILE and the scope is left as it was."""
    a, b = TensorValue(np.arange(3, dtype=np.float32)), TensorValue(np.arange(4, dtype=np.int64))
    d = _saved_dir(ctx, {"a": a})
    program = program_of({"a": a, "b": b})
    before = {"a": TensorValue(np.full(3, 7, np.float32)), "b": TensorValue(np.full(4, 9, np.int64))}
    out = ctx.run(program, before, Call("load_vars", {"dirname": d, "filename": None,
                                                      "vars": ["a", "b"], "predicate": None}))
    expect_error(out, "MISSING_FILE", "SEL-LOAD-001", "separate load with b's file missing")
    expect_values(before, out.scope, "SEL-LOAD-003", "scope after a failed load")
    out = ctx.run(program, {}, Call("load_vars", {"dirname": d, "filename": "nope",
                                                  "vars": ["a", "b"], "predicate": None}))
    expect_error(out, "MISSING_FILE", "SEL-LOAD-001", "combined load of a missing file")


@check("SEL-LOAD-002", apis=("load_vars",))
def check_parameter_shapes(ctx: CheckContext) -> None:
    """Parameters are shape-checked (-1 matches anything); other variables are not."""
    value = TensorValue(np.arange(6, dtype=np.float32).reshape(3, 2))
    d = _saved_dir(ctx, {"w": value})
    for declared, param, ok in (((2, 3), True, False), ((3, 2, 1), True, False), ((-1, 2), True, True),
                                ((3, 2), True, True), ((1,), False, True), ((7, 7), False, True)):
        program = ProgramSpec(vars=(var_for("w", value, param=param, shape=declared),))
        out = ctx.run(program, {}, Call("load_vars", {"dirname": d, "filename": None,
                                                      "vars": ["w"], "predicate": None}))
        what = f"loading [3, 2] into {'Parameter' if param else 'variable'} declared {list(declared)}"
        if -1 in declared and out.error_id == "UNCLASSIFIED":
            continue  # the implementation cannot declare a Parameter with a -1 dim at all (Paddle)
        if ok:
            expect_ok(out, "SEL-LOAD-002", what)
            expect_values({"w": value}, out.scope, "SEL-LOAD-002", what)
        else:
            expect_error(out, "SHAPE_MISMATCH", "SEL-LOAD-002", what)


@check("SEL-LOAD-005", "SAFE-MISMATCH-001", apis=("load_vars",))
def check_record_dtype(ctx: CheckContext) -> None:
    """A combined record whose dtype differs from the declared one is DTYPE_MISMATCH; scope kept."""
    a = TensorValue(np.arange(2, dtype=np.int64))
    b = TensorValue(np.arange(2, dtype=np.float32))
    raw = record_bytes(a.array) + record_bytes(b.array)
    vars_ = [var_for("a", a, declared="float32"), var_for("b", b)]
    before = {"b": TensorValue(np.full(2, 4, np.float32))}
    out = load_combined(ctx, raw, vars_, scope=before)
    expect_error(out, "DTYPE_MISMATCH", "SEL-LOAD-005", "int64 record for a var declared float32")
    expect_values(before, out.scope, "SAFE-MISMATCH-001", "scope after a dtype mismatch")


@check("SEL-LOAD-006", "API-ARG-001", apis=("load_vars", "save_vars"))
def check_filename_empty_and_memory_args(ctx: CheckContext) -> None:
    """load_vars(filename='') reads separate files; memory mode without bytes is INVALID_ARGUMENT."""
    a = TensorValue(np.arange(3, dtype=np.float32))
    d = _saved_dir(ctx, {"a": a})
    program = program_of({"a": a})
    out = ctx.run(program, {}, Call("load_vars", {"dirname": d, "filename": "", "vars": ["a"],
                                                  "predicate": None}))
    expect_ok(out, "SEL-LOAD-006", "load_vars(filename='')")
    expect_values({"a": a}, out.scope, "SEL-LOAD-006", "load_vars(filename='')")
    out = ctx.run(program, {}, Call("load_vars", {"dirname": None, "filename": None, "vars": ["a"],
                                                  "predicate": None}))
    expect_error(out, "INVALID_ARGUMENT", "API-ARG-001", "load_vars(dirname=None) without bytes")


@check("SEL-LOAD-007", "SEL-LOAD-008", apis=("load_vars",))
def check_load_reads_declared_kind(ctx: CheckContext) -> None:
    """A SELECTED_ROWS var reads a SelectedRows record; a dense var keeps its LoD."""
    sr = SelectedRowsValue(np.arange(4, dtype=np.float32).reshape(2, 2), [4, 1], 6)
    t = TensorValue(np.arange(5, dtype=np.int32), [[0, 2, 5]])
    d = _saved_dir(ctx, {"sr": sr, "t": t})
    program = ProgramSpec(vars=(var_for("sr", sr), var_for("t", t)))
    out = ctx.run(program, {}, Call("load_vars", {"dirname": d, "filename": None,
                                                  "vars": ["sr", "t"], "predicate": None}))
    expect_ok(out, "SEL-LOAD-007", "separate load of a SelectedRows and a LoD tensor")
    expect_values({"sr": sr, "t": t}, out.scope, "SEL-LOAD-007", "declared-kind load")
    # An empty selection reads nothing (separate) or a stream of no records (combined, memory).
    keep = {"t": TensorValue(np.full(5, 3, np.int32), [[0, 5]])}
    empty = ctx.fresh_dir("e")
    os.makedirs(empty)
    Path(empty, "p").write_bytes(b"")
    for what, args in (("separate", {"dirname": d, "filename": None}),
                       ("combined", {"dirname": empty, "filename": "p"}),
                       ("memory", {"dirname": None, "filename": None, "memory": b""})):
        # Separate mode is SEL-LOAD-007 (MUST); combined and memory mode are SEL-LOAD-008
        # (SHOULD: Paddle 2.6.2's load_combine refuses to load 0 variables).
        clause = "SEL-LOAD-007" if what == "separate" else "SEL-LOAD-008"
        out = ctx.run(program, keep, Call("load_vars", {**args, "vars": [], "predicate": None}))
        expect_ok(out, clause, f"{what} load of an empty selection")
        expect_values(keep, out.scope, clause, f"scope after an empty {what} load",
                      written=False)


@check("SEL-SAVE-001", "SEL-LOAD-007", apis=_VARS_APIS, needs_oracle=True)
def check_interop_matrix(ctx: CheckContext) -> None:
    """What this implementation writes loads equal in the reference and every other implementation
    of the run, and the other way round (the cross-implementation matrix)."""
    partners = {a.name: a for a in [ctx.oracle, *ctx.peers] if a.name != ctx.impl.name}
    if not partners:
        from fluidspec.conformance._verdict import Skip

        raise Skip("no other implementation to exchange files with")
    matrix = ctx.extra.setdefault("matrix", {})
    pairs = [(w, r) for p in partners.values() for w, r in ((ctx.impl, p), (p, ctx.impl))]

    @ctx.given(fs.save_cases(layout=None, apis=("save_vars",), kinds=ctx.var_kinds))
    def prop(case: fs.SaveCase) -> None:
        chosen = {v.name for v in selected_vars(case.program, case.call) if v.kind != "RAW"}
        if not chosen:
            return
        for writer, reader in pairs:
            d = ctx.fresh_dir("x")
            call = _placed(case, d)
            saved = ctx.run(case.program, case.values, call, adapter=writer)
            if refused_by_sel_save_009(saved, case.values, call):
                continue  # this writer may refuse bool/complex separate files
            expect_ok(saved, "SEL-SAVE-001", f"{writer.name} {call.api}")
            memory = saved.memory if _layout(call) == "memory" else None
            back = ctx.run(case.program, {}, case.load_call(
                None if memory is not None else d, memory), adapter=reader)
            try:
                expect_ok(back, "SEL-LOAD-007", f"{reader.name} loading what {writer.name} wrote")
                expect_values({n: case.values[n] for n in chosen}, back.scope, None,
                              f"{writer.name} wrote, {reader.name} loaded")
            except ClauseFailure as exc:
                matrix[f"{writer.name} -> {reader.name}"] = "fail"
                # Charge this implementation only for its own part: bytes it wrote that differ
                # from the oracle's, or a failure to load a partner's correct bytes.  A partner's
                # bad bytes or failed load is the partner's failure (its own checks report it).
                try:
                    writer_at_fault(case.values, sorted(chosen), call, saved.result.get("memory"))
                except ClauseFailure as blame:
                    if writer is not ctx.impl:
                        continue
                    raise fail(blame.clause, f"{writer.name} -> {reader.name}: {blame.message}"
                               ) from None
                if reader is not ctx.impl:
                    continue
                raise fail(exc.clause, f"{writer.name} -> {reader.name}: {exc.message}") from None

    prop()
    for writer, reader in pairs:
        matrix.setdefault(f"{writer.name} -> {reader.name}", "pass")


@check("SEL-LOAD-004", apis=("load_vars",))
def check_combined_record_count(ctx: CheckContext) -> None:
    """One or more whole extra records, or fewer whole records than variables, is
    RECORD_COUNT_MISMATCH (SEL-LOAD-004); the other mismatches are FMT-SAFE-001's and
    FMT-COMB-002's."""
    for what, raw, vars_, error_id, clause in record_count_cases():
        if clause != "SEL-LOAD-004":
            continue
        for memory in (False, True):
            out = load_combined(ctx, raw, vars_, memory=memory)
            expect_error(out, error_id, "SEL-LOAD-004",
                         f"{what} ({'memory' if memory else 'file'})")


_DTYPES = {"a": np.float32, "b/c": np.int64, "é": np.float16, "Z9": np.uint8}


_NAMES = list(_DTYPES)


def _values(names: list[str]) -> st.SearchStrategy[dict[str, Value]]:
    return st.fixed_dictionaries({n: fs.tensor_values(dtype=np.dtype(_DTYPES[n]),
                                                      shape=None) for n in names})


class _Directory(RuleBasedStateMachine):
    """Operations on one directory and the model of what it holds; ``check_stateful_directory``
    subclasses it with the check's context (Hypothesis instantiates the machine itself)."""

    ctx: CheckContext
    program = ProgramSpec(vars=tuple(var_for(n, TensorValue(np.zeros(1, _DTYPES[n])), shape=(-1,))
                                     for n in _NAMES))

    def __init__(self) -> None:
        super().__init__()
        self.dir = self.ctx.fresh_dir("state")
        self.files: dict[str, Value] = {}  # separate file -> value it holds
        self.broken: set[str] = set()  # separate files cut short
        self.combined: dict[str, Value] | None = None

    def _save(self, values: dict[str, Value], filename: str | None) -> None:
        call = Call("save_vars", {"dirname": self.dir, "filename": filename,
                                  "vars": list(values), "predicate": None})
        out = self.ctx.run(self.program, values, call)
        expect_ok(out, "SEL-FILE-002" if filename else "SEL-FILE-001",
                  f"save of {sorted(values)} (filename={filename})")
        writer_at_fault(values, sorted(values), call, None)  # wrong bytes: say which clause

    @rule(names=st.lists(st.sampled_from(_NAMES), min_size=1, unique=True), data=st.data())
    def save_separate(self, names: list[str], data: st.DataObject) -> None:
        values = data.draw(_values(names))
        self._save(values, None)
        self.files.update(values)
        self.broken -= set(names)

    @rule(names=st.lists(st.sampled_from(_NAMES), min_size=1, unique=True), data=st.data())
    def save_combined(self, names: list[str], data: st.DataObject) -> None:
        values = data.draw(_values(names))
        self._save(values, "__params__")
        self.combined = values

    @rule(names=st.lists(st.sampled_from(_NAMES), min_size=1, unique=True))
    def load_separate(self, names: list[str]) -> None:
        out = self.ctx.run(self.program, {}, Call("load_vars", {"dirname": self.dir, "filename": None,
                                                      "vars": names, "predicate": None}))
        missing = [n for n in names if n not in self.files]
        cut = self.broken & set(names)
        if missing:  # with a cut file selected too, either problem may be reported first
            expect_error(out, ("MISSING_FILE", "TRUNCATED") if cut else "MISSING_FILE",
                         "SEL-LOAD-001", f"load of {names}, {missing} never saved or deleted")
        elif self.broken & set(names):
            expect_error(out, "TRUNCATED", "FMT-SAFE-001", f"load of {names} after cutting "
                         f"{sorted(self.broken & set(names))}")
        else:
            expect_ok(out, "SEL-FILE-001", f"load of {names}")
            expect_values({n: self.files[n] for n in names}, out.scope, None,
                          f"separate load of {names}")

    @rule(data=st.data())
    def load_combined(self, data: st.DataObject) -> None:
        if self.combined is None:
            return
        same = data.draw(st.booleans(), label="same names")
        names = list(self.combined) if same else data.draw(
            st.lists(st.sampled_from(_NAMES), min_size=1, unique=True), label="names")
        out = self.ctx.run(self.program, {}, Call("load_vars", {"dirname": self.dir,
                                                      "filename": "__params__",
                                                      "vars": names, "predicate": None}))
        if sorted(names) == sorted(self.combined):
            expect_ok(out, "SEL-FILE-002", f"combined load of {names}")
            expect_values(self.combined, out.scope, None, "combined load")
        elif len(names) != len(self.combined):
            require(not out.ok, "SEL-LOAD-004", f"combined load of {len(names)} names from a "
                    f"file of {len(self.combined)} records succeeded")

    @rule(name=st.sampled_from(_NAMES), data=st.data())
    def cut(self, name: str, data: st.DataObject) -> None:
        path = Path(self.dir, name)
        if name not in self.files or name in self.broken:
            return
        raw = path.read_bytes()
        path.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1), label="keep")])
        self.broken.add(name)

    @rule(name=st.sampled_from(_NAMES))
    def delete(self, name: str) -> None:
        if name in self.files:
            os.remove(Path(self.dir, name))
            del self.files[name]
            self.broken.discard(name)

    @invariant()
    def no_stray_files(self) -> None:
        if not os.path.isdir(self.dir):
            return
        found = {str(p.relative_to(self.dir)) for p in Path(self.dir).rglob("*") if p.is_file()}
        allowed = set(self.files) | ({"__params__"} if self.combined is not None else set())
        require(found <= allowed, "SEL-FILE-001", f"unexpected files {sorted(found - allowed)}")


@check("SEL-FILE-001", "SEL-FILE-002", "SEL-LOAD-001", "FMT-SAFE-001", "SEL-LOAD-004",
       apis=("save_vars", "load_vars"))
def check_stateful_directory(ctx: CheckContext) -> None:
    """Random save/overwrite/load/corrupt/delete sequences agree with a model of the directory."""
    prof = PROFILES[ctx.profile]
    machine = type("Directory", (_Directory,), {"ctx": ctx})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=max(2, prof["max_examples"] // 2),
        stateful_step_count=12 if ctx.profile != "quick" else 8,
        derandomize=prof["derandomize"], deadline=None, database=None,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate]
        + ([Phase.shrink] if prof.get("shrink", True) else [])))


register_vectors("SEL")


@check("SEL-CAND-002", apis=("save_vars", "load_vars"))
def check_vars_beat_predicate(ctx: CheckContext) -> None:
    """With both ``vars`` and ``predicate`` given, exactly ``vars`` is saved and loaded; the
    predicate is not applied on top of it, nor instead of it."""
    a, p = TensorValue(np.arange(3, dtype=np.float32)), TensorValue(np.ones(2, np.int64))
    program = program_of({"a": a, "p": p}, params=("p",))
    for vars_, predicate in ((["a"], "is_parameter"), (["p"], {"names": ["a"]})):
        d = ctx.fresh_dir("o")
        out = ctx.run(program, {"a": a, "p": p}, Call("save_vars", {
            "dirname": d, "filename": None, "vars": vars_, "predicate": predicate}))
        what = f"vars={vars_} with predicate={predicate}"
        expect_ok(out, "SEL-CAND-002", f"save_vars {what}")
        require(files_under(d) == set(vars_), "SEL-CAND-002",
                f"save_vars {what} wrote {sorted(files_under(d))}")
        # The load reads files the check writes, so a wrong writer is not charged here.
        d = ctx.fresh_dir("in")
        os.makedirs(d)
        for name, value in (("a", a), ("p", p)):
            Path(d, name).write_bytes(record_bytes(value.array))
        other = "p" if vars_ == ["a"] else "a"
        kept = TensorValue(np.full(3 if other == "a" else 2, 7,
                                   np.float32 if other == "a" else np.int64))
        back = ctx.run(program, {other: kept}, Call("load_vars", {
            "dirname": d, "filename": None, "vars": vars_, "predicate": predicate}))
        expect_ok(back, "SEL-CAND-002", f"load_vars {what}")
        expect_values({vars_[0]: {"a": a, "p": p}[vars_[0]], other: kept}, back.scope,
                      "SEL-CAND-002", f"load_vars {what}")


_HOLDER_KINDS = ("FEED_MINIBATCH", "FETCH_LIST", "READER")


@check("SEL-CAND-003", apis=("save_persistables", "load_persistables", "save_vars"))
def check_is_persistable_skips_holders(ctx: CheckContext) -> None:
    """Persistable feed, fetch and reader holders are not persistables: saving and loading
    persistables of a program that has them touches the tensor only, and does not fail."""
    a = TensorValue(np.arange(4, dtype=np.float32))
    holders = tuple(VarSpec(k.lower(), kind=k, dtype=None, shape=None, persistable=True)
                    for k in _HOLDER_KINDS)
    program = ProgramSpec(vars=(var_for("a", a), *holders))
    for api, args in (("save_persistables", {}), ("save_vars", {"vars": None,
                                                                 "predicate": "is_persistable"})):
        d = ctx.fresh_dir("o")
        out = ctx.run(program, {"a": a}, Call(api, {"dirname": d, "filename": None, **args}))
        expect_ok(out, "SEL-CAND-003", f"{api} of a program with persistable {_HOLDER_KINDS}")
        require(files_under(d) == {"a"}, "SEL-CAND-003",
                f"{api} wrote {sorted(files_under(d))}, expected only ['a']")
    # Loading reads the suite's own record: the bytes are the format chapter's business.
    d = ctx.fresh_dir("in")
    os.makedirs(d)
    Path(d, "a").write_bytes(record_bytes(a.array))
    kept = TensorValue(np.zeros(4, np.float32))
    back = ctx.run(program, {"a": kept}, Call("load_persistables", {"dirname": d,
                                                                    "filename": None}))
    expect_ok(back, "SEL-CAND-003", f"load_persistables of a program with {_HOLDER_KINDS}")
    expect_values({"a": a}, back.scope, "SEL-CAND-003", "load_persistables")


@check("SEL-SAVE-007", "SEL-SAVE-003", apis=("load_vars",))
def check_unsupported_kinds_on_load(ctx: CheckContext) -> None:
    """Loading refuses the kinds saving refuses (before reading or changing anything), and skips
    RAW variables the way saving does."""
    a = TensorValue(np.arange(3, dtype=np.float32))
    d = ctx.fresh_dir("in")
    os.makedirs(d)
    Path(d, "a").write_bytes(record_bytes(a.array))
    kept = TensorValue(np.full(3, 9, np.float32))
    for kind in ("FEED_MINIBATCH", "FETCH_LIST", "READER", "LOD_TENSOR_ARRAY", "STEP_SCOPES"):
        program = ProgramSpec(vars=(var_for("a", a), VarSpec("z", kind=kind, dtype=None,
                                                             shape=None, persistable=True)))
        out = ctx.run(program, {"a": kept}, Call("load_vars", {
            "dirname": d, "filename": None, "vars": ["a", "z"], "predicate": None}))
        expect_error(out, "UNSUPPORTED_VAR_TYPE", "SEL-SAVE-007", f"load_vars of [a, a {kind}]")
        expect_values({"a": kept}, out.scope, "SEL-LOAD-003", f"a failed load with a {kind}")
    program = ProgramSpec(vars=(var_for("a", a), VarSpec("r", kind="RAW", dtype=None, shape=None,
                                                         persistable=True)))
    out = ctx.run(program, {"a": kept}, Call("load_vars", {
        "dirname": d, "filename": None, "vars": ["r", "a"], "predicate": None}))
    expect_ok(out, "SEL-SAVE-003", "load_vars of [a RAW, a] (the RAW one has no file)")
    expect_values({"a": a}, out.scope, "SEL-SAVE-003", "load_vars of [RAW, a]")


@check("SEL-FILE-001", apis=("save_vars", "load_vars"))
def check_slash_names_make_directories(ctx: CheckContext) -> None:
    """'/' in a name separates directories: the files are exactly dirname/<name>, no flattened
    or escaped name, and they load back by the same names."""
    values = {n: TensorValue(np.full(2, i, np.int32))
              for i, n in enumerate(("enc/layer.0/w", "enc/b", "top", "x y.é"))}
    d = save_separate(ctx, values, clause="SEL-FILE-001")
    require(files_under(d) == set(values), "SEL-FILE-001",
            f"separate files {sorted(files_under(d))}, expected {sorted(values)}")


def _error_id_of(fn: Any) -> str | None:
    """The taxonomy id ``fn()`` raised, ``"ok"`` when it returned, else the exception's type."""
    try:
        fn()
    except Exception as exc:
        return getattr(exc, "id", None) or type(exc).__name__
    return "ok"


@check("SEL-CAND-001", apis=("save_vars", "load_vars", "save_persistables"),
       needs=("fluid_objects",))
def check_main_program_defaults(ctx: CheckContext) -> None:
    """main_program=None means default_main_program() (under program_guard, the guarded one) for
    saves and loads; a main_program that is not a Program is INVALID_ARGUMENT, also with vars."""
    fluid, io = python_api(ctx)
    main, startup = fluid.Program(), fluid.Program()
    scope = fluid.Scope()
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    d = ctx.fresh_dir("o")
    with fluid.program_guard(main, startup), fluid.scope_guard(scope):
        var = main.global_block().create_var(name="a", shape=[2, 3], dtype="float32",
                                             persistable=True)
        scope.var("a").get_tensor().set(a, fluid.CPUPlace())
        exe = fluid.Executor(fluid.CPUPlace())
        io.save_persistables(exe, d)
        require(files_under(d) == {"a"}, "SEL-CAND-001",
                f"save_persistables(main_program=None) under program_guard wrote "
                f"{sorted(files_under(d))}, expected ['a']")
        scope.var("a").get_tensor().set(np.zeros((2, 3), np.float32), fluid.CPUPlace())
        io.load_vars(exe, d, predicate=io.is_persistable)
        got = np.array(scope.find_var("a").get_tensor())
        require(got.tolist() == a.tolist(), "SEL-CAND-001",
                f"load_vars(main_program=None) loaded {got.tolist()}, expected {a.tolist()}")
        for api in (io.save_vars, io.load_vars):
            found = _error_id_of(lambda api=api: api(exe, d, main_program="main", vars=[var]))
            require(found == "INVALID_ARGUMENT", "SEL-CAND-001",
                    f"{api.__name__}(main_program='main', vars=[a]) gave {found}, "
                    f"expected INVALID_ARGUMENT")


@check("SEL-LOAD-003", apis=("load_vars",))
def check_failed_load_leaves_scope(ctx: CheckContext) -> None:
    """A load that fails on its 3rd record — bad version, or cut short in the data — changes no
    value, not even those of the 1st and 2nd, in separate files, a combined file and memory.  The
    records are big (over 1 MiB) and match the scope's tensors in dtype and shape: that is where a
    reader is tempted to read straight into the scope's tensors."""
    n = (1 << 20) // 4 + 16
    values = {k: TensorValue(np.full(n, i + 1, np.float32)) for i, k in enumerate("abc")}
    kept = {k: TensorValue(np.full(n, -7, np.float32)) for k in values}
    specs = [var_for(k, v) for k, v in values.items()]
    good = {k: record_bytes(v.array) for k, v in values.items()}
    # A load that accepts the bad record breaks the format rule first.
    bad = {"bad version": (b"\1" + good["c"][1:], "FMT-REC-001"),
           "cut data": (good["c"][:-4], "FMT-SAFE-001")}
    program = ProgramSpec(vars=tuple(specs))
    for what, (third, refused_by) in bad.items():
        d = ctx.fresh_dir("in")
        os.makedirs(d)
        for k in "ab":
            Path(d, k).write_bytes(good[k])
        Path(d, "c").write_bytes(third)
        outs = {"separate files": ctx.run(program, kept, Call("load_vars", {
            "dirname": d, "filename": None, "vars": list(values), "predicate": None}))}
        stream = good["a"] + good["b"] + third
        for memory in (False, True):
            outs["memory" if memory else "a combined file"] = load_combined(
                ctx, stream, specs, memory=memory, scope=kept)
        for mode, out in outs.items():
            require(not out.ok, refused_by, f"{mode}: a load whose 3rd record has a {what} "
                                            f"succeeded")
            expect_values(kept, out.scope, "SEL-LOAD-003",
                          f"{mode}: the scope after a load failing on the 3rd record ({what})")


# The four wrappers in every mode.  The properties above draw the API and the layout, so a
# wrapper that ignores its filename or memory argument could slip through a small profile;
# these two checks call each wrapper in each mode with fixed values, and compare with bytes
# the spec computes.

def _wrapper_program() -> tuple[ProgramSpec, dict[str, Value]]:
    """A Parameter ``w``, a persistable ``m`` and a non-persistable ``x``."""
    values: dict[str, Value] = {
        "w": TensorValue(np.arange(4, dtype=np.float32).reshape(2, 2)),
        "m": TensorValue(np.array([7, -8, 9], dtype=np.int64)),
        "x": TensorValue(np.array([0.5, 1.5], dtype=np.float64)),
    }
    program = ProgramSpec(vars=(var_for("w", values["w"], param=True), var_for("m", values["m"]),
                                replace(var_for("x", values["x"]), persistable=False)))
    return program, values


_WRAPPER_SELECTS = {"params": ["w"], "persistables": ["m", "w"]}
_WRAPPER_MODES = (("separate", None), ("combined", "all.bin"), ("memory", None))


@check("SEL-CAND-003", "SEL-SAVE-001", "SEL-FILE-001", "SEL-FILE-002", "SEL-FILE-003",
       apis=("save_params", "save_persistables"))
def check_save_wrappers_in_every_mode(ctx: CheckContext) -> None:
    """save_params / save_persistables write their selection separately, into the named combined
    file, or to memory, byte for byte as the spec computes."""
    program, values = _wrapper_program()
    for which, names in _WRAPPER_SELECTS.items():
        api = f"save_{which}"
        records = {n: value_bytes(values[n]) for n in names}
        for mode, filename in _WRAPPER_MODES:
            d = ctx.fresh_dir("w")
            out = ctx.run(program, values, Call(api, {
                "dirname": None if mode == "memory" else d, "filename": filename}))
            what = f"{api} ({mode}{f', filename={filename!r}' if filename else ''})"
            expect_ok(out, "SEL-SAVE-001", what)
            written = files_under(d)
            if mode == "separate":
                require(written == set(names), "SEL-CAND-003" if written else "SEL-FILE-001",
                        f"{what} wrote {sorted(written)}, expected {names}")
                for n in names:
                    diag = diagnose_record(records[n], Path(d, n).read_bytes())
                    if diag:
                        raise fail(diag[0], f"{what}: file {n!r}: {diag[1]}")
                continue
            if mode == "combined":
                require(written == {filename}, "SEL-FILE-002",
                        f"{what} wrote {sorted(written)}, expected only {filename!r}")
                found = Path(d, filename).read_bytes()
            else:
                require(not written and out.result.get("memory") is not None, "SEL-FILE-003",
                        f"{what} wrote files {sorted(written)} and returned "
                        f"{'no bytes' if out.result.get('memory') is None else 'bytes'}")
                found = out.memory
            diag = diagnose_combined(records, found)
            if diag:
                raise fail("SEL-CAND-003" if diag[0] in ("FMT-REC-006", "FMT-COMB-002")
                           else diag[0], f"{what}: {diag[1]}")


@check("SEL-CAND-003", "SEL-SAVE-001", "SEL-FILE-002", "SEL-FILE-003",
       apis=("load_params", "load_persistables"))
def check_load_wrappers_in_every_mode(ctx: CheckContext) -> None:
    """load_params / load_persistables read separate files, the named combined file, or the given
    bytes, and set exactly their selection."""
    program, values = _wrapper_program()
    for which, names in _WRAPPER_SELECTS.items():
        api = f"load_{which}"
        stream = b"".join(value_bytes(values[n]) for n in sorted(names))
        for mode, filename in _WRAPPER_MODES:
            d = ctx.fresh_dir("w")
            os.makedirs(d)
            args: dict[str, Any] = {"dirname": d, "filename": filename}
            if mode == "separate":
                for n in names:
                    Path(d, n).write_bytes(value_bytes(values[n]))
            elif mode == "combined":
                Path(d, filename).write_bytes(stream)
            else:
                args = {"dirname": None, "filename": None, "memory": stream}
            what = f"{api} ({mode}{f', filename={filename!r}' if filename else ''})"
            back = ctx.run(program, {}, Call(api, args))
            expect_ok(back, "SEL-SAVE-001" if mode == "separate" else
                      "SEL-FILE-002" if mode == "combined" else "SEL-FILE-003", what)
            expect_values({n: values[n] for n in names}, back.scope, "SEL-CAND-003", what)
            extra = sorted(set(back.scope) - set(names))
            require(not extra, "SEL-CAND-003", f"{what} also set {extra}")
