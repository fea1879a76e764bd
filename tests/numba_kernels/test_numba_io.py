"""numba_kernels.io against reference.io: same files, same bytes, same scope, same errors.

The reference is the oracle (tests only).  Clauses: SEL-CAND-001..003, SEL-SAVE-001..008,
SEL-FILE-001..003, SEL-PATH-001/002, SEL-LOAD-001..007, FMT-COMB-001/002, FMT-SR-002.
"""

from __future__ import annotations

import os
import tempfile
import warnings

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec import numba_kernels
from fluidspec.numba_kernels import io as nio
from fluidspec.reference import io as rio
from fluidspec.reference._framework import Program
from fluidspec.reference._scope import Scope, scope_guard
from fluidspec.spec import VarType
from fluidspec.spec.errors import FluidSpecError

DTYPES = ["float32", "float64", "int64", "int32", "int8", "uint8", "bool", "float16", "bfloat16",
          "complex64"]
NAMES = ["w", "b", "a/b", "a/c", "é", "10", "9", "x y", "fc_0.w_0", "emb", "../up", "", "q//r"]


@pytest.fixture(scope="session", autouse=True)
def _warm() -> None:
    numba_kernels.warm_up()


@st.composite
def worlds(draw: st.DrawFn):
    """(program builder, value setter): declarations plus scope values, rebuilt per impl."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=5, unique=True))
    decls = []
    for name in names:
        kind = draw(st.sampled_from(["LOD_TENSOR"] * 5 + ["SELECTED_ROWS", "RAW",
                                                           "FEED_MINIBATCH"]))
        dtype = draw(st.sampled_from(DTYPES))
        shape = draw(st.lists(st.integers(0, 3), max_size=3))
        param = kind == "LOD_TENSOR" and draw(st.booleans())
        persistable = param or draw(st.booleans())
        value = None
        if kind in ("LOD_TENSOR", "SELECTED_ROWS") and draw(st.integers(0, 9)):
            vdtype = draw(st.sampled_from([dtype, dtype, "float32"]))
            vshape = shape if param and draw(st.integers(0, 5)) else draw(
                st.lists(st.integers(0, 3), max_size=3))
            np_dtype = ml_dtypes.bfloat16 if vdtype == "bfloat16" else np.dtype(vdtype)
            array = (np.arange(int(np.prod(vshape)), dtype=np.int64) % 3).astype(np_dtype)
            array = array.reshape(vshape)
            lod = []
            if vshape and kind == "LOD_TENSOR" and draw(st.booleans()):
                cut = draw(st.integers(0, vshape[0]))
                lod = [[0, cut, vshape[0]]]
            rows = draw(st.lists(st.integers(0, 9), max_size=3))
            value = (array, lod, rows)
        decls.append((name, kind, dtype, shape, param, persistable, value))
    return decls


def build(decls):
    program = Program()
    block = program.global_block()
    variables = {}
    scope = Scope()
    for name, kind, dtype, shape, param, persistable, value in decls:
        if param:
            var = block.create_parameter(name=name, shape=shape, dtype=dtype)
        else:
            tensor_kind = kind in ("LOD_TENSOR", "SELECTED_ROWS")
            var = block.create_var(name=name, shape=shape if tensor_kind else None,
                                   dtype=dtype if kind in ("LOD_TENSOR", "SELECTED_ROWS")
                                   else None, type=getattr(VarType, kind),
                                   persistable=persistable)
        variables[name] = var
        if value is not None:
            array, lod, rows = value
            holder = scope.var(name)
            if kind == "SELECTED_ROWS":
                sr = holder.get_selected_rows()
                sr.get_tensor().set(array)
                sr.set_rows(rows)
                sr.set_height(10)
            else:
                tensor = holder.get_tensor()
                tensor.set(array)
                if lod:
                    tensor.set_lod(lod)
    return program, variables, scope


def tree(root):
    out = {}
    for base, _, files in os.walk(root):
        for f in files:
            path = os.path.join(base, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = fh.read()
    return out


def run(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", fn())
        except FluidSpecError as exc:
            result = ("error", exc.id, exc.var)
    return result, [str(w.message) for w in caught]


API = {"vars": ("save_vars", "load_vars"), "params": ("save_params", "load_params"),
       "persistables": ("save_persistables", "load_persistables")}


def save_call(mod, api, program, variables, mode, root, use_vars, predicate):
    save = getattr(mod, API[api][0])
    dirname = None if mode == "memory" else root
    filename = "model/params" if mode == "combined" else None
    if api == "vars":
        pred = None if predicate == "none" else getattr(mod, predicate)
        return save(None, dirname, program, vars=list(variables.values()) if use_vars else None,
                    predicate=pred, filename=filename)
    return save(None, dirname, program, filename=filename)


@given(worlds(), st.sampled_from(list(API)), st.sampled_from(["memory", "combined", "separate"]),
       st.booleans(), st.sampled_from(["none", "is_parameter", "is_persistable"]))
def test_saves_match_reference(decls, api, mode, use_vars, predicate):
    outcomes = []
    for mod in (rio, nio):
        program, variables, scope = build(decls)
        with tempfile.TemporaryDirectory() as root, scope_guard(scope):
            result = run(lambda mod=mod, program=program, variables=variables, root=root:
                         save_call(mod, api, program, variables, mode, root, use_vars, predicate))
            outcomes.append((result, tree(root)))
    assert outcomes[1] == outcomes[0]


@given(worlds(), st.sampled_from(list(API)), st.sampled_from(["memory", "combined", "separate"]),
       st.integers(0, 6), st.integers(0, 255))
def test_loads_match_reference(decls, api, mode, corrupt_kind, byte):
    """Save with the reference, optionally damage the result, load with both and compare."""
    program, variables, scope = build(decls)
    with tempfile.TemporaryDirectory() as root:
        with scope_guard(scope):
            saved = run(lambda: save_call(rio, api, program, variables, mode, root, False,
                                          "is_persistable"))[0]
        if saved[0] != "ok":
            return
        blob = saved[1]
        files = sorted(tree(root))
        if corrupt_kind and (files or blob):
            if mode == "memory":
                blob = _damage(blob, corrupt_kind, byte)
            else:
                path = os.path.join(root, files[byte % len(files)])
                with open(path, "rb") as f:
                    data = f.read()
                if corrupt_kind == 6:
                    os.remove(path)
                else:
                    with open(path, "wb") as f:
                        f.write(_damage(data, corrupt_kind, byte))
        outcomes = []
        for mod in (rio, nio):
            program2, variables2, _ = build(decls)
            fresh = Scope()
            with scope_guard(fresh):
                load = getattr(mod, API[api][1])
                dirname = None if mode == "memory" else root
                filename = blob if mode == "memory" else (
                    "model/params" if mode == "combined" else None)
                if api == "vars":
                    result = run(lambda load=load, dirname=dirname, filename=filename, mod=mod,
                                 program2=program2: load(None, dirname, program2,
                                                         predicate=mod.is_persistable,
                                                         filename=filename))
                else:
                    result = run(lambda load=load, dirname=dirname, filename=filename,
                                 program2=program2: load(None, dirname, program2,
                                                         filename=filename))
                outcomes.append((result, _scope_state(fresh, [d[0] for d in decls])))
        assert outcomes[1] == outcomes[0]


def _damage(data, kind, byte):
    if not data:
        return bytes([byte])
    at = byte % len(data)
    if kind == 1:
        return data[:at]
    if kind == 2:
        return data + bytes([byte]) * (1 + byte % 30)
    if kind == 3:
        return data[:at] + bytes([byte]) + data[at + 1:]
    if kind == 4:
        return data + data  # whole extra records
    return data[:at] + b"\xff" * 8 + data[at + 8:]


def _scope_state(scope, names):
    state = {}
    for name in names:
        holder = scope.find_var(name)
        if holder is None or not holder.is_initialized():
            continue
        value = holder._holder
        if hasattr(value, "rows"):
            array = np.asarray(value.get_tensor()._value())
            state[name] = ("sr", array.dtype.str, array.shape, array.tobytes(),
                           list(value.rows()), value.height())
        else:
            array = value._value()
            state[name] = ("dense", array.dtype.str, array.shape, array.tobytes(), value.lod())
    return state


def test_is_parameter_and_is_persistable_agree_with_reference():
    """SEL-CAND-003 on every kind."""
    program = Program()
    block = program.global_block()
    variables = [block.create_parameter(name="p", shape=[1], dtype="float32")]
    for kind in ("LOD_TENSOR", "SELECTED_ROWS", "RAW", "FEED_MINIBATCH", "FETCH_LIST", "READER",
                 "STEP_SCOPES"):
        for persistable in (True, False):
            variables.append(block.create_var(name=f"{kind}{persistable}",
                                              type=getattr(VarType, kind),
                                              persistable=persistable))
    for var in variables:
        assert nio.is_parameter(var) == rio.is_parameter(var)
        assert nio.is_persistable(var) == rio.is_persistable(var)


def test_failed_save_keeps_the_previous_save(tmp_path):
    """SEL-SAVE-008: an UNINITIALIZED variable stops the save before any file changes."""
    program = Program()
    block = program.global_block()
    a = block.create_var(name="a", shape=[2], dtype="float32", persistable=True)
    b = block.create_var(name="b", shape=[2], dtype="float32", persistable=True)
    scope = Scope()
    with scope_guard(scope):
        scope.var("a").get_tensor().set(np.ones(2, np.float32))
        scope.var("b").get_tensor().set(np.ones(2, np.float32))
        nio.save_vars(None, tmp_path, program, vars=[a, b])
        before = tree(tmp_path)
        scope.var("a").get_tensor().set(np.zeros(2, np.float32))
        scope.var("b")._set_holder(None)
        with pytest.raises(FluidSpecError) as err:
            nio.save_vars(None, tmp_path, program, vars=[a, b])
        assert err.value.id == "UNINITIALIZED"
        assert tree(tmp_path) == before
