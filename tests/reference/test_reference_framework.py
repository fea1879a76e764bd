"""fluidspec.reference._framework: Programs, Blocks, Variables, Parameters, Operators (API-MODEL-*)."""

from __future__ import annotations

import numpy as np
import pytest

from fluidspec import reference as fluid
from fluidspec.reference.framework import Parameter, Variable
from fluidspec.spec.errors import InvalidArgumentError

VT = fluid.core.VarDesc.VarType


def test_program_has_a_global_block_and_sub_blocks():  # API-MODEL-001
    prog = fluid.Program()
    assert prog.global_block() is prog.block(0) and prog.blocks == [prog.global_block()]
    assert prog.global_block().parent_idx == -1
    sub = prog._create_block()
    assert (sub.idx, sub.parent_idx) == (1, 0) and prog.current_block() is sub
    subsub = prog._create_block()
    assert subsub.parent_idx == 1 and subsub.parent_block is sub
    prog._rollback()
    assert prog.current_block() is sub


def test_program_guard_swaps_and_restores_the_defaults():  # API-MODEL-001
    before_main, before_startup = fluid.default_main_program(), fluid.default_startup_program()
    main, startup = fluid.Program(), fluid.Program()
    with fluid.program_guard(main, startup):
        assert fluid.default_main_program() is main
        assert fluid.default_startup_program() is startup
    assert fluid.default_main_program() is before_main
    assert fluid.default_startup_program() is before_startup
    with pytest.raises(InvalidArgumentError):
        with fluid.program_guard("not a program"):
            pass


def test_create_var_declares_kind_shape_dtype_lod_level():  # API-MODEL-002/003/004
    block = fluid.Program().global_block()
    x = block.create_var(name="x", shape=[-1, 3], dtype="float32", lod_level=1)
    assert isinstance(x, Variable) and not isinstance(x, Parameter)
    assert (x.name, x.type, x.shape, x.dtype, x.lod_level, x.persistable) == (
        "x", VT.LOD_TENSOR, (-1, 3), VT.FP32, 1, False)
    assert block.create_var(name="x", shape=[-1, 3], dtype=np.float32) is x  # agrees: same var
    assert block.create_var(name="x") is x
    for disagreeing in (dict(shape=[9]), dict(dtype="int64"), dict(lod_level=0),
                        dict(persistable=True), dict(type=VT.SELECTED_ROWS)):
        with pytest.raises(InvalidArgumentError):  # as Paddle: "has been created before"
            block.create_var(name="x", **disagreeing)
    sr = block.create_var(name="sr", shape=[10, 4], dtype=np.int64, type=VT.SELECTED_ROWS)
    assert (sr.type, sr.shape, sr.dtype) == (VT.SELECTED_ROWS, (10, 4), VT.INT64)
    feed = block.create_var(name="feed", type=VT.FEED_MINIBATCH, persistable=True)
    assert (feed.shape, feed.dtype, feed.persistable) == ((), None, True)
    assert block.create_var(name="h", shape=[2], dtype=VT.BF16).dtype == VT.BF16
    assert block.create_var(name="u", shape=[2], dtype="uint16").dtype == VT.BF16
    no_dtype = block.create_var(name="d", shape=[2])
    assert no_dtype.dtype == VT.FP32 and no_dtype.shape == (2,)
    assert no_dtype._proto.type.lod_tensor.tensor.HasField("data_type")  # Paddle can parse it


def test_create_var_refuses_unknown_dtype_and_shaped_non_tensors():  # API-MODEL-003/004
    block = fluid.Program().global_block()
    with pytest.raises(InvalidArgumentError):
        block.create_var(name="x", shape=[1], dtype="float128")
    with pytest.raises(InvalidArgumentError):
        block.create_var(name="r", shape=[1], type=VT.RAW)


def test_names_are_not_validated_at_creation():  # API-MODEL-002
    block = fluid.Program().global_block()
    for name in ["../up", "/abs", "a/b", "", ".", "nul\x00", "é"]:
        assert block.create_var(name=name, shape=[1], dtype="int8").name == name
    with pytest.raises(InvalidArgumentError):  # VarDesc.name is UTF-8 on the wire
        block.create_var(name="\udcff", shape=[1])
    with pytest.raises(InvalidArgumentError):
        block.create_var(name=7, shape=[1])


def test_create_parameter_goes_to_the_global_block():  # API-MODEL-002
    prog = fluid.Program()
    sub = prog._create_block()
    w = sub.create_parameter(name="w", shape=[2, 3], dtype="float32")
    assert isinstance(w, Parameter) and isinstance(w, Variable)
    assert w.persistable and w.trainable and w._proto.is_parameter
    assert prog.global_block().var("w") is w and not sub.has_var("w")
    with pytest.raises(InvalidArgumentError):
        prog.global_block().var("nope")


def test_list_vars_is_block_order_then_creation_order():  # API-MODEL-007
    prog = fluid.Program()
    g = prog.global_block()
    g.create_var(name="z", shape=[1])
    sub = prog._create_block()
    sub.create_var(name="b", shape=[1])
    sub.create_var(name="a", shape=[1])
    g.create_var(name="y", shape=[1])
    assert [v.name for v in prog.list_vars()] == ["z", "y", "b", "a"]


