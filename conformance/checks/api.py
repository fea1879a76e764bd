"""Checks of the Fluid Python object model and API arguments (spec/chapters/api.md, API-*).

The API-* clauses are about Python objects, so they apply to in-process implementations only; a
protocol server is reported as skipped on them.
"""

from __future__ import annotations

import numpy as np

from fluidspec.conformance._case import Call, TensorValue
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._helpers import (
    expect_error,
    program_of,
    python_api,
)
from fluidspec.conformance._registry import check
from fluidspec.conformance._vector_replay import register_vectors
from fluidspec.conformance._verdict import require


@check("API-ARG-001", apis=("save_vars",))
def check_save_memory_with_filename(ctx: CheckContext) -> None:
    """save_vars(dirname=None, filename='x') is INVALID_ARGUMENT (SEL-SAVE-001 forbids the mix).

    A check of its own so that a failure here does not hide SEL-LOAD-006's results."""
    a = TensorValue(np.arange(3, dtype=np.float32))
    program = program_of({"a": a})
    out = ctx.run(program, {"a": a}, Call("save_vars", {"dirname": None, "filename": "x",
                                                        "vars": ["a"], "predicate": None}))
    expect_error(out, "INVALID_ARGUMENT", "API-ARG-001", "save_vars(dirname=None, filename='x')")


def _raises(fn: object, error_id: str) -> bool:
    try:
        fn()  # type: ignore[operator]
    except Exception as exc:
        return getattr(exc, "id", None) == error_id
    return False


@check("API-MODEL-001", "API-MODEL-007", needs=("fluid_objects",))
def check_api_programs(ctx: CheckContext) -> None:
    """Programs, blocks, default programs, program_guard, list_vars, clone, parse_from_string."""
    fluid, _ = python_api(ctx)
    prog = fluid.Program()
    require(len(prog.blocks) == 1 and prog.global_block().idx == 0 and
            prog.global_block().parent_idx == -1, "API-MODEL-001", "a new Program's global block")
    prog.global_block().create_var(name="a", shape=[1], dtype="float32")
    prog._create_block(parent_idx=0)
    prog.current_block().create_var(name="inner", shape=[2], dtype="int64")
    prog._rollback()
    prog.global_block().create_var(name="b", shape=[1], dtype="float32")
    require(prog.block(1).parent_idx == 0, "API-MODEL-001", "sub-block parent")
    require([v.name for v in prog.list_vars()] == ["a", "b", "inner"], "API-MODEL-007",
            f"list_vars order {[v.name for v in prog.list_vars()]}, expected a, b, inner")
    startup = fluid.Program()
    before = fluid.default_main_program()
    with fluid.program_guard(prog, startup):
        require(fluid.default_main_program() is prog and fluid.default_startup_program() is startup,
                "API-MODEL-001", "program_guard did not switch the default programs")
    require(fluid.default_main_program() is before, "API-MODEL-001", "program_guard did not restore")
    require(_raises(lambda: fluid.program_guard(object()).__enter__(), "INVALID_ARGUMENT"),
            "API-MODEL-001", "program_guard(non-Program) is not INVALID_ARGUMENT")
    copy = prog.clone()
    copy.global_block().create_var(name="only_in_copy", shape=[1], dtype="float32")
    require("only_in_copy" not in [v.name for v in prog.list_vars()], "API-MODEL-007",
            "clone() is not a deep copy")
    raw = prog.desc.serialize_to_string()
    again = fluid.Program.parse_from_string(raw)
    require(again.desc.serialize_to_string() == raw, "API-MODEL-007",
            "parse_from_string then serialize changed the bytes")


