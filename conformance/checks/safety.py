"""Checks of safe handling of hostile names, sizes and partial writes
(spec/chapters/safety.md, SAFE-*): names that would leave the directory, files replaced by
rename, record-count mismatches that must leave the scope unchanged, and sizes beyond 2**32.
"""

from __future__ import annotations

import os
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.conformance._adapter import AdapterUnavailable
from fluidspec.conformance._case import (
    Call,
    ProgramSpec,
    TensorValue,
    Value,
)
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._helpers import (
    UNSAFE_NAMES,
    expect_error,
    expect_ok,
    expect_values,
    files_under,
    load_combined,
    load_file,
    program_of,
    save_separate,
    tiny_inference_case,
    var_for,
)
from fluidspec.conformance._oracle import (
    record_bytes,
    varint,
)
from fluidspec.conformance._registry import check
from fluidspec.conformance._subprocess import SubprocessAdapter
from fluidspec.conformance._vector_replay import register_vectors
from fluidspec.conformance._verdict import ClauseFailure, Skip, fail, require


@check("SAFE-ATOMIC-001", apis=("save_vars",))
def check_overwrite_by_rename(ctx: CheckContext) -> None:
    """An existing file is replaced by writing aside and renaming (a new inode), leaving no
    temporary files."""
    a1, a2 = TensorValue(np.ones(3, np.float32)), TensorValue(np.zeros(3, np.float32))
    program = ProgramSpec(vars=(var_for("a", a1),))
    for filename in (None, "p"):
        d = ctx.fresh_dir("o")
        first = ctx.run(program, {"a": a1}, Call("save_vars", {"dirname": d, "filename": filename,
                                                               "vars": ["a"], "predicate": None}))
        expect_ok(first, "SEL-SAVE-001", "first save")  # an ordinary save
        before = files_under(d)
        target = Path(d, filename or "a")
        inode = target.stat().st_ino
        again = ctx.run(program, {"a": a2}, Call("save_vars", {"dirname": d, "filename": filename,
                                                               "vars": ["a"], "predicate": None}))
        expect_ok(again, "SEL-SAVE-001", "overwriting save")  # an ordinary save
        require(target.stat().st_ino != inode, "SAFE-ATOMIC-001",
                f"{target.name} was rewritten in place (same inode), not written aside and renamed")
        require(files_under(d) == before, "SAFE-ATOMIC-001",
                f"temporary files left behind: {sorted(files_under(d) - set(before))}")


@check("SAFE-PATH-001", "SAFE-PATH-002", apis=("save_vars",))
def check_unsafe_names(ctx: CheckContext) -> None:
    """Names that would leave dirname are UNSAFE_NAME on save, and nothing lands outside.

    Both clauses are judged on every save: a save that writes outside dirname breaks
    SAFE-PATH-002 whatever it returned (and SAFE-PATH-001 too when it did not refuse)."""
    t = TensorValue(np.ones(2, np.float32))
    abs_existed = os.path.exists("/abs_name")
    for name in UNSAFE_NAMES:
        sandbox = ctx.fresh_dir("sandbox")
        inner = os.path.join(sandbox, "in", "deep")
        os.makedirs(inner)
        program = ProgramSpec(vars=(var_for(name, t),))
        out = ctx.run(program, {name: t}, Call("save_vars", {"dirname": inner, "filename": None,
                                                             "vars": [name], "predicate": None}))
        also = () if not out.ok and out.error_id == "UNSAFE_NAME" else ("SAFE-PATH-001",)
        if name == "/abs_name" and not abs_existed and os.path.exists("/abs_name"):
            os.remove("/abs_name")  # we are often root: undo the damage before reporting it
            raise ClauseFailure("SAFE-PATH-002", "saving var '/abs_name' created the file "
                                                 "/abs_name", also)
        outside = files_under(sandbox)
        if outside:
            raise ClauseFailure("SAFE-PATH-002", f"saving {name!r} wrote {sorted(outside)} "
                                                 f"({out.describe()[:120]})", also)
        expect_error(out, "UNSAFE_NAME", "SAFE-PATH-001", f"separate save of var {name!r}")


