"""Checks of inference models (spec/chapters/inference.md, INF-*).

The saved ``__model__`` is read with fluidspec's generated bindings (``spec.framework_pb2``) —
the schema, not any implementation — and checked op by op.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from fluidspec.conformance import strategies as fs
from fluidspec.conformance._case import Call, OpSpec, ProgramSpec, TensorValue, Value, VarSpec
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._helpers import (
    expect_error,
    expect_ok,
    expect_refused,
    expect_values,
    files_under,
    python_api,
    tiny_inference_case,
    var_for,
)
from fluidspec.conformance._oracle import record_bytes
from fluidspec.conformance._registry import check
from fluidspec.conformance._vector_replay import register_vectors
from fluidspec.conformance._verdict import fail, require

_INF = ("save_inference_model", "load_inference_model")


class InferenceCase:
    """A random inference program: feeds, parameters, chains of ops, dead ops to prune."""

    def __init__(self, feeds: list[str], targets: list[str], program: ProgramSpec,
                 values: dict[str, Value], kept: set[str]) -> None:
        self.feeds, self.targets, self.program, self.values, self.kept = (
            feeds, targets, program, values, kept)

    def __repr__(self) -> str:
        return (f"InferenceCase(feeds={self.feeds}, targets={self.targets}, "
                f"kept_params={sorted(self.kept)}, program={self.program!r})")


@st.composite
def inference_cases(draw: st.DrawFn) -> InferenceCase:
    nfeed = draw(st.integers(1, 3))
    ntarget = draw(st.integers(nfeed, 3))  # every feed must be needed (INF-SAVE-002)
    feeds = [f"in_{c}" for c in draw(st.permutations("abc"))[:nfeed]]
    params = draw(fs.name_sets(ntarget + 1, ntarget + 2, slashes=False))
    params = [f"p.{p}" for p in params]
    vars_: list[VarSpec] = [VarSpec(f, shape=(-1, 2)) for f in feeds]
    values: dict[str, Value] = {}
    ops: list[OpSpec] = []
    targets: list[str] = []
    kept: set[str] = set()
    for i in range(ntarget):
        p = params[i]
        values[p] = TensorValue(draw(fs.arrays(np.dtype(np.float32), (2,))))
        vars_.append(var_for(p, values[p], param=True))
        mid, out = f"mid_{i}", f"out_{i}"
        vars_ += [VarSpec(mid, shape=(-1, 2)), VarSpec(out, shape=(-1, 2))]
        feed = feeds[i] if i < nfeed else draw(st.sampled_from(feeds))
        ops.append(OpSpec("elementwise_add", {"X": (feed,), "Y": (p,)},
                          {"Out": (mid,)}))
        ops.append(OpSpec("scale", {"X": (mid,)}, {"Out": (out,)}, {"scale": 2.0}))
        targets.append(out)
        kept.add(p)
    for p in params[ntarget:]:  # parameters only dead ops use: pruned away
        values[p] = TensorValue(np.ones(3, np.float32))
        vars_.append(var_for(p, values[p], param=True))
        vars_.append(VarSpec(f"dead_{p}", shape=(3,)))
        ops.append(OpSpec("scale", {"X": (p,)}, {"Out": (f"dead_{p}",)}, {"scale": 1.0}))
    order = draw(st.permutations(targets))
    return InferenceCase(feeds, list(order), ProgramSpec(vars=tuple(vars_), ops=tuple(ops)),
                         values, kept)


def _model(path: Path) -> Any:
    from fluidspec.spec.framework_pb2 import ProgramDesc

    raw = path.read_bytes()
    try:
        return ProgramDesc.FromString(raw), raw
    except Exception as exc:
        raise fail("PROG-SCHEMA-001", f"{path.name} does not parse as a ProgramDesc: {exc}") from None


def _col(op: Any) -> int | None:
    for a in op.attrs:
        if a.name == "col":
            return int(a.i) if a.HasField("i") else int(a.l)
    return None


def _args(op: Any, which: str, slot: str) -> list[str]:
    for v in getattr(op, which):
        if v.parameter == slot:
            return list(v.arguments)
    return []


def fetch_names(desc: Any) -> list[str]:
    """What the fetch ops of a saved model fetch, in col order."""
    ops = sorted((o for o in desc.blocks[0].ops if o.type == "fetch"), key=lambda o: _col(o) or 0)
    return [_args(o, "inputs", "X")[0] for o in ops]


def check_model_desc(desc: Any, raw: bytes, feeds: list[str], targets: list[str]) -> None:
    """The saved ProgramDesc: schema, re-serialization, feed/fetch ops, no training flags."""
    require(desc.SerializeToString() == raw, "PROG-SER-001",
            "the saved ProgramDesc does not re-serialize to the same bytes")
    require(len(desc.blocks) >= 1 and desc.blocks[0].idx == 0, "PROG-SCHEMA-001",
            "block 0 missing or misnumbered")
    ver = desc.version.version if desc.HasField("version") else 0
    require(ver == 0 or (ver >= 1_000_000 and ver % 1000 < 1000), "PROG-VER-001",
            f"ProgramDesc.version {ver} is not major*10^6+minor*10^3+patch")
    ops = list(desc.blocks[0].ops)
    feed_ops = [o for o in ops if o.type == "feed"]
    fetch_ops = [o for o in ops if o.type == "fetch"]
    n = len(feed_ops)
    require(ops[:n] == feed_ops, "INF-SAVE-004", "feed ops are not all at the front")
    require([_col(o) for o in feed_ops] == list(range(n - 1, -1, -1)), "INF-SAVE-004",
            f"feed op cols in stored order {[_col(o) for o in feed_ops]}, expected reverse col order")
    by_col = sorted(feed_ops, key=lambda o: _col(o) or 0)
    require([_args(o, "outputs", "Out")[0] for o in by_col] == feeds, "INF-SAVE-004",
            f"feed ops by col feed {[_args(o, 'outputs', 'Out') for o in by_col]}, expected {feeds}")
    m = len(fetch_ops)
    require(m == 0 or ops[-m:] == fetch_ops, "INF-SAVE-005", "fetch ops are not all at the end")
    require([_col(o) for o in fetch_ops] == list(range(m)), "INF-SAVE-005",
            f"fetch op cols {[_col(o) for o in fetch_ops]}, expected 0..{m - 1}")
    fetched = [_args(o, "inputs", "X")[0] for o in fetch_ops]
    # INF-SAVE-007 lets a writer fetch scale(target, 1.0) instead of the target (Paddle 2.6.2).
    scaled = {_args(o, "outputs", "Out")[0]: _args(o, "inputs", "X")[0]
              for o in ops if o.type == "scale" and _args(o, "outputs", "Out")}
    require([f if f in targets else scaled.get(f, f) for f in fetched] == targets, "INF-SAVE-005",
            f"fetch ops fetch {fetched}, expected {targets}")
    kinds = {v.name: v.type.type for v in desc.blocks[0].vars}
    persistable = {v.name: v.persistable for v in desc.blocks[0].vars}
    from fluidspec.spec import VarType

    if feeds:
        require(kinds.get("feed") == VarType.FEED_MINIBATCH, "INF-SAVE-004",
                f"var 'feed' has kind {kinds.get('feed')}, expected FEED_MINIBATCH")
        require(persistable.get("feed") is True, "INF-SAVE-004", "var 'feed' is not persistable")
    else:
        require("feed" not in kinds and n == 0, "INF-SAVE-004",
                "no feeds, yet a feed var or feed ops were added")
    require(kinds.get("fetch") == VarType.FETCH_LIST, "INF-SAVE-005",
            f"var 'fetch' has kind {kinds.get('fetch')}, expected FETCH_LIST")
    require(persistable.get("fetch") is True, "INF-SAVE-005", "var 'fetch' is not persistable")
    for b in desc.blocks:
        for v in b.vars:
            require(not v.is_parameter and not v.stop_gradient, "INF-SAVE-006",
                    f"saved var {v.name!r} keeps is_parameter/stop_gradient")


def _inference_round_trip(ctx: CheckContext, case: InferenceCase, model_filename: str | None,
                          params_filename: str | None) -> None:
    """One save_inference_model → load_inference_model round trip of ``case``."""
    model_file = os.path.basename(model_filename) if model_filename else "__model__"
    d = ctx.fresh_dir("m")
    call = Call("save_inference_model", {
        "dirname": d, "feeded_var_names": case.feeds, "target_vars": case.targets,
        "model_filename": model_filename, "params_filename": params_filename})
    out = ctx.run(case.program, case.values, call)
    expect_ok(out, "INF-SAVE-008", "save_inference_model")
    returned = out.result.get("fetch_names")
    written = files_under(d)
    params = {os.path.basename(params_filename)} if params_filename else case.kept
    expected = {model_file} | params
    for extra in sorted(written - expected):
        raise fail("INF-SAVE-002" if extra.startswith("p.") else "INF-SAVE-008",
                   f"wrote {extra!r} (expected {sorted(expected)})")
    for missing in sorted(expected - written):
        raise fail("INF-SAVE-008", f"did not write {missing!r} (wrote {sorted(written)})")
    desc, raw = _model(Path(d, model_file))
    check_model_desc(desc, raw, case.feeds, case.targets)
    fetched = fetch_names(desc)
    require(returned in (None, fetched), "INF-SAVE-001",
            f"returned {returned}, the model fetches {fetched}")
    back = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": d, "model_filename": model_filename, "params_filename": params_filename}))
    expect_ok(back, "INF-LOAD-002", "load_inference_model")
    require(back.result.get("feed_target_names") == case.feeds, "INF-LOAD-003",
            f"feed names {back.result.get('feed_target_names')}, expected {case.feeds}")
    require(back.result.get("fetch_target_names") == fetched, "INF-LOAD-003",
            f"fetch names {back.result.get('fetch_target_names')}, the model fetches {fetched}")
    expect_values({p: case.values[p] for p in case.kept}, back.scope, "INF-LOAD-002",
                  "persistables loaded with the model")


@check("INF-SAVE-002", "INF-SAVE-004", "INF-SAVE-005", "INF-SAVE-006", "INF-SAVE-008",
       "INF-LOAD-003", "PROG-SCHEMA-001", "PROG-SER-001", "PROG-VER-001", apis=_INF)
def check_inference_round_trip(ctx: CheckContext) -> None:
    """Pruned persistables are saved; feed/fetch ops and names keep the caller's order."""

    # Each case is saved three times: files left to their defaults, both named, both named
    # with a folder (only the basename counts), so an implementation that ignores
    # model_filename or params_filename on save or on load fails on its first example.
    @ctx.given(inference_cases())
    def prop(case: InferenceCase) -> None:
        for model_filename, params_filename in ((None, None), ("net", "__params__"),
                                                ("sub/model.bin", "sub/params.bin")):
            _inference_round_trip(ctx, case, model_filename, params_filename)

    prop()