@check("API-MODEL-002", "API-MODEL-003", "API-MODEL-004", needs=("fluid_objects",))
def check_api_variables(ctx: CheckContext) -> None:
    """create_var / create_parameter, the VarType enum, dtype spellings."""
    fluid, _ = python_api(ctx)
    from fluidspec.spec import VarType

    prog = fluid.Program()
    block = prog.global_block()
    VT = fluid.core.VarDesc.VarType
    for member in ("LOD_TENSOR", "SELECTED_ROWS", "FEED_MINIBATCH", "FETCH_LIST", "READER", "RAW",
                   "FP32", "BF16", "INT64"):
        require(int(getattr(VT, member)) == int(VarType[member]), "API-MODEL-003",
                f"VarType.{member} = {int(getattr(VT, member))}, expected {int(VarType[member])}")
    a = block.create_var(name="../not checked here", shape=[2], dtype="float32")
    again = block.create_var(name="../not checked here", shape=[2], dtype="float32")
    require(again is a or again.name == a.name and len(block.vars) == 1, "API-MODEL-002",
            "a second create_var with the same name made another variable")
    try:  # another shape: Paddle raises; returning the variable unchanged is the other reading
        other = block.create_var(name="../not checked here", shape=[9], dtype="int8")
        require(tuple(other.shape) == (2,), "API-MODEL-002", "create_var changed an existing var")
    except Exception as exc:
        require(getattr(exc, "id", None) == "INVALID_ARGUMENT", "API-MODEL-002",
                f"redeclaring with another shape raised {type(exc).__name__}")
    p = block.create_parameter(name="w", shape=[2, 3], dtype="float32")
    require(isinstance(p, fluid.framework.Parameter) and isinstance(p, fluid.framework.Variable)
            and p.persistable, "API-MODEL-002", "create_parameter does not make a persistable Parameter")
    require(_raises(lambda: block.var("nope"), "INVALID_ARGUMENT"), "API-MODEL-002",
            "block.var(missing) is not INVALID_ARGUMENT")
    for spelling in ("float32", np.float32, VT.FP32):
        v = block.create_var(name=f"d{len(block.vars)}", shape=[1], dtype=spelling)
        require(int(v.dtype) == int(VarType.FP32), "API-MODEL-004", f"dtype {spelling!r} -> {v.dtype}")
    v = block.create_var(name="bf", shape=[1], dtype="uint16")
    require(int(v.dtype) == int(VarType.BF16), "API-MODEL-004", "'uint16' is not BF16")
    require(_raises(lambda: block.create_var(name="bad", shape=[1], dtype="float128x"),
                    "INVALID_ARGUMENT"), "API-MODEL-004", "an unknown dtype is not INVALID_ARGUMENT")


@check("API-MODEL-005", "API-MODEL-006", needs=("fluid_objects",))
def check_api_ops(ctx: CheckContext) -> None:
    """append_op/_prepend_op take any type, Variables or names; attribute types follow values."""
    fluid, _ = python_api(ctx)
    from fluidspec.spec.framework_pb2 import AttrType, ProgramDesc

    prog = fluid.Program()
    block = prog.global_block()
    x = block.create_var(name="x", shape=[2], dtype="float32")
    block.append_op(type="some_grad_op_nobody_runs", inputs={"X": x, "Y": ["x"]},
                    outputs={"Out": ["y"]}, attrs={"b": True, "i": 3, "l": 1 << 40, "f": 0.5,
                                                   "s": "t", "ints": [1, 2], "e": []})
    block._prepend_op(type="first", inputs={}, outputs={}, attrs={})
    require([o.type for o in block.ops] == ["first", "some_grad_op_nobody_runs"], "API-MODEL-005",
            f"op order {[o.type for o in block.ops]}")
    op = block.ops[1]
    require(op.input("X") == ["x"] and op.input("Y") == ["x"] and op.output("Out") == ["y"],
            "API-MODEL-005", "slots do not read back as names")
    desc = ProgramDesc.FromString(prog.desc.serialize_to_string())
    types = {a.name: a.type for a in desc.blocks[0].ops[1].attrs}
    want = {"b": AttrType.BOOLEAN, "i": AttrType.INT, "l": AttrType.LONG, "f": AttrType.FLOAT,
            "s": AttrType.STRING, "ints": AttrType.INTS, "e": AttrType.INTS}
    for name, t in want.items():
        require(types.get(name) == t, "API-MODEL-006",
                f"attr {name!r} stored as {AttrType.Name(types[name]) if name in types else None}, "
                f"expected {AttrType.Name(t)}")