@check("SAFE-PATH-003", apis=("save_vars",))
def check_unsafe_filenames(ctx: CheckContext) -> None:
    """A combined ``filename`` that would leave dirname is UNSAFE_NAME."""
    t = TensorValue(np.ones(2, np.float32))
    for filename in ("../escape", "/abs_params", "a/../../b", ".", "x\x00y"):
        sandbox = ctx.fresh_dir("sandbox")
        inner = os.path.join(sandbox, "in", "deep")
        os.makedirs(inner)
        out = ctx.run(program_of({"t": t}), {"t": t}, Call("save_vars", {
            "dirname": inner, "filename": filename, "vars": ["t"], "predicate": None}))
        expect_error(out, "UNSAFE_NAME", "SAFE-PATH-003", f"combined save to filename {filename!r}")
        require(not files_under(sandbox), "SAFE-PATH-002",
                f"filename {filename!r} wrote {sorted(files_under(sandbox))}")


@check("SAFE-MISMATCH-001", "SEL-LOAD-003", apis=("load_vars",))
def check_record_count(ctx: CheckContext) -> None:
    """A combined stream with more or fewer records than names changes nothing in the scope.

    Which error it is (SEL-LOAD-004) is judged by ``checks.selection.check_combined_record_count``;
    here only that the load fails and the scope keeps its values."""
    vals = {n: TensorValue(np.arange(2, dtype=np.float32) + i) for i, n in enumerate("abc")}
    raw = b"".join(record_bytes(vals[n].array) for n in "abc")
    before = {"a": TensorValue(np.full(2, 5, np.float32)), "b": TensorValue(np.full(2, 6, np.float32))}
    for names, blob, what in ((["a", "b"], raw, "3 records for 2 variables"),
                              (["a", "b", "c"], raw[: 2 * len(raw) // 3], "2 records for 3 variables")):
        vars_ = [var_for(n, vals[n]) for n in names]
        out = load_combined(ctx, blob, vars_, scope=before)
        require(not out.ok, "SEL-LOAD-004", f"{what}: loaded")
        expect_values(before, out.scope, "SAFE-MISMATCH-001", f"scope after {what}")


@check("SAFE-LARGE-001", apis=("save_vars", "load_vars"))
def check_64bit_sizes(ctx: CheckContext) -> None:
    """Dims and LoD offsets at 2**31, 2**32 + 1 and 2**33 + 5 (past i32, u32 and both) survive a
    round trip through separate files and a combined stream, file and memory (zero-size, so
    nothing to allocate)."""
    values = {f"t{i}": TensorValue(np.zeros((big, 0), dtype=np.float32), [[0, 1, big]])
              for i, big in enumerate((1 << 31, (1 << 32) + 1, (1 << 33) + 5))}
    d = save_separate(ctx, values, clause="SAFE-LARGE-001")
    for name, value in values.items():
        raw = Path(d, name).read_bytes()
        if raw != record_bytes(value.array, value.lod):
            raise fail("SAFE-LARGE-001", f"record with a {value.array.shape[0]} dim differs: "
                                         f"{raw.hex()}")
        out = load_file(ctx, raw, var=var_for("t", value, shape=(-1, 0)))
        expect_ok(out, "SAFE-LARGE-001", f"loading a record with a {value.array.shape[0]} dim")
        expect_values({"t": value}, out.scope, "SAFE-LARGE-001", "64-bit dim round trip")
    specs = [var_for(n, v, shape=(-1, 0)) for n, v in values.items()]
    stream = b"".join(record_bytes(values[n].array, values[n].lod) for n in sorted(values))
    saved = ctx.run(ProgramSpec(vars=tuple(specs)), values, Call("save_vars", {
        "dirname": None, "filename": None, "vars": list(values), "predicate": None}))
    expect_ok(saved, "SAFE-LARGE-001", "memory save of records with dims past 2**31")
    require(saved.result.get("memory") == stream, "SAFE-LARGE-001",
            "the memory save of records with dims past 2**31 differs from the records")
    for memory in (False, True):
        out = load_combined(ctx, stream, specs, memory=memory)
        expect_ok(out, "SAFE-LARGE-001", f"combined load ({'memory' if memory else 'file'}) "
                                         f"of dims past 2**31")
        expect_values(values, out.scope, "SAFE-LARGE-001", "64-bit combined round trip")


@check("SAFE-LARGE-002", apis=("load_inference_model",))
def check_inference_huge_model(ctx: CheckContext) -> None:
    """A __model__ over 64 MiB (a 65 MiB string attribute) loads."""
    from fluidspec.spec.framework_pb2 import ProgramDesc

    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    out = ctx.run(program, values, call)
    if not out.ok:
        raise Skip("save_inference_model failed; INF checks report it")
    path = Path(call.get("dirname"), "__model__")
    desc = ProgramDesc.FromString(path.read_bytes())
    op = next(o for o in desc.blocks[0].ops if o.type == "mul")
    attr = op.attrs.add()
    attr.name, attr.type, attr.s = "huge_note", 2, "x" * (65 << 20)  # AttrType.STRING
    path.write_bytes(desc.SerializeToString())
    back = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": call.get("dirname"), "model_filename": None, "params_filename": None}))
    expect_ok(back, "SAFE-LARGE-002", f"a __model__ of {path.stat().st_size >> 20} MiB")
    require(back.result.get("feed_target_names") == ["x"], "SAFE-LARGE-002",
            "the large model loaded with other feeds")


register_vectors("SAFE")


def _writers(ctx: CheckContext, count: int) -> list[Any]:
    """``count`` writers that run at the same time: fresh servers of the same command for an
    implementation behind the protocol (separate processes), else the one in-process adapter
    driven from ``count`` threads (threads of one process).  Both are SAFE-CONC-001 cases."""
    if isinstance(ctx.impl, SubprocessAdapter):
        return [ctx.impl.another(f"{ctx.impl.name}#{i}") for i in range(count)]
    return [ctx.impl] * count


@check("SAFE-CONC-001", apis=("save_vars",))
def check_concurrent_saves(ctx: CheckContext) -> None:
    """Writers saving distinct variables into one directory at the same time: every file they
    name ends up complete with its own bytes, and no save fails because of another."""
    writers_count, rounds = (4, 6) if ctx.profile in ("ci", "quick") else (8, 40)
    d, solo = ctx.fresh_dir("conc"), ctx.fresh_dir("solo")
    os.makedirs(d)
    jobs: list[list[tuple[ProgramSpec, dict[str, Value], Call]]] = []
    for w in range(writers_count):
        mine = []
        for r in range(rounds):
            # Distinct values per (writer, round), big enough that writes overlap in time.
            a = TensorValue(np.full(4096, w * 1000 + r, np.float32))
            b = TensorValue(np.arange(1024, dtype=np.int64) + (w * 1000 + r))
            names = (f"w{w}_r{r}_a", f"w{w}_r{r}_b")
            values = dict(zip(names, (a, b), strict=True))
            program = ProgramSpec(vars=tuple(var_for(n, v) for n, v in values.items()))
            for filename in (None, f"w{w}_r{r}_combined"):
                mine.append((program, values, Call("save_vars", {
                    "dirname": d, "filename": filename, "vars": list(names), "predicate": None})))
        jobs.append(mine)
    # What each save writes when it runs alone is the yardstick: this clause is about what
    # writers do to each other, the bytes themselves are the format chapter's business.
    for program, values, call in (job for mine in jobs for job in mine):
        alone = ctx.run(program, values, Call("save_vars", {**call.args, "dirname": solo}))
        expect_ok(alone, "SEL-SAVE-001", "a save on its own")
    expected = {name: Path(solo, name).read_bytes() for name in files_under(solo)}
    writers = _writers(ctx, writers_count)
    ctx.last_case = {"impl": ctx.impl.name, "program": jobs[0][0][0],
                     "scope": dict(jobs[0][0][1]), "call": jobs[0][0][2]}

    def write_all(adapter: Any, mine: list[tuple[ProgramSpec, dict[str, Value], Call]]
                  ) -> list[str]:
        problems = []
        for program, values, call in mine:
            out = adapter.run(program, values, call)
            ctx.reached += 1
            if not out.ok:
                err = out.error or {}
                problems.append(f"save of {call.get('filename') or list(values)} failed with "
                                f"{err.get('error')}: {str(err.get('message', ''))[:200]}")
        return problems

    try:
        with ThreadPoolExecutor(writers_count) as pool:
            futures = [pool.submit(write_all, a, mine) for a, mine in zip(writers, jobs, strict=True)]
            problems = [p for f in futures for p in f.result()]
    except AdapterUnavailable as exc:
        raise Skip(str(exc)) from None
    finally:
        if writers[0] is not ctx.impl:
            for a in writers:
                a.close()
    require(not problems, "SAFE-CONC-001",
            f"{len(problems)} of {sum(map(len, jobs))} concurrent saves failed; first: "
            f"{problems[:1]}")
    lost = sorted(n for n in expected if not os.path.isfile(os.path.join(d, n)))
    require(not lost, "SAFE-CONC-001", f"files lost by concurrent saves: {lost[:5]} "
                                       f"({len(lost)} of {len(expected)})")
    wrong = sorted(n for n, blob in expected.items() if Path(d, n).read_bytes() != blob)
    require(not wrong, "SAFE-CONC-001",
            f"files holding other bytes than their own save wrote (another writer's, or a mix): "
            f"{wrong[:5]} ({len(wrong)} of {len(expected)})")
    left = sorted(files_under(d) - set(expected))
    require(not left, "SAFE-ATOMIC-001", f"temporary files left behind: {left[:5]}")


@check("SAFE-PATH-001", apis=("load_vars", "load_persistables", "load_inference_model"))
def check_unsafe_names_on_load(ctx: CheckContext) -> None:
    """Loads apply the name rules too: a variable named '../outside' is UNSAFE_NAME for
    load_vars, load_persistables and load_inference_model (whose names come from the model file),
    even when dirname/../outside exists and holds a valid record; the scope is left alone."""
    from fluidspec.spec.framework_pb2 import ProgramDesc, VarType

    t = TensorValue(np.arange(3, dtype=np.float32))
    name = "../outside"
    sandbox = ctx.fresh_dir("sandbox")
    inner = os.path.join(sandbox, "in")
    os.makedirs(inner)
    Path(sandbox, "outside").write_bytes(record_bytes(t.array))
    program = ProgramSpec(vars=(var_for(name, t),))
    for api, args in (("load_vars", {"vars": [name], "predicate": None}),
                      ("load_persistables", {})):
        out = ctx.run(program, {}, Call(api, {"dirname": inner, "filename": None, **args}))
        expect_error(out, "UNSAFE_NAME", "SAFE-PATH-001", f"{api} of var {name!r}")
        require(name not in out.scope, "SEL-LOAD-003", f"{api} of {name!r} set a value")
    desc = ProgramDesc()
    block = desc.blocks.add(idx=0, parent_idx=-1)
    var = block.vars.add(name=name, persistable=True)
    var.type.type = VarType.LOD_TENSOR
    var.type.lod_tensor.tensor.data_type = VarType.FP32
    var.type.lod_tensor.tensor.dims.append(3)
    Path(inner, "__model__").write_bytes(desc.SerializeToString())
    out = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": inner, "model_filename": None, "params_filename": None}))
    expect_error(out, "UNSAFE_NAME", "SAFE-PATH-001",
                 f"load_inference_model of a model whose persistable is named {name!r}")


@check("SAFE-MISMATCH-001", apis=("load_vars",))
def check_mismatch_order(ctx: CheckContext) -> None:
    """With several things wrong, the count is reported before a dtype, and a dtype before a
    Parameter's shape — whichever record each is found in — from a file and from memory."""
    f32 = TensorValue(np.arange(4, dtype=np.float32))
    i32 = TensorValue(np.arange(4, dtype=np.int32))
    two_f32 = record_bytes(f32.array) * 2
    # 3 variables, 2 whole records; the first record's dtype is not a's.
    short = ([var_for("a", i32), var_for("b", f32), var_for("c", f32)], two_f32,
             "RECORD_COUNT_MISMATCH", "2 float32 records for [a int32, b, c]")
    # 2 records for 2 variables: a is a Parameter declared [9] (shape wrong), b is declared int32.
    typed = ([var_for("a", f32, param=True, shape=(9,)), var_for("b", i32)], two_f32,
             "DTYPE_MISMATCH", "a float32 record for b int32 after a Parameter a of another shape")
    for vars_, blob, want, what in (short, typed):
        for memory in (False, True):
            out = load_combined(ctx, blob, vars_, memory=memory)
            expect_error(out, want, "SAFE-MISMATCH-001",
                         f"{what} ({'memory' if memory else 'file'})")


def _peak_of(run: Any) -> tuple[Any, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        out = run()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@check("SAFE-MEM-001", apis=("load_vars",), needs=("fluid_objects",))
def check_whole_load_memory(ctx: CheckContext) -> None:
    """A whole load of 8 MiB (combined file, memory, separate files) allocates at most the bytes
    read plus the values plus 1 MiB — plus the values once more, for the adapter's copy of the
    scope it reports; a combined stream whose last record claims 2**40 elements fails having
    allocated at most the bytes read plus 1 MiB.  Measured in-process only."""
    from fluidspec.conformance._adapter import FluidAdapter

    if not isinstance(ctx.impl, FluidAdapter):
        raise Skip("allocation is measured only for in-process Python implementations")
    n, mib = 1 << 20, 1 << 20
    values = {k: TensorValue(np.full(n, i, np.float32)) for i, k in enumerate("ab")}
    specs = [var_for(k, v) for k, v in values.items()]
    records = {k: record_bytes(v.array) for k, v in values.items()}
    stream = records["a"] + records["b"]
    d = ctx.fresh_dir("in")
    os.makedirs(d)
    for k, raw in records.items():
        Path(d, k).write_bytes(raw)
    Path(d, "__params__").write_bytes(stream)
    nbytes = 8 * n
    program = ProgramSpec(vars=tuple(specs))
    for mode, args, read in (
            ("a combined file", {"dirname": d, "filename": "__params__"}, len(stream)),
            ("memory", {"dirname": None, "filename": None, "memory": stream}, 0),
            ("separate files", {"dirname": d, "filename": None}, len(stream))):
        call = Call("load_vars", {"vars": list(values), "predicate": None, **args})
        ctx.run(program, {}, call)  # first: what a first call loads or compiles is not the load's
        out, peak = _peak_of(lambda call=call: ctx.run(program, {}, call))
        expect_ok(out, "SAFE-MEM-001", f"load from {mode}")
        require(peak <= read + 2 * nbytes + mib, "SAFE-MEM-001",
                f"a load of {nbytes} bytes of values from {mode} peaked at {peak} bytes")
    desc = b"\x08\x05\x10" + varint(1 << 40)  # float32, one dim of 2**40
    lying = records["a"] + struct.pack("<IQIi", 0, 0, 0, len(desc)) + desc + bytes(16)
    for memory in (False, True):
        load_combined(ctx, lying, [specs[0], var_for("z", values["b"])], memory=memory)
        out, peak = _peak_of(lambda memory=memory: load_combined(
            ctx, lying, [specs[0], var_for("z", values["b"])], memory=memory))
        require(not out.ok, "FMT-SAFE-001", "a last record claiming 2**40 elements loaded")
        require(peak <= (0 if memory else len(lying)) + mib, "SAFE-MEM-001",
                f"a failed load of {len(lying)} bytes ({'memory' if memory else 'file'}) whose "
                f"last record claims 2**40 elements peaked at {peak} bytes")