@check("INF-SAVE-001", apis=("save_inference_model",))
def check_inference_arguments(ctx: CheckContext) -> None:
    """Targets must be a non-empty list; the call returns the target names."""
    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    out = ctx.run(program, values, call)
    expect_ok(out, "INF-SAVE-001", "save_inference_model")
    desc, _ = _model(Path(call.get("dirname"), "__model__"))
    require(out.result.get("fetch_names") == fetch_names(desc), "INF-SAVE-001",
            f"returned {out.result.get('fetch_names')}, the model fetches {fetch_names(desc)}")
    d = ctx.fresh_dir("m")
    bad = ctx.run(program, values, Call("save_inference_model", {**call.args, "dirname": d,
                                                                 "target_vars": []}))
    expect_error(bad, "INVALID_ARGUMENT", "INF-SAVE-001", "save_inference_model with no targets")
    require(not files_under(d), "INF-SAVE-001", f"wrote {sorted(files_under(d))} anyway")


@check("INF-SAVE-002", "API-ARG-001", apis=("save_inference_model",))
def check_inference_unknown_feed(ctx: CheckContext) -> None:
    """A feed name that is not a variable of the pruned program is refused.

    A check of its own so that a wrong error id (API-ARG-001) does not hide the MUST results of
    check_inference_arguments."""
    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    bad = ctx.run(program, values, Call("save_inference_model", {
        **call.args, "dirname": ctx.fresh_dir("m"), "feeded_var_names": ["nope"]}))
    # INF-SAVE-002 (MUST): the save is refused; that the error is INVALID_ARGUMENT is
    # API-ARG-001 (SHOULD — Paddle 2.6.2 raises a C++ "var nope not in this block").
    expect_refused(bad, "INVALID_ARGUMENT", "INF-SAVE-002", "API-ARG-001",
                   "a feed name not in the pruned program")


