"""numba_kernels.io on the files real Paddle 2.6.2 wrote (conformance/vectors/paddle-2.6.2).

Each vector is loaded through numba_kernels.io and through reference.io (the oracle); both must
put the same values in the scope and match Paddle's recorded values; saving the loaded values
again with numba_kernels.io must reproduce Paddle's bytes.  Clauses: SEL-CAND-003, SEL-FILE-001
/002/003, SEL-LOAD-002/007, FMT-COMB-001, INF-LOAD-002/003.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from fluidspec import numba_kernels
from fluidspec import reference as fluid
from fluidspec.numba_kernels import io as nio
from fluidspec.reference import io as rio
from tests.conformance.test_paddle_vectors import BY_ID, VECTORS, _assert_same, _ids


@pytest.fixture(scope="session", autouse=True)
def _warm() -> None:
    numba_kernels.warm_up()


def _state(scope):
    out = {}
    for name in sorted(scope.local_var_names()):
        holder = scope.find_var(name)
        if holder is not None and holder.is_initialized():
            tensor = holder.get_tensor()
            array = np.asarray(tensor)
            out[name] = (array.dtype.str, array.shape, array.tobytes(), tensor.lod())
    return out


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("vid", [i for i in _ids("save_dir") if i.startswith("filter-")])
def test_filtering_vectors_load_and_resave(vid, tmp_path):
    exp = BY_ID[vid]["expected"]
    program_bytes = (VECTORS / exp["program"]).read_bytes()
    params = "params" in vid.split("-")[2]
    states = []
    for mod in (rio, nio):
        program = fluid.Program.parse_from_string(program_bytes)
        load = mod.load_params if params else mod.load_persistables
        scope = fluid.Scope()
        with fluid.scope_guard(scope):
            load(None, str(VECTORS / exp["dirname"]), main_program=program,
                 filename=exp["filename"])
            if mod is nio:  # save what was loaded: Paddle's bytes again
                save = nio.save_params if params else nio.save_persistables
                save(None, str(tmp_path), main_program=program, filename=exp["filename"])
        states.append(_state(scope))
        for var in exp["vars"]:
            _assert_same(np.asarray(scope.find_var(var["name"]).get_tensor()), var, vid)
    assert states[1] == states[0]
    assert _tree(tmp_path) == _tree(VECTORS / exp["dirname"])


@pytest.mark.parametrize("vid", _ids("inference_model"))
def test_inference_vectors_load_like_reference(vid):
    exp = BY_ID[vid]["expected"]
    results = []
    for mod in (rio, nio):
        scope = fluid.Scope()
        with fluid.scope_guard(scope):
            program, feeds, fetches = mod.load_inference_model(
                str(VECTORS / exp["dirname"]), None, model_filename=exp["model_filename"],
                params_filename=exp["params_filename"])
        assert list(feeds) == exp["feed_target_names"]
        assert [t.name for t in fetches] == exp["fetch_target_names"]
        results.append((program.desc.serialize_to_string(), _state(scope)))
    assert results[1] == results[0]


@pytest.mark.parametrize("vid", _ids("combined", "memory"))
def test_combined_vectors_load_through_load_vars(vid):
    vec = BY_ID[vid]
    exp = vec["expected"]
    [rel] = vec["files"]
    data = (VECTORS / rel).read_bytes()
    states = []
    for mod in (rio, nio):
        program = fluid.Program()
        block = program.global_block()
        declared = [block.create_var(name=v["name"], shape=v["shape"], dtype=v["dtype"],
                                     persistable=True) for v in exp["vars"]]
        scope = fluid.Scope()
        with fluid.scope_guard(scope):
            mod.load_vars(None, None, program, vars=declared, filename=data)
            if mod is nio:
                assert nio.save_vars(None, None, program, vars=declared) == data
        states.append(_state(scope))
    assert states[1] == states[0]
    assert os.path.exists(VECTORS / rel)
