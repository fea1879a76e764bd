"""fluidspec.reference._executor: places and the interpreting Executor (API-EXEC-*)."""

from __future__ import annotations

import numpy as np
import pytest

from fluidspec import reference as fluid
from fluidspec.spec.errors import InvalidArgumentError, UninitializedVarError

VT = fluid.core.VarDesc.VarType


def _linear_programs():
    main, startup = fluid.Program(), fluid.Program()
    g, s = main.global_block(), startup.global_block()
    g.create_parameter(name="w", shape=[3, 2], dtype="float32")
    g.create_parameter(name="b", shape=[2], dtype="float32")
    x = g.create_var(name="x", shape=[-1, 3], dtype="float32")
    h = g.create_var(name="h", dtype="float32")
    y = g.create_var(name="y", dtype="float32")
    g.append_op(type="mul", inputs={"X": x, "Y": "w"}, outputs={"Out": h})
    g.append_op(type="elementwise_add", inputs={"X": h, "Y": "b"}, outputs={"Out": y},
                attrs={"axis": 1})
    for name, shape, value in [("w", [3, 2], 0.5), ("b", [2], -1.0)]:
        s.create_var(name=name, shape=shape, dtype="float32", persistable=True)
        s.append_op(type="fill_constant", outputs={"Out": name},
                    attrs={"shape": shape, "dtype": int(VT.FP32), "value": value})
    return main, startup, y


def test_startup_then_main_computes_and_keeps_only_persistables():  # API-EXEC-001
    main, startup, y = _linear_programs()
    scope = fluid.Scope()
    exe = fluid.Executor(fluid.CPUPlace())
    exe.run(startup, scope=scope)
    assert np.array(scope.find_var("w").get_tensor()).tolist() == [[0.5, 0.5]] * 3
    x = np.array([[1, 2, 3], [0, 0, 2]], np.float32)
    (out,) = exe.run(main, feed={"x": x}, fetch_list=[y], scope=scope)
    np.testing.assert_allclose(out, x @ np.full((3, 2), 0.5) - 1.0)
    assert scope.find_var("h") is None and scope.find_var("y") is None  # temporaries dropped


def test_feed_ops_take_values_by_output_name():  # API-EXEC-001
    prog = fluid.Program()
    g = prog.global_block()
    g.create_var(name="feed", type=VT.FEED_MINIBATCH, persistable=True)
    g.create_var(name="a", shape=[2], dtype="float32")
    g.append_op(type="feed", inputs={"X": "feed"}, outputs={"Out": "a"}, attrs={"col": 0})
    g.append_op(type="scale", inputs={"X": "a"}, outputs={"Out": "b"},
                attrs={"scale": 2.0, "bias": 1.0})
    exe = fluid.Executor(fluid.CUDAPlace(0))  # accepted, runs on the host (API-EXEC-003)
    (out,) = exe.run(prog, feed={"a": np.array([1, 2], np.float32)}, fetch_list=["b"],
                     scope=fluid.Scope())
    assert out.tolist() == [3, 5]
    with pytest.raises(InvalidArgumentError):
        exe.run(prog, feed={}, fetch_list=["b"], scope=fluid.Scope())


def test_unknown_op_types_are_refused_before_anything_runs():  # API-EXEC-002
    prog = fluid.Program()
    g = prog.global_block()
    g.create_var(name="p", shape=[1], dtype="float32", persistable=True)
    g.append_op(type="fill_constant", outputs={"Out": "p"},
                attrs={"shape": [1], "dtype": int(VT.FP32), "value": 1.0})
    g.append_op(type="conv2d_grad")
    scope = fluid.Scope()
    with pytest.raises(InvalidArgumentError, match="conv2d_grad"):
        fluid.Executor().run(prog, scope=scope)
    assert scope.find_var("p") is None


def test_reading_an_unset_variable_is_uninitialized():  # API-EXEC-001
    prog = fluid.Program()
    prog.global_block().append_op(type="relu", inputs={"X": "nothing"}, outputs={"Out": "o"})
    with pytest.raises(UninitializedVarError):
        fluid.Executor().run(prog, scope=fluid.Scope())