def _is_test_program(with_read: bool) -> ProgramSpec:
    w = TensorValue(np.ones(2, np.float32))
    first = (OpSpec("read", {"Reader": ("reader",)}, {"Out": ("x",)}),) if with_read else ()
    return ProgramSpec(
        vars=((VarSpec("reader", kind="READER", dtype=None, shape=None),) if with_read else ())
        + (VarSpec("x", shape=(-1, 2)), var_for("w", w, param=True), VarSpec("h", shape=(-1, 2)),
           VarSpec("y", shape=(-1, 2)), VarSpec("mask", dtype="uint8", shape=(-1, 2))),
        ops=first + (OpSpec("elementwise_add", {"X": ("x",), "Y": ("w",)}, {"Out": ("h",)}),
                     OpSpec("dropout", {"X": ("h",)}, {"Out": ("y",), "Mask": ("mask",)},
                            {"is_test": False, "dropout_prob": 0.5})))


@check("INF-SAVE-003", apis=("save_inference_model",))
def check_inference_is_test(ctx: CheckContext) -> None:
    """Every is_test attribute of the saved program is true."""
    d = ctx.fresh_dir("m")
    out = ctx.run(_is_test_program(False), {"w": TensorValue(np.ones(2, np.float32))},
                  Call("save_inference_model", {"dirname": d, "feeded_var_names": ["x"],
                                                "target_vars": ["y"], "model_filename": None,
                                                "params_filename": None}))
    expect_ok(out, "INF-SAVE-003", "save_inference_model of a program with dropout")
    desc, _ = _model(Path(d, "__model__"))
    flags = [a.b for o in desc.blocks[0].ops for a in o.attrs if a.name == "is_test"]
    require(flags and all(flags), "INF-SAVE-003", f"is_test attributes saved as {flags}")