@check("API-SCOPE-001", "API-SCOPE-002", needs=("fluid_objects",))
def check_api_scopes(ctx: CheckContext) -> None:
    """Scopes find values by name; LoDTensor and SelectedRows holders behave as Fluid's."""
    fluid, _ = python_api(ctx)
    scope = fluid.Scope()
    t = scope.var("t").get_tensor()
    t.set(np.arange(5, dtype=np.float32), fluid.CPUPlace())
    t.set_lod([[0, 2, 5]])
    require(scope.find_var("t") is not None and scope.find_var("missing") is None,
            "API-SCOPE-001", "find_var")
    require(np.array(scope.find_var("t").get_tensor()).tolist() == [0, 1, 2, 3, 4] and
            list(t.shape()) == [5] and t.lod() == [[0, 2, 5]], "API-SCOPE-002", "tensor read back")
    require(_raises(lambda: t.set_lod([[0, 7]]), "INVALID_LOD"), "API-SCOPE-002",
            "set_lod of an invalid LoD is not INVALID_LOD")
    require(_raises(lambda: scope.var("t").get_selected_rows(), "INVALID_ARGUMENT"),
            "API-SCOPE-001", "asking a tensor holder for SelectedRows is not INVALID_ARGUMENT")
    sr = scope.var("sr").get_selected_rows()
    sr.set_rows([3, 1])
    sr.set_height(9)
    sr.get_tensor().set(np.ones((2, 2), np.float32), fluid.CPUPlace())
    require(list(sr.rows()) == [3, 1] and sr.height() == 9, "API-SCOPE-002", "SelectedRows fields")
    inner = fluid.Scope()
    with fluid.scope_guard(inner):
        require(fluid.global_scope() is inner, "API-SCOPE-001", "scope_guard did not switch")
    require(_raises(lambda: scope.var("s2").get_tensor().set(np.array(["x"]), fluid.CPUPlace()),
                    "UNSUPPORTED_DTYPE"), "API-SCOPE-002", "setting a str array is not UNSUPPORTED_DTYPE")


@check("API-EXEC-001", "API-EXEC-002", "API-EXEC-003", needs=("fluid_objects",))
def check_api_executor(ctx: CheckContext) -> None:
    """Executor.run runs the global block in order; unknown ops are refused; places change nothing."""
    fluid, io = python_api(ctx)
    prog = fluid.Program()
    block = prog.global_block()
    x = block.create_var(name="x", shape=[-1, 2], dtype="float32")
    w = block.create_parameter(name="w", shape=[2], dtype="float32")
    h = block.create_var(name="h", shape=[-1, 2], dtype="float32")
    y = block.create_var(name="y", shape=[-1, 2], dtype="float32")
    block.append_op(type="elementwise_add", inputs={"X": x, "Y": w}, outputs={"Out": h})
    block.append_op(type="scale", inputs={"X": h}, outputs={"Out": y}, attrs={"scale": 2.0})
    scope = fluid.Scope()
    scope.var("w").get_tensor().set(np.array([1, 2], np.float32), fluid.CPUPlace())
    for place in (fluid.CPUPlace(), fluid.CUDAPlace(0)):
        exe = fluid.Executor(place)
        (got,) = exe.run(prog, feed={"x": np.array([[1, 1]], np.float32)}, fetch_list=[y],
                         scope=scope)
        require(np.asarray(got).tolist() == [[4.0, 6.0]], "API-EXEC-001",
                f"(x + w) * 2 gave {np.asarray(got).tolist()} on {place}")
    require(scope.find_var("h") is None or not scope.find_var("h").is_initialized(), "API-EXEC-001",
            "a temporary of the run was left in the scope")
    bad = fluid.Program()
    bad.global_block().append_op(type="conv2d_unknown_here", inputs={}, outputs={}, attrs={})
    require(_raises(lambda: fluid.Executor(fluid.CPUPlace()).run(bad, scope=scope),
                    "INVALID_ARGUMENT"), "API-EXEC-002", "an op type it does not run is not refused")
    outs = []
    for place in (fluid.CPUPlace(), fluid.CUDAPlace(0)):
        with fluid.scope_guard(scope):
            got = io.save_vars(fluid.Executor(place), None, main_program=prog, vars=[w])
        outs.append(got)
    require(outs[0] == outs[1], "API-EXEC-003", "saved bytes depend on the place")


register_vectors("API")