def test_append_op_takes_variables_or_names_and_any_type():  # API-MODEL-005/006
    prog = fluid.Program()
    g = prog.global_block()
    x = g.create_var(name="x", shape=[2])
    sub = prog._create_block()
    prog._rollback()
    op = g.append_op(
        type="some_grad_op_nobody_runs", inputs={"X": x, "Y": ["y", x]}, outputs={"Out": "o"},
        attrs={"b": True, "i": 3, "l": 2**40, "f": 0.5, "s": "t", "ints": [1, 2],
               "floats": [1.0, 2.5], "strs": ["a"], "bools": [True, False], "sub_block": sub,
               "empty": []},
    )
    assert op.input("Y") == ["y", "x"] and op.output("Out") == ["o"]
    assert op.input_arg_names == ["x", "y", "x"]
    assert op.all_attrs() == {"b": True, "i": 3, "l": 2**40, "f": 0.5, "s": "t", "ints": [1, 2],
                              "floats": [1.0, 2.5], "strs": ["a"], "bools": [True, False],
                              "sub_block": 1, "empty": []}
    assert op._sub_block_ids() == [1]
    first = g._prepend_op(type="first")
    assert [o.type for o in g.ops] == ["first", "some_grad_op_nobody_runs"] and first.block is g
    with pytest.raises(InvalidArgumentError):
        g.append_op(type="bad", attrs={"x": object()})
    with pytest.raises(InvalidArgumentError):
        g.append_op(type="bad", inputs={"X": [3]})


def test_clone_is_deep_and_keeps_parameters():  # API-MODEL-007
    prog = fluid.Program()
    g = prog.global_block()
    g.create_parameter(name="w", shape=[2], dtype="float32", trainable=False)
    g.create_var(name="x", shape=[2])
    g.append_op(type="mul", inputs={"X": "x", "Y": "w"}, outputs={"Out": "x"})
    copy = prog.clone()
    assert isinstance(copy.global_block().var("w"), Parameter)
    assert copy.global_block().var("w").trainable is False
    copy.global_block().var("x").persistable = True
    copy.global_block().append_op(type="relu")
    assert prog.global_block().var("x").persistable is False and len(prog.global_block().ops) == 1


def test_clone_for_test_drops_training_ops_and_sets_is_test():  # API-MODEL-007
    # The shape of a minimize()d program in Paddle 2.6.2: forward ops, the loss op (256), the
    # loss-gradient op (257), gradient ops (1), optimizer ops (2).
    prog = fluid.Program()
    g = prog.global_block()
    for name in ("x", "w", "y", "loss", "unused", "w@GRAD", "lr"):
        g.create_var(name=name, shape=[1])
    g.append_op(type="mul", inputs={"X": "x", "Y": "w"}, outputs={"Out": "y"}, attrs={"op_role": 0})
    g.append_op(type="dropout", inputs={"X": "y"}, outputs={"Out": "y"},
                attrs={"is_test": False, "op_role": 0})
    g.append_op(type="reduce_mean", inputs={"X": "y"}, outputs={"Out": "loss"},
                attrs={"op_role": 256})
    g.append_op(type="fill_constant", outputs={"Out": "loss@GRAD"}, attrs={"op_role": 257})
    g.append_op(type="mul_grad", inputs={"X": "x"}, outputs={"Y@GRAD": "w@GRAD"},
                attrs={"op_role": 1})
    g.append_op(type="sgd", inputs={"Param": "w", "Grad": "w@GRAD", "LearningRate": "lr"},
                outputs={"ParamOut": "w"}, attrs={"op_role": 2})
    test = prog.clone(for_test=True)
    assert [op.type for op in test.global_block().ops] == ["mul", "dropout", "reduce_mean"]
    assert test.global_block().ops[1].attr("is_test") is True
    assert list(test.global_block().vars) == ["x", "w", "y", "loss"]  # unused, grads, lr gone
    assert len(prog.global_block().ops) == 6 and len(prog.global_block().vars) == 7


def test_clone_for_test_without_a_loss_gradient_keeps_every_op():  # API-MODEL-007
    prog = fluid.Program()
    g = prog.global_block()
    g.create_var(name="unused", shape=[1])
    g.append_op(type="sgd", attrs={"op_role": 2})
    g.append_op(type="scale", attrs={"op_role": 1})
    test = prog.clone(for_test=True)
    assert [op.type for op in test.global_block().ops] == ["sgd", "scale"]
    assert list(test.global_block().vars) == ["unused"]


def test_parse_from_string_round_trips_our_own_programs():  # API-MODEL-007, PROG-SER-001
    prog = fluid.Program()
    g = prog.global_block()
    g.create_parameter(name="w", shape=[3, 2], dtype="float64")
    g.create_var(name="x", shape=[-1, 3], dtype="float64", lod_level=2)
    g.append_op(type="mul", inputs={"X": "x", "Y": "w"}, outputs={"Out": "y"}, attrs={"a": 1})
    data = prog.desc.serialize_to_string()
    back = fluid.Program.parse_from_string(data)
    assert back.desc.serialize_to_string() == data
    assert isinstance(back.global_block().var("w"), Parameter)
    assert back.global_block().var("x").lod_level == 2
    assert [v.name for v in back.list_vars()] == ["w", "x"]