@check("INF-SAVE-003", apis=("save_inference_model",))
def check_inference_read_ops(ctx: CheckContext) -> None:
    """read ops are not kept."""
    d = ctx.fresh_dir("m")
    out = ctx.run(_is_test_program(True), {"w": TensorValue(np.ones(2, np.float32))},
                  Call("save_inference_model", {"dirname": d, "feeded_var_names": ["x"],
                                                "target_vars": ["y"], "model_filename": None,
                                                "params_filename": None}))
    # No skip on an UNCLASSIFIED error: that would excuse any implementation that fails here.
    # (Paddle's read op needs its reader's dtypes; its adapter derives them, server.py.)
    expect_ok(out, "INF-SAVE-003", "save_inference_model of a program with a read op")
    desc, _ = _model(Path(d, "__model__"))
    types = [o.type for o in desc.blocks[0].ops]
    require("read" not in types, "INF-SAVE-003", f"the read op was kept: {types}")


@check("INF-SAVE-007", apis=_INF, needs_oracle=True)
def check_inference_model_loads_in_reference(ctx: CheckContext) -> None:
    """Whatever optional parts a model has, the reference loads it with the same feeds/fetches."""
    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    out = ctx.run(program, values, call)
    expect_ok(out, "INF-SAVE-007", "save_inference_model")
    back = ctx.oracle_run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": call.get("dirname"), "model_filename": None, "params_filename": None}))
    expect_ok(back, "INF-SAVE-007", "the reference loading this model")
    desc, _ = _model(Path(call.get("dirname"), "__model__"))
    require(back.result.get("feed_target_names") == ["x"] and
            back.result.get("fetch_target_names") == fetch_names(desc), "INF-SAVE-007",
            f"the reference reads feeds {back.result.get('feed_target_names')} fetches "
            f"{back.result.get('fetch_target_names')}")