@pytest.mark.parametrize(
    ("op", "attrs", "x", "y", "expected"),
    [
        ("matmul", {"transpose_Y": True, "alpha": 2.0}, [[1.0, 2.0]], [[3.0, 4.0]], [[22.0]]),
        ("matmul_v2", {"trans_x": False}, [[1.0, 2.0]], [[3.0], [4.0]], [[11.0]]),
        ("elementwise_sub", {}, [5.0, 6.0], [1.0, 2.0], [4.0, 4.0]),
        ("elementwise_mul", {}, [5.0, 6.0], [2.0, 3.0], [10.0, 18.0]),
    ],
)
def test_binary_kernels(op, attrs, x, y, expected):  # API-EXEC-002
    prog = fluid.Program()
    prog.global_block().append_op(type=op, inputs={"X": "x", "Y": "y"}, outputs={"Out": "o"},
                                  attrs=attrs)
    (out,) = fluid.Executor().run(
        prog, feed={"x": np.array(x, np.float32), "y": np.array(y, np.float32)},
        fetch_list=["o"], scope=fluid.Scope())
    assert out.tolist() == expected


def test_unary_kernels_and_cast():  # API-EXEC-002
    prog = fluid.Program()
    g = prog.global_block()
    g.append_op(type="relu", inputs={"X": "x"}, outputs={"Out": "r"})
    g.append_op(type="cast", inputs={"X": "r"}, outputs={"Out": "c"},
                attrs={"in_dtype": int(VT.FP32), "out_dtype": int(VT.INT64)})
    r, c = fluid.Executor().run(prog, feed={"x": np.array([-1.5, 2.5], np.float32)},
                                fetch_list=["r", "c"], scope=fluid.Scope())
    assert r.tolist() == [0.0, 2.5] and c.dtype == np.int64 and c.tolist() == [0, 2]


def _run_one(op_type, inputs, attrs, outputs=("Out",)):
    prog = fluid.Program()
    feed = {}
    slots = {}
    for slot, arrays in inputs.items():
        names = []
        for i, array in enumerate(arrays):
            name = f"{slot}{i}"
            feed[name] = np.asarray(array)
            names.append(name)
        slots[slot] = names
    prog.global_block().append_op(type=op_type, inputs=slots,
                                  outputs={o: [o.lower()] for o in outputs}, attrs=attrs)
    return fluid.Executor().run(prog, feed=feed, fetch_list=[o.lower() for o in outputs],
                                scope=fluid.Scope())


def test_shape_and_reduction_kernels():  # API-EXEC-002
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    (out,) = _run_one("reshape2", {"X": [x]}, {"shape": [0, -1]})
    assert out.shape == (2, 12) and out.ravel().tolist() == x.ravel().tolist()
    (out,) = _run_one("transpose2", {"X": [x]}, {"axis": [2, 0, 1]})
    assert out.shape == (4, 2, 3) and out[3, 1, 2] == x[1, 2, 3]
    (out,) = _run_one("reduce_sum", {"X": [x]}, {"dim": [1], "keep_dim": True})
    assert out.shape == (2, 1, 4) and out[1, 0, 2] == x[1, :, 2].sum()
    (out,) = _run_one("reduce_mean", {"X": [x]}, {"reduce_all": True})
    assert out.shape == () and out == np.float32(11.5)
    (out,) = _run_one("concat", {"X": [x[:, :1], x[:, 1:]]}, {"axis": 1})
    assert out.tolist() == x.tolist()


def test_softmax_divide_and_dropout_kernels():  # API-EXEC-002
    logits = np.array([[0.0, np.log(3.0)]], np.float32)
    (out,) = _run_one("softmax", {"X": [logits]}, {"axis": -1})
    np.testing.assert_allclose(out, [[0.25, 0.75]], rtol=1e-6)
    (out,) = _run_one("elementwise_div", {"X": [np.float32([6, 9])], "Y": [np.float32([2, 3])]}, {})
    assert out.tolist() == [3.0, 3.0]
    x = np.float32([2.0, 4.0])
    (out,) = _run_one("dropout", {"X": [x]}, {"is_test": True, "dropout_prob": 0.25})
    assert out.tolist() == [1.5, 3.0]  # downgrade_in_infer: x * (1 - p)
    (out,) = _run_one("dropout", {"X": [x]}, {"is_test": True, "dropout_prob": 0.25,
                                               "dropout_implementation": "upscale_in_train"})
    assert out.tolist() == [2.0, 4.0]
    with pytest.raises(InvalidArgumentError):
        _run_one("dropout", {"X": [x]}, {"is_test": False})
    (out,) = _run_one("sqrt", {"X": [np.float32([4, 9])]}, {})
    assert out.tolist() == [2.0, 3.0]
