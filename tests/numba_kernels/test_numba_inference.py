"""numba_kernels.io inference APIs against reference.io (the oracle, tests only).

Clauses: INF-SAVE-001..012, INF-LOAD-001..006.
"""

from __future__ import annotations

import os
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec import numba_kernels
from fluidspec.numba_kernels import io as nio
from fluidspec.reference import io as rio
from fluidspec.reference._framework import Program
from fluidspec.reference._scope import Scope, scope_guard
from fluidspec.spec.errors import FluidSpecError

VARS = ["a", "b", "c", "d", "e", "w1", "w2"]


@pytest.fixture(scope="session", autouse=True)
def _warm() -> None:
    numba_kernels.warm_up()


@st.composite
def models(draw: st.DrawFn):
    ops = draw(st.lists(st.tuples(st.sampled_from(["mul", "relu", "read", "scale", "cond"]),
                                  st.lists(st.sampled_from(VARS), min_size=1, max_size=2),
                                  st.sampled_from(VARS), st.booleans()),
                        max_size=6))
    feeds = draw(st.lists(st.sampled_from(VARS + ["nope"]), max_size=2, unique=True))
    targets = draw(st.lists(st.sampled_from(VARS), min_size=0, max_size=2, unique=True))
    options = draw(st.fixed_dictionaries({
        "params": st.sampled_from([None, "params", "dir/p.bin", ".."]),
        "model": st.sampled_from([None, "model", "__model__"]),
        "deploy": st.booleans(), "program_only": st.booleans(),
        "memory": st.booleans()}))
    return ops, feeds, targets, options


def build(ops):
    program = Program()
    g = program.global_block()
    for name in VARS:
        if name.startswith("w"):
            g.create_parameter(name=name, shape=[2], dtype="float32")
        else:
            g.create_var(name=name, shape=[2], dtype="float32", persistable=name == "e")
    for kind, inputs, output, is_test in ops:
        attrs = {"is_test": is_test}
        if kind == "cond":
            sub = program._create_block()
            sub.append_op(type="relu", inputs={"X": inputs[:1]}, outputs={"Out": [output]})
            program._rollback()
            attrs["sub_block"] = sub
        g.append_op(type=kind, inputs={"X": inputs}, outputs={"Out": [output]}, attrs=attrs)
    scope = Scope()
    for name in ("w1", "w2", "e"):
        scope.var(name).get_tensor().set(np.full(2, len(name), np.float32))
    return program, scope


def tree(root):
    out = {}
    for base, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(base, f), "rb") as fh:
                out[os.path.relpath(os.path.join(base, f), root)] = fh.read()
    return out


def attempt(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", fn())
        except FluidSpecError as exc:
            result = ("error", exc.id)
    return result, [str(w.message) for w in caught]


@given(models())
def test_inference_save_and_load_match_reference(model):
    """Same model bytes, same parameter files, same loaded program, feeds, fetches and scope."""
    ops, feeds, targets, o = model
    outcomes = []
    for mod in (rio, nio):
        program, scope = build(ops)
        glob = program.global_block()
        target_vars = [glob.var(t) for t in targets]
        with tempfile.TemporaryDirectory() as root, scope_guard(scope):
            saved = attempt(lambda mod=mod, program=program, target_vars=target_vars, root=root:
                            mod.save_inference_model(
                                None if o["memory"] else root, feeds, target_vars, None,
                                program, model_filename=o["model"],
                                params_filename=o["params"], export_for_deployment=o["deploy"],
                                program_only=o["program_only"]))
            files = tree(root)
            loaded = None
            if saved[0][0] == "ok" and o["deploy"] and not o["program_only"]:
                fresh = Scope()
                with scope_guard(fresh):
                    if o["memory"]:
                        model_bytes, params = saved[0][1]
                        def call(mod=mod, m=model_bytes, p=params):
                            return (mod.load_inference_model(None, None, m, p))
                    else:
                        def call(mod=mod, root=root):
                            return (mod.load_inference_model(root, None, o["model"], o["params"]))
                    result = attempt(call)
                    if result[0][0] == "ok":
                        prog, feed_names, fetches = result[0][1]
                        result = (prog.desc.serialize_to_string(), feed_names,
                                  [f.name for f in fetches], result[1])
                    state = {n: fresh.find_var(n).get_tensor()._value().tobytes()
                             for n in sorted(fresh.local_var_names())
                             if fresh.find_var(n).is_initialized()}
                    loaded = (result, state)
        outcomes.append((saved, files, loaded))
    assert outcomes[1] == outcomes[0]


def test_caller_program_is_unchanged():
    """INF-SAVE-009."""
    program, scope = build([("mul", ["a", "w1"], "b", False)])
    before = program.desc.serialize_to_string()
    with scope_guard(scope):
        nio.save_inference_model(None, ["a"], [program.global_block().var("b")], None, program)
    assert program.desc.serialize_to_string() == before


def test_bad_model_file_is_bad_program(tmp_path):
    """INF-LOAD-001: garbage in __model__ is BAD_PROGRAM, like the reference."""
    (tmp_path / "__model__").write_bytes(b"\xff\xff\xff")
    for mod in (rio, nio):
        with pytest.raises(FluidSpecError) as err:
            mod.load_inference_model(str(tmp_path), None)
        assert err.value.id == "BAD_PROGRAM"
    with pytest.raises(FluidSpecError) as err:
        nio.load_inference_model(str(tmp_path / "missing"), None)
    assert err.value.id == "MISSING_FILE"