@check("INF-SAVE-011", "INF-SAVE-012", apis=("save_inference_model",),
       needs=("fluid_1_inference_options",))
def check_inference_export_and_program_only(ctx: CheckContext) -> None:
    """export_for_deployment=False writes <model>.main_program; program_only writes no params."""
    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    d = ctx.fresh_dir("m")
    out = ctx.run(program, values, Call("save_inference_model", {
        **call.args, "dirname": d, "export_for_deployment": False}))
    expect_ok(out, "INF-SAVE-011", "export_for_deployment=False")
    require("__model__.main_program" in files_under(d), "INF-SAVE-011",
            f"wrote {sorted(files_under(d))}, expected __model__.main_program")
    desc, _ = _model(Path(d, "__model__.main_program"))
    types = [o.type for o in desc.blocks[0].ops]
    require("feed" not in types and "fetch" not in types and "mul" in types, "INF-SAVE-011",
            f"the unpruned program has ops {types}")
    d = ctx.fresh_dir("m")
    out = ctx.run(program, values, Call("save_inference_model", {
        **call.args, "dirname": d, "program_only": True}))
    expect_ok(out, "INF-SAVE-012", "program_only=True")
    require(files_under(d) == {"__model__"}, "INF-SAVE-012",
            f"program_only wrote {sorted(files_under(d))}")
    require(any("program_only" in w for w in out.warnings), "INF-SAVE-012",
            f"no program_only warning (warnings {out.warnings})")


@check("INF-LOAD-001", apis=("load_inference_model",))
def check_inference_bad_model(ctx: CheckContext) -> None:
    """A model file that is not a usable ProgramDesc is BAD_PROGRAM."""
    from fluidspec.spec.framework_pb2 import ProgramDesc

    no_blocks = ProgramDesc().SerializeToString()
    for what, raw in (("garbage bytes", b"\xff\xfe not a program"),
                      ("a tensor record", record_bytes(np.ones(3, np.float32))),
                      ("a ProgramDesc without blocks", no_blocks),
                      ("fetch ops with cols 0 and 2", _fetch_cols_program([0, 2])),
                      ("a fetch of an undeclared variable",
                       _fetch_cols_program([0], declared=False)),
                      ("a feed into an undeclared variable",
                       _fetch_cols_program([0], feed_undeclared=True))):
        d = ctx.fresh_dir("m")
        os.makedirs(d)
        Path(d, "__model__").write_bytes(raw)
        out = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
            "dirname": d, "model_filename": None, "params_filename": None}))
        expect_error(out, "BAD_PROGRAM", "INF-LOAD-001", f"__model__ holding {what}")
        named = str((out.error or {}).get("path") or "")
        require(os.path.basename(named) == "__model__", "INF-LOAD-001",
                f"the BAD_PROGRAM error for __model__ holding {what} names {named!r}, "
                f"not the model file")


