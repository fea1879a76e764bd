"""fluidspec.reference._inference: save_inference_model / load_inference_model (INF-*)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec import reference as fluid
from fluidspec.reference._codec import decode_combined
from fluidspec.spec import PROGRAM_ONLY_WARNING
from fluidspec.spec.errors import (
    BadProgramError,
    InvalidArgumentError,
    MissingFileError,
    UninitializedVarError,
    UnsafeNameError,
)

VT = fluid.core.VarDesc.VarType
EXE = fluid.Executor(fluid.CPUPlace())


@pytest.fixture(autouse=True)
def fresh_scope():
    with fluid.scope_guard(fluid.Scope()):
        yield


def _model():
    """z = (x @ w + b) + x2, y = x @ w + b; 'unused' and 'lr' are persistables nobody needs."""
    main = fluid.Program()
    g = main.global_block()
    values = {"w": np.arange(6, dtype=np.float32).reshape(3, 2) / 8, "b": np.float32([1, -1]),
              "unused": np.ones(4, np.float32), "lr": np.float32(0.1)}
    for name, value in values.items():
        if name == "lr":
            g.create_var(name=name, shape=[1], dtype="float32", persistable=True)
        else:
            g.create_parameter(name=name, shape=list(value.shape), dtype="float32")
        fluid.global_scope().var(name).get_tensor().set(value, fluid.CPUPlace())
    for name, shape in [("x", [-1, 3]), ("x2", [-1, 2]), ("h", []), ("y", []), ("z", []),
                        ("junk", [])]:
        g.create_var(name=name, shape=shape, dtype="float32")
    g.append_op(type="read", inputs={"Reader": "rdr"}, outputs={"Out": ["x"]})
    g.append_op(type="mul", inputs={"X": "x", "Y": "w"}, outputs={"Out": "h"})
    g.append_op(type="elementwise_add", inputs={"X": "h", "Y": "b"}, outputs={"Out": "y"})
    g.append_op(type="elementwise_add", inputs={"X": "y", "Y": "x2"}, outputs={"Out": "z"})
    g.append_op(type="relu", inputs={"X": "unused"}, outputs={"Out": "junk"})
    g.append_op(type="sgd", inputs={"Param": "w", "LearningRate": "lr"}, outputs={"ParamOut": "w"})
    return main


FEED = {"x": np.float32([[1, 2, 3], [0, 0, 8]]), "x2": np.float32([[1, 1], [2, 2]])}


def _expected_outputs():
    y = FEED["x"] @ (np.arange(6, dtype=np.float32).reshape(3, 2) / 8) + np.float32([1, -1])
    return [y + FEED["x2"], y]


def test_dir_layout_prunes_frames_and_runs(tmp_path):  # INF-SAVE-002..008, INF-LOAD-002/003
    main = _model()
    before = main.desc.serialize_to_string()
    g = main.global_block()
    names = fluid.io.save_inference_model(str(tmp_path), ["x2", "x"], [g.var("z"), g.var("y")],
                                          EXE, main)
    assert names == ["z", "y"]
    assert sorted(os.listdir(tmp_path)) == ["__model__", "b", "w"]  # unused, lr pruned
    assert main.desc.serialize_to_string() == before  # INF-SAVE-009
    stored = fluid.Program.parse_from_string((tmp_path / "__model__").read_bytes())
    ops = stored.global_block().ops
    assert [op.type for op in ops] == ["feed", "feed", "mul", "elementwise_add",
                                      "elementwise_add", "fetch", "fetch"]
    assert [(op.output("Out"), op.attr("col")) for op in ops[:2]] == [(["x"], 1), (["x2"], 0)]
    assert [(op.input("X"), op.attr("col")) for op in ops[-2:]] == [(["z"], 0), (["y"], 1)]
    assert [v.name for v in stored.global_block().vars.values()] == [
        "b", "h", "w", "x", "x2", "y", "z", "feed", "fetch"]
    assert stored.global_block().var("feed").type == VT.FEED_MINIBATCH
    assert stored.global_block().var("fetch").type == VT.FETCH_LIST
    assert stored._version() == 2006002 and not any(op.type == "scale" for op in ops)
    assert not any(v._proto.is_parameter for v in stored.list_vars())  # INF-SAVE-006
    with fluid.scope_guard(fluid.Scope()):
        program, feeds, fetches = fluid.io.load_inference_model(str(tmp_path), EXE)
        assert feeds == ["x2", "x"] and [v.name for v in fetches] == ["z", "y"]
        assert not program.all_parameters()  # INF-LOAD-004
        outputs = EXE.run(program, feed=FEED, fetch_list=fetches)
    for got, want in zip(outputs, _expected_outputs(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_combined_params_and_filename_basenames(tmp_path):  # INF-SAVE-008, INF-LOAD-002
    main = _model()
    z = main.global_block().var("z")
    fluid.io.save_inference_model(tmp_path, ["x", "x2"], z, EXE, main,
                                  model_filename="ignored/dir/model.pdmodel",
                                  params_filename="/also/ignored/model.pdiparams")
    assert sorted(os.listdir(tmp_path)) == ["model.pdiparams", "model.pdmodel"]
    records = decode_combined((tmp_path / "model.pdiparams").read_bytes())
    assert [r.array.shape for r in records] == [(2,), (3, 2)]  # b, w sorted
    for model, params in [("model.pdmodel", "model.pdiparams"), ("model", "model")]:
        with fluid.scope_guard(fluid.Scope()):
            program, feeds, fetches = fluid.io.load_inference_model(
                tmp_path, EXE, model_filename=model, params_filename=params)
            (out,) = EXE.run(program, feed=FEED, fetch_list=fetches)
        np.testing.assert_array_equal(out, _expected_outputs()[0])


def test_paddle_path_prefix_form(tmp_path):  # INF-LOAD-006
    main = _model()
    fluid.io.save_inference_model(tmp_path, ["x", "x2"], [main.global_block().var("z")], EXE,
                                  main, model_filename="inference.pdmodel",
                                  params_filename="inference.pdiparams")
    with fluid.scope_guard(fluid.Scope()):
        program, feeds, fetches = fluid.io.load_inference_model(tmp_path / "inference", EXE)
        (out,) = EXE.run(program, feed=FEED, fetch_list=fetches)
    assert feeds == ["x", "x2"]
    np.testing.assert_array_equal(out, _expected_outputs()[0])
    with pytest.raises(MissingFileError):
        fluid.io.load_inference_model(tmp_path / "other", EXE)


def test_memory_mode_round_trip():  # INF-SAVE-010, INF-LOAD-005
    main = _model()
    model_bytes, params_bytes = fluid.io.save_inference_model(
        None, ["x", "x2"], [main.global_block().var("z")], EXE, main)
    assert len(decode_combined(params_bytes)) == 2
    with fluid.scope_guard(fluid.Scope()):
        program, feeds, fetches = fluid.io.load_inference_model(None, EXE, model_bytes,
                                                                 params_bytes)
        (out,) = EXE.run(program, feed=FEED, fetch_list=fetches)
    np.testing.assert_array_equal(out, _expected_outputs()[0])
    with pytest.raises(InvalidArgumentError):
        fluid.io.load_inference_model(None, EXE, model_bytes, None)


def test_program_only_and_not_for_deployment(tmp_path):  # INF-SAVE-011/012
    main = _model()
    z = main.global_block().var("z")
    with pytest.warns(UserWarning) as record:
        fluid.io.save_inference_model(tmp_path / "a", ["x", "x2"], [z], EXE, main,
                                      program_only=True)
    assert [str(w.message) for w in record] == [PROGRAM_ONLY_WARNING]
    assert os.listdir(tmp_path / "a") == ["__model__"]
    fluid.io.save_inference_model(tmp_path / "b", ["x", "x2"], [z], EXE, main,
                                  export_for_deployment=False)
    assert sorted(os.listdir(tmp_path / "b")) == ["__model__.main_program", "b", "lr", "unused",
                                                  "w"]
    whole = fluid.Program.parse_from_string((tmp_path / "b" / "__model__.main_program").read_bytes())
    assert [op.type for op in whole.global_block().ops] == [op.type for op in main.global_block().ops]


def test_no_feeds_and_sub_blocks(tmp_path):  # INF-SAVE-002/004
    main = fluid.Program()
    g = main.global_block()
    g.create_parameter(name="p_inner", shape=[2], dtype="float32")
    g.create_parameter(name="p_dead", shape=[2], dtype="float32")
    dead = main._create_block()
    dead.create_var(name="dead_inner", shape=[1], dtype="float32", persistable=True)
    main._rollback()
    live = main._create_block()
    live.append_op(type="assign", inputs={"X": "p_inner"}, outputs={"Out": "out"})
    main._rollback()
    g.create_var(name="out", shape=[2], dtype="float32")
    g.append_op(type="conditional_block", inputs={"Cond": []}, outputs={"Out": "out"},
                attrs={"sub_block": live, "is_test": False})
    g.append_op(type="while", inputs={"X": "p_dead"}, outputs={"Out": "never"},
                attrs={"sub_block": dead})
    for name in ("p_inner", "p_dead"):
        fluid.global_scope().var(name).get_tensor().set(np.ones(2, np.float32), fluid.CPUPlace())
    fluid.io.save_inference_model(tmp_path, [], [g.var("out")], EXE, main)
    assert sorted(os.listdir(tmp_path)) == ["__model__", "p_inner"]
    stored = fluid.Program.parse_from_string((tmp_path / "__model__").read_bytes())
    assert len(stored.blocks) == 2 and stored.block(1).ops[0].type == "assign"
    cond = stored.global_block().ops[0]
    assert cond.type == "conditional_block" and cond.attr("sub_block") == 1
    assert cond.attr("is_test") is True  # INF-SAVE-003
    assert "feed" not in stored.global_block().vars
    assert [op.type for op in stored.global_block().ops] == ["conditional_block", "fetch"]


def test_argument_and_feed_errors(tmp_path):  # INF-SAVE-001/002, API-ARG-001
    main = _model()
    z = main.global_block().var("z")
    for feeds, targets in [(["x", 3], [z]), (["x"], []), (["x"], ["z"]), (None, [z])]:
        with pytest.raises(InvalidArgumentError):
            fluid.io.save_inference_model(tmp_path, feeds, targets, EXE, main)
    stranger = fluid.Program().global_block().create_var(name="stranger", shape=[1])
    with pytest.raises(InvalidArgumentError, match="not declared"):
        fluid.io.save_inference_model(tmp_path, ["x"], [stranger], EXE, main)
    with pytest.raises(InvalidArgumentError, match="feeded_var_names\\[1\\]"):
        fluid.io.save_inference_model(tmp_path, ["x", "unused"], [z], EXE, main)
    assert list(tmp_path.iterdir()) == []


def test_unsafe_filenames_and_uninitialized_params_write_nothing(tmp_path):  # INF-SAVE-008
    main = _model()
    z = main.global_block().var("z")
    for model, params in [("..", None), ("x/", None), (None, "..")]:
        with pytest.raises(UnsafeNameError):
            fluid.io.save_inference_model(tmp_path / "d", ["x", "x2"], [z], EXE, main,
                                          model_filename=model, params_filename=params)
    with fluid.scope_guard(fluid.Scope()), pytest.raises(UninitializedVarError):
        fluid.io.save_inference_model(tmp_path / "d", ["x", "x2"], [z], EXE, main)
    assert not (tmp_path / "d").exists()


def test_load_errors(tmp_path):  # INF-LOAD-001/002
    with pytest.raises(MissingFileError):
        fluid.io.load_inference_model(tmp_path / "nope", EXE)
    with pytest.raises(MissingFileError):
        fluid.io.load_inference_model(tmp_path, EXE)
    (tmp_path / "__model__").write_bytes(b"not a program at all")
    with pytest.raises(BadProgramError) as info:
        fluid.io.load_inference_model(tmp_path, EXE)
    assert info.value.path == str(tmp_path / "__model__")
    program = fluid.Program()
    program.global_block().append_op(type="fetch", inputs={"X": "ghost"},
                                      outputs={"Out": "fetch"}, attrs={"col": 0})
    (tmp_path / "__model__").write_bytes(program.desc.serialize_to_string())
    with pytest.raises(BadProgramError):
        fluid.io.load_inference_model(tmp_path, EXE)


@given(st.permutations(["a", "b", "c", "d"]), st.permutations(["ya", "yb", "yc"]))
def test_feed_and_fetch_order_survive_a_round_trip(feeds, fetch_names):  # INF-SAVE-004/005, INF-LOAD-003
    main = fluid.Program()
    g = main.global_block()
    for name in ["a", "b", "c", "d"]:
        g.create_var(name=name, shape=[1], dtype="float32")
    for i, name in enumerate(fetch_names):
        g.append_op(type="elementwise_add", inputs={"X": "abcd"[i], "Y": "d"},
                    outputs={"Out": name})
    targets = [g.create_var(name=n, shape=[1], dtype="float32") for n in fetch_names]
    with pytest.warns(UserWarning):  # no persistables: nothing to save (SEL-SAVE-002)
        model, params = fluid.io.save_inference_model(None, list(feeds), targets, EXE, main)
    assert params is None
    program = fluid.Program.parse_from_string(model)
    stored_cols = [op.attr("col") for op in program.global_block().ops if op.type == "feed"]
    assert stored_cols == list(range(len(feeds) - 1, -1, -1))
    assert program.desc.get_feed_target_names() == list(feeds)
    assert program.desc.get_fetch_target_names() == list(fetch_names)


_REPO = Path(__file__).resolve().parents[2]
_PADDLE_PYTHON = _REPO / ".venv-paddle" / "bin" / "python"


@pytest.mark.skipif(not _PADDLE_PYTHON.exists(), reason="no Paddle 2.6.2 venv (.venv-paddle)")
@pytest.mark.parametrize("layout", ["dir", "combined"])
def test_reference_models_run_in_real_paddle(tmp_path, layout):  # INF-SAVE-*, PROG-SCHEMA-001
    """Paddle 2.6.2's Fluid loader (load_inference_model_distributed) loads what the reference
    wrote — two feeds stored in reverse col order, two fetches, mul/add ops, dir or combined
    layout — and computes the same values."""
    main = _model()
    g = main.global_block()
    names = {}
    if layout == "combined":
        names = dict(model_filename="model.pdmodel", params_filename="model.pdiparams")
    fluid.io.save_inference_model(tmp_path / "m", ["x2", "x"], [g.var("z"), g.var("y")], EXE,
                                  main, **names)
    np.savez(tmp_path / "feeds.npz", **FEED)
    argv = [str(_PADDLE_PYTHON), str(_REPO / "conformance" / "paddle" / "run_inference.py"),
            str(tmp_path / "m"), str(tmp_path / "feeds.npz"), str(tmp_path / "out.npz")]
    for key, value in names.items():
        argv += [f"--{key.replace('_', '-')}", value]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=_REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = dict(np.load(tmp_path / "out.npz"))
    assert list(out["feed_target_names"]) == ["x2", "x"]
    assert list(out["fetch_target_names"]) == ["z", "y"]
    for i, want in enumerate(_expected_outputs()):
        np.testing.assert_array_equal(out[f"fetch_{i}"], want)


# A Paddle 2.6.2 program with control flow (while_loop, cond: sub-blocks), an Adam-minimized
# training program and its for_test clone; op_callstack holds this machine's absolute paths.
_PADDLE_CONTROL_FLOW = '''
import json, os, sys, paddle, numpy as np
paddle.enable_static()
out = sys.argv[1]
main, st = paddle.static.Program(), paddle.static.Program()
with paddle.static.program_guard(main, st):
    x = paddle.static.data("x", [None, 4], "float32")
    y = paddle.static.nn.fc(x, 3, activation="relu")
    i, n = paddle.full([1], 0, "int64"), paddle.full([1], 3, "int64")
    i2, y2 = paddle.static.nn.while_loop(lambda i, y: i < n, lambda i, y: [i + 1, y * 2.0], [i, y])
    z = paddle.static.nn.cond(paddle.mean(y2) > 0, lambda: y2 + 1.0, lambda: y2 - 1.0)
    test = main.clone(for_test=True)
    paddle.optimizer.Adam(0.01).minimize(paddle.mean(z))
exe = paddle.static.Executor(paddle.CPUPlace())
exe.run(st)
paddle.distributed.io.save_persistables(exe, os.path.join(out, "params"), test)
xv = (np.arange(8, dtype="float32").reshape(2, 4) - 3) / 8
zv, = exe.run(test, feed={"x": xv}, fetch_list=[z])
np.save(os.path.join(out, "x.npy"), xv)
np.save(os.path.join(out, "z.npy"), zv)
after = main.clone(for_test=True)
for name, prog in (("train.pb", main), ("startup.pb", st), ("test.pb", test),
                   ("test_after_minimize.pb", after)):
    open(os.path.join(out, name), "wb").write(prog.desc.serialize_to_string())
paddle.static.save_inference_model(os.path.join(out, "inf", "m"), [x], [z], exe, program=test,
                                   clip_extra=False)
json.dump({"z": z.name}, open(os.path.join(out, "names.json"), "w"))
'''


@pytest.fixture(scope="module")
def paddle_control_flow(tmp_path_factory):
    if not _PADDLE_PYTHON.exists():
        pytest.skip("no Paddle 2.6.2 venv (.venv-paddle)")
    root = tmp_path_factory.mktemp("paddle_cf")
    (root / "gen.py").write_text(_PADDLE_CONTROL_FLOW)
    proc = subprocess.run([str(_PADDLE_PYTHON), str(root / "gen.py"), str(root)],
                          capture_output=True, text=True, timeout=300, cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


def test_paddle_control_flow_programs_reserialize_identically(paddle_control_flow):  # PROG-SER-001
    root = paddle_control_flow
    for name in ("train.pb", "startup.pb", "test.pb", "inf/m.pdmodel"):
        data = (root / name).read_bytes()
        program = fluid.Program.parse_from_string(data)
        for block in program.blocks:  # read everything through the object model
            for var in block.vars.values():
                _ = (var.shape, var.dtype, var.lod_level, var.persistable)
            for op in block.ops:
                op.all_attrs()
        assert program.desc.serialize_to_string() == data, name
    train = fluid.Program.parse_from_string((root / "train.pb").read_bytes())
    assert len(train.blocks) > 1 and any(op.has_attr("op_callstack") for op in train.global_block().ops)
    program, feeds, fetches = fluid.io.load_inference_model(root / "inf" / "m", EXE)  # prefix
    assert feeds == ["x"] and len(fetches) == 1


def test_reference_prunes_paddle_control_flow_and_paddle_runs_it(paddle_control_flow, tmp_path):
    """INF-SAVE-002: pruning keeps the ops of while/cond sub-blocks; Paddle runs the result."""
    root = paddle_control_flow
    test = fluid.Program.parse_from_string((root / "test.pb").read_bytes())
    target = test.global_block().var(json.loads((root / "names.json").read_text())["z"])
    with fluid.scope_guard(fluid.Scope()):
        fluid.io.load_persistables(EXE, root / "params", test)
        fluid.io.save_inference_model(tmp_path / "ref", ["x"], [target], EXE, test)
    stored = fluid.Program.parse_from_string((tmp_path / "ref" / "__model__").read_bytes())
    assert {"while", "conditional_block"} <= {op.type for op in stored.global_block().ops}
    # The same pruning as Paddle's own save_inference_model, less its scale op (INF-SAVE-007).
    paddle_model = fluid.Program.parse_from_string((root / "inf" / "m.pdmodel").read_bytes())
    scale = "save_infer_model/scale_0.tmp_0"

    def ops(program):
        return [[op.type for op in block.ops
                 if not (op.type == "scale" and op.output("Out") == [scale])]
                for block in program.blocks]

    assert ops(stored) == ops(paddle_model)
    assert sorted(stored.global_block().vars) == sorted(
        n for n in paddle_model.global_block().vars if n != scale)
    np.savez(tmp_path / "feeds.npz", x=np.load(root / "x.npy"))
    proc = subprocess.run(
        [str(_PADDLE_PYTHON), str(_REPO / "conformance" / "paddle" / "run_inference.py"),
         str(tmp_path / "ref"), str(tmp_path / "feeds.npz"), str(tmp_path / "out.npz")],
        capture_output=True, text=True, timeout=300, cwd=_REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = dict(np.load(tmp_path / "out.npz"))
    np.testing.assert_array_equal(out["fetch_0"], np.load(root / "z.npy"))


def test_clone_for_test_matches_paddle_on_a_minimized_program(paddle_control_flow):
    """API-MODEL-007: clone(for_test=True) of Paddle's Adam-minimized control-flow program has the
    blocks, ops, parents and variables of Paddle's own clone(for_test=True)."""
    root = paddle_control_flow
    train = fluid.Program.parse_from_string((root / "train.pb").read_bytes())
    paddle_clone = fluid.Program.parse_from_string((root / "test_after_minimize.pb").read_bytes())

    def shape(program):
        return [([op.type for op in b.ops], b.parent_idx, b.forward_block_idx, sorted(b.vars))
                for b in program.blocks]

    assert len(train.blocks) > len(paddle_clone.blocks)  # gradient blocks exist to be dropped
    assert shape(train.clone(for_test=True)) == shape(paddle_clone)
