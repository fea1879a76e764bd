"""The reference APIs against files real Paddle 2.6.2 wrote (conformance/vectors/paddle-2.6.2).

Each vector is loaded through ``fluid.io`` and compared with the values Paddle recorded; then
the same values are saved again through ``fluid.io`` and compared byte for byte with Paddle's
files; programs re-serialize byte-identically (PROG-SER-001).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from fluidspec import reference as fluid

VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "vectors" / "paddle-2.6.2"
MANIFEST = VECTORS / "manifest.json"
VT = fluid.core.VarDesc.VarType
EXE = fluid.Executor(fluid.CPUPlace())

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="Paddle vectors not present")


def _vectors(*kinds):
    if not MANIFEST.exists():
        return []
    entries = json.loads(MANIFEST.read_text())["vectors"]
    return [pytest.param(v, id=v["id"]) for v in entries if v["kind"] in kinds]


def _expected_array(spec_var):
    return np.load(VECTORS / spec_var["values"])


def _program_for(expected_vars):
    prog = fluid.Program()
    for item in expected_vars:
        kind = VT.SELECTED_ROWS if "rows" in item else VT.LOD_TENSOR
        prog.global_block().create_var(name=item["name"], shape=item["shape"],
                                       dtype=item["dtype"], type=kind, persistable=True)
    return prog


def _check_loaded(expected_vars):
    for item in expected_vars:
        holder = fluid.global_scope().find_var(item["name"])
        if "rows" in item:
            sr = holder.get_selected_rows()
            assert (sr.rows(), sr.height()) == (item["rows"], item["height"])
            tensor = sr.get_tensor()
        else:
            tensor = holder.get_tensor()
            assert tensor.lod() == item["lod"]
        loaded, expected = np.array(tensor), _expected_array(item)
        assert str(loaded.dtype) == item["dtype"] and list(loaded.shape) == item["shape"]
        assert loaded.tobytes() == expected.tobytes()


def _set_expected(expected_vars):
    for item in expected_vars:
        holder = fluid.global_scope().var(item["name"])
        if "rows" in item:
            sr = holder.get_selected_rows()
            sr.set_rows(item["rows"])
            sr.set_height(item["height"])
            sr.get_tensor().set(_expected_array(item), fluid.CPUPlace())
        else:
            tensor = holder.get_tensor()
            # bfloat16 values are stored as their uint16 bits, which write as BF16 (FMT-DTYPE-003)
            tensor.set(_expected_array(item), fluid.CPUPlace())
            tensor.set_lod(item["lod"])


@pytest.fixture(autouse=True)
def fresh_scope():
    with fluid.scope_guard(fluid.Scope()):
        yield


@pytest.mark.parametrize("vector", _vectors("tensor_file", "selected_rows_file"))
def test_separate_files_load_and_save_identically(vector, tmp_path):  # SEL-FILE-001, SEL-LOAD-007
    expected_vars = vector["expected"]["vars"]
    dirname = VECTORS / os.path.dirname(vector["files"][0])
    prog = _program_for(expected_vars)
    fluid.io.load_vars(EXE, dirname, prog, vars=list(prog.list_vars()))
    _check_loaded(expected_vars)
    with fluid.scope_guard(fluid.Scope()):
        _set_expected(expected_vars)
        fluid.io.save_vars(EXE, tmp_path, prog, vars=list(prog.list_vars()))
    for item in expected_vars:
        assert (tmp_path / item["name"]).read_bytes() == (dirname / item["name"]).read_bytes()


@pytest.mark.parametrize("vector", _vectors("combined", "memory"))
def test_combined_and_memory_load_and_save_identically(vector, tmp_path):  # SEL-FILE-002/003
    expected_vars = vector["expected"]["vars"]
    path = VECTORS / vector["files"][0]
    prog = _program_for(expected_vars)
    if vector["kind"] == "memory":
        fluid.io.load_persistables(EXE, None, prog, filename=path.read_bytes())
    else:
        fluid.io.load_persistables(EXE, path.parent, prog, filename=path.name)
    _check_loaded(expected_vars)
    with fluid.scope_guard(fluid.Scope()):
        _set_expected(expected_vars)
        assert fluid.io.save_persistables(EXE, None, prog) == path.read_bytes()
        fluid.io.save_persistables(EXE, tmp_path, prog, filename="__params__")
    assert (tmp_path / "__params__").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("vector", _vectors("save_dir"))
def test_selection_writes_the_files_paddle_wrote(vector, tmp_path):  # SEL-CAND-*, SEL-SAVE-*
    expected = vector["expected"]
    if expected.get("program"):
        program_bytes = (VECTORS / expected["program"]).read_bytes()
        prog = fluid.Program.parse_from_string(program_bytes)
        assert prog.desc.serialize_to_string() == program_bytes  # PROG-SER-001
        api = expected["api"]
        predicate = fluid.io.is_parameter if "is_parameter" in api else fluid.io.is_persistable
    else:  # names-separate: the vars themselves
        prog, predicate = _program_for(expected["vars"]), None
    paddle_dir = VECTORS / expected.get("dirname", os.path.dirname(vector["files"][0]))
    _set_expected(expected["vars"])
    fluid.io.save_vars(EXE, tmp_path, prog, predicate=predicate,
                       filename=expected.get("filename"))
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    paddle = sorted(str(p.relative_to(paddle_dir)) for p in paddle_dir.rglob("*") if p.is_file())
    assert written == paddle
    if "files_written" in expected:
        assert written == sorted(expected["files_written"])
    for name in written:
        assert (tmp_path / name).read_bytes() == (paddle_dir / name).read_bytes()
    with fluid.scope_guard(fluid.Scope()):
        fluid.io.load_vars(EXE, paddle_dir, prog, predicate=predicate,
                           filename=expected.get("filename"))
        _check_loaded(expected["vars"])


@pytest.mark.parametrize("vector", _vectors("inference_model"))
def test_inference_models_load_run_and_reserialize(vector, tmp_path):  # INF-LOAD-*, PROG-SER-001
    expected = vector["expected"]
    dirname = VECTORS / vector["id"]
    kwargs = {}
    if expected.get("model_filename") or expected.get("params_filename"):
        kwargs = dict(model_filename=expected.get("model_filename"),
                      params_filename=expected.get("params_filename"))
    elif "model.pdmodel" in {Path(f).name for f in vector["files"]}:
        kwargs = dict(model_filename="model", params_filename="model")  # .pdmodel/.pdiparams
    program, feeds, fetches = fluid.io.load_inference_model(dirname, EXE, **kwargs)
    assert feeds == expected["feed_target_names"]
    assert [v.name for v in fetches] == expected["fetch_target_names"]
    _check_loaded(expected["vars"])
    model_file = next(f for f in vector["files"] if Path(f).name in ("__model__", "model.pdmodel"))
    assert program.desc.serialize_to_string() == (VECTORS / model_file).read_bytes()
    assert not program.all_parameters()  # INF-LOAD-004
    run = expected["run"]
    feed = {name: np.load(VECTORS / p) for name, p in run["feed"].items()}
    outputs = EXE.run(program, feed=feed, fetch_list=fetches)
    for out, path in zip(outputs, run["fetch"], strict=True):
        want = np.load(VECTORS / path)
        assert out.dtype == want.dtype and out.tobytes() == want.tobytes()
    # saving the loaded program's persistables again gives Paddle's parameter files
    params_name = "model.pdiparams" if kwargs else None
    fluid.io.save_persistables(EXE, tmp_path, program, filename=params_name)
    for name in os.listdir(tmp_path):
        assert (tmp_path / name).read_bytes() == (dirname / name).read_bytes()
    assert len(os.listdir(tmp_path)) == len(vector["files"]) - 1