def _fetch_cols_program(cols: list[int], *, declared: bool = True,
                        feed_undeclared: bool = False) -> bytes:
    """A ProgramDesc with fetch ops of the given ``col`` attributes, reading ``y<i>`` (declared or
    not), and with ``feed_undeclared`` a feed op writing a variable the block does not declare:
    each flaw is one INF-LOAD-001 names."""
    from fluidspec.spec.framework_pb2 import AttrType, ProgramDesc, VarType

    desc = ProgramDesc()
    block = desc.blocks.add(idx=0, parent_idx=-1)
    block.vars.add(name="fetch", persistable=True).type.type = VarType.FETCH_LIST
    if feed_undeclared:
        block.vars.add(name="feed", persistable=True).type.type = VarType.FEED_MINIBATCH
        op = block.ops.add(type="feed")
        op.inputs.add(parameter="X", arguments=["feed"])
        op.outputs.add(parameter="Out", arguments=["x_undeclared"])
        op.attrs.add(name="col", type=AttrType.INT, i=0)
    for i, col in enumerate(cols):
        if declared:
            var = block.vars.add(name=f"y{i}")
            var.type.type = VarType.LOD_TENSOR
            var.type.lod_tensor.tensor.data_type = VarType.FP32
            var.type.lod_tensor.tensor.dims.extend([-1, 2])
        op = block.ops.add(type="fetch")
        op.inputs.add(parameter="X", arguments=[f"y{i}"])
        op.outputs.add(parameter="Out", arguments=["fetch"])
        op.attrs.add(name="col", type=AttrType.INT, i=col)
    return desc.SerializeToString()


@check("INF-LOAD-002", "INF-LOAD-004", apis=_INF)
def check_inference_file_lookup(ctx: CheckContext) -> None:
    """.pdmodel/.pdiparams are found from a base name; a missing dir is MISSING_FILE; no shape check."""
    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    out = ctx.run(program, values, call)
    expect_ok(out, "INF-LOAD-002", "save_inference_model")
    d = call.get("dirname")
    src = Path(d)
    pd = Path(ctx.fresh_dir("pd"))
    pd.mkdir()
    (pd / "inference.pdmodel").write_bytes((src / "__model__").read_bytes())
    (pd / "inference.pdiparams").write_bytes(record_bytes(values["w"].array))
    back = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": str(pd), "model_filename": "inference", "params_filename": "inference"}))
    expect_ok(back, "INF-LOAD-002", "model_filename='inference' with inference.pdmodel present")
    expect_values({"w": values["w"]}, back.scope, "INF-LOAD-002", ".pdiparams load")
    missing = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": str(pd / "nope"), "model_filename": None, "params_filename": None}))
    expect_error(missing, "MISSING_FILE", "INF-LOAD-002", "a dirname that does not exist")
    # INF-LOAD-004: a persistable of another shape loads — inference programs hold no Parameters.
    other = TensorValue(np.arange(5, dtype=np.float32))
    (src / "w").write_bytes(record_bytes(other.array))
    back = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": d, "model_filename": None, "params_filename": None}))
    expect_ok(back, "INF-LOAD-004", "loading a persistable whose shape differs from its declaration")
    expect_values({"w": other}, back.scope, "INF-LOAD-004", "shape is not checked")
    prog = back.result.get("program")
    if isinstance(prog, ProgramSpec):
        require(not any(v.is_parameter for v in prog.vars), "INF-LOAD-004",
                "the loaded inference program holds Parameters")


@check("INF-LOAD-005", apis=_INF)
def check_inference_from_memory(ctx: CheckContext) -> None:
    """load_inference_model(None, model bytes, params bytes); without bytes INVALID_ARGUMENT."""
    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    call = Call(call.api, {**call.args, "params_filename": "params"})
    out = ctx.run(program, values, call)
    expect_ok(out, "INF-LOAD-005", "save_inference_model with a params file")
    d = Path(call.get("dirname"))
    back = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": None, "model_filename": None, "params_filename": None,
        "model_memory": (d / "__model__").read_bytes(), "params_memory": (d / "params").read_bytes()}))
    expect_ok(back, "INF-LOAD-005", "load_inference_model from bytes")
    require(back.result.get("feed_target_names") == ["x"], "INF-LOAD-005",
            f"feeds {back.result.get('feed_target_names')}")
    expect_values({"w": values["w"]}, back.scope, "INF-LOAD-005", "params from bytes")
    bad = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": None, "model_filename": None, "params_filename": None,
        "model_memory": (d / "__model__").read_bytes(), "params_memory": None}))
    expect_error(bad, "INVALID_ARGUMENT", "INF-LOAD-005", "memory load without params bytes")


def _build(ctx: CheckContext, program: ProgramSpec) -> tuple[Any, dict[str, Any]]:
    from fluidspec.conformance._adapter import FluidAdapter

    assert isinstance(ctx.impl, FluidAdapter)
    return ctx.impl._build(program)


@check("INF-SAVE-009", apis=("save_inference_model",), needs=("fluid_objects",))
def check_inference_caller_program_unchanged(ctx: CheckContext) -> None:
    """Saving an inference model leaves the caller's program as it was."""
    fluid, io = python_api(ctx)
    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    prog, pvars = _build(ctx, program)
    before = prog.desc.serialize_to_string()
    scope = fluid.Scope()
    for n, v in values.items():
        scope.var(n).get_tensor().set(v.array, fluid.CPUPlace())
    with fluid.scope_guard(scope):
        io.save_inference_model(call.get("dirname"), ["x"], [pvars["y"]], fluid.Executor(
            fluid.CPUPlace()), main_program=prog)
    require(prog.desc.serialize_to_string() == before, "INF-SAVE-009",
            "save_inference_model changed the caller's program")


@check("API-ARG-001", apis=("save_inference_model",), needs=("fluid_objects",))
def check_inference_feed_names_type(ctx: CheckContext) -> None:
    """feeded_var_names that are not a str or a list of str are INVALID_ARGUMENT, before anything
    is written (a list holding a non-str as well as a non-list)."""
    fluid, io = python_api(ctx)
    program, values, _call = tiny_inference_case(ctx.fresh_dir("m"))
    prog, pvars = _build(ctx, program)
    scope = fluid.Scope()
    for n, v in values.items():
        scope.var(n).get_tensor().set(v.array, fluid.CPUPlace())
    for bad in (["x", 3], 5, [b"x"]):
        d = ctx.fresh_dir("m")
        try:
            with fluid.scope_guard(scope):
                io.save_inference_model(d, bad, [pvars["y"]], fluid.Executor(fluid.CPUPlace()),
                                        main_program=prog)
            found = "no error"
        except Exception as exc:  # the kind of error is what is judged
            found = getattr(exc, "id", None) or type(exc).__name__
        require(found == "INVALID_ARGUMENT", "API-ARG-001",
                f"save_inference_model(feeded_var_names={bad!r}) gave {found}")
        require(not files_under(d), "API-ARG-001",
                f"feeded_var_names={bad!r} wrote {sorted(files_under(d))} before refusing")


@check("INF-SAVE-010", apis=("save_inference_model", "load_inference_model"), needs=("fluid_objects",))
def check_inference_to_memory(ctx: CheckContext) -> None:
    """dirname=None returns (model bytes, params bytes) that load_inference_model accepts."""
    fluid, io = python_api(ctx)
    program, values, _ = tiny_inference_case("")
    prog, pvars = _build(ctx, program)
    scope = fluid.Scope()
    for n, v in values.items():
        scope.var(n).get_tensor().set(v.array, fluid.CPUPlace())
    exe = fluid.Executor(fluid.CPUPlace())
    with fluid.scope_guard(scope):
        got = io.save_inference_model(None, ["x"], [pvars["y"]], exe, main_program=prog)
    require(isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], bytes), "INF-SAVE-010",
            f"dirname=None returned {type(got).__name__}, expected (model_bytes, params_bytes)")
    with fluid.scope_guard(fluid.Scope()):
        loaded, feeds, fetches = io.load_inference_model(None, exe, got[0], got[1])
    require(list(feeds) == ["x"] and [f.name for f in fetches] == ["y"], "INF-SAVE-010",
            f"the bytes load with feeds {feeds}")


@check("INF-LOAD-006", apis=_INF)
def check_inference_path_prefix(ctx: CheckContext) -> None:
    """A Paddle 2.x path prefix either loads the .pdmodel/.pdiparams pair or is MISSING_FILE."""
    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    call = Call(call.api, {**call.args, "model_filename": "net.pdmodel",
                           "params_filename": "net.pdiparams"})
    out = ctx.run(program, values, call)
    expect_ok(out, "INF-LOAD-006", "save_inference_model to net.pdmodel / net.pdiparams")
    back = ctx.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": str(Path(call.get("dirname"), "net")), "model_filename": None,
        "params_filename": None}))
    if not back.ok:
        expect_error(back, "MISSING_FILE", "INF-LOAD-006", "a path prefix, when not supported")
        return
    require(back.result.get("feed_target_names") == ["x"], "INF-LOAD-006",
            f"path prefix load gave feeds {back.result.get('feed_target_names')}")
    expect_values({"w": values["w"]}, back.scope, "INF-LOAD-006", "path prefix params")


register_vectors("INF")


def _sub_block_case() -> tuple[ProgramSpec, dict[str, Value]]:
    """x -(+p.w1)-> h -scale-> mid -scale-> h2; conditional_block(Cond=Input=[mid]) -> y, its sub-block
    computing y = h2 + p.w2.  h2 and p.w2 are read only inside the sub-block."""
    values: dict[str, Value] = {p: TensorValue(np.full(2, i + 1, np.float32))
                                for i, p in enumerate(("p.w1", "p.w2", "p.dead"))}
    vars_ = [VarSpec(n, shape=(-1, 2)) for n in ("x", "h", "mid", "h2", "y", "dead")]
    vars_ += [var_for(p, v, param=True) for p, v in values.items()]
    vars_ += [VarSpec("cb_scope", kind="STEP_SCOPES", dtype=None, shape=None)]
    ops = (
        OpSpec("elementwise_add", {"X": ("x",), "Y": ("p.w1",)}, {"Out": ("h",)}),
        OpSpec("scale", {"X": ("h",)}, {"Out": ("mid",)}, {"scale": 3.0}),
        OpSpec("scale", {"X": ("mid",)}, {"Out": ("h2",)}, {"scale": 2.0}),
        # Paddle builds a conditional_block only with its Cond input and Scope output (any vars
        # will do here: the program is saved, never run).
        OpSpec("conditional_block", {"Cond": ("mid",), "Input": ("mid",)},
               {"Out": ("y",), "Scope": ("cb_scope",)},
               {"sub_block": {"block": 1}, "is_scalar_condition": False}),
        OpSpec("elementwise_add", {"X": ("h2",), "Y": ("p.w2",)}, {"Out": ("y",)}, block=1),
        OpSpec("scale", {"X": ("p.dead",)}, {"Out": ("dead",)}, {"scale": 1.0}),
    )
    return ProgramSpec(vars=tuple(vars_), ops=ops, blocks=(-1, 0)), values


@check("INF-SAVE-002", apis=("save_inference_model",))
def check_inference_prune_mid_feed_and_sub_blocks(ctx: CheckContext) -> None:
    """Pruning cuts at a feed in the middle of the graph (what only feeds it is dropped) and
    keeps what an op's sub-block reads (the op making h2, parameter p.w2)."""
    program, values = _sub_block_case()
    d = ctx.fresh_dir("m")
    out = ctx.run(program, values, Call("save_inference_model", {
        "dirname": d, "feeded_var_names": ["mid"], "target_vars": ["y"],
        "model_filename": None, "params_filename": None}))
    expect_ok(out, "INF-SAVE-002", "save_inference_model fed at 'mid', a conditional_block target")
    params = files_under(d) - {"__model__"}
    require(params == {"p.w2"}, "INF-SAVE-002",
            f"saved parameters {sorted(params)}, expected ['p.w2'] (p.w1 feeds only what the "
            f"feed replaces; p.w2 is read in the sub-block)")
    desc, _ = _model(Path(d, "__model__"))
    made = {n for o in desc.blocks[0].ops if o.type not in ("feed", "fetch")
            for n in _args(o, "outputs", "Out")}
    require({"h2", "y"} <= made, "INF-SAVE-002",
            f"block 0 ops make {sorted(made)}: the ops making h2 (read in the sub-block) and y "
            f"must be kept")
    require(not made & {"h", "mid", "dead"}, "INF-SAVE-002",
            f"block 0 ops make {sorted(made & {'h', 'mid', 'dead'})}: ops before the feed 'mid' "
            f"or not needed by the target must be pruned")
