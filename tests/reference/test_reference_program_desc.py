"""fluidspec.reference._program_desc: ProgramDesc bytes <-> Program (PROG-SER-001, INF-LOAD-001).

The byte-identity tests use messages shaped like Paddle's (op_callstack, op_version_map,
scalars, every AttrType, sub-blocks, unknown fields) and one ProgramDesc encoded by hand,
byte by byte, independently of the protobuf runtime.  Files Paddle itself wrote are covered by
tests/reference/test_reference_paddle_vectors.py.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec import reference as fluid
from fluidspec.reference.framework import Parameter
from fluidspec.spec import framework_pb2 as pb
from fluidspec.spec.errors import BadProgramError

VT = fluid.core.VarDesc.VarType


def _tensor_var(block, name, dtype, dims, **flags):
    var = block.vars.add(name=name, **flags)
    var.type.type = VT.LOD_TENSOR
    var.type.lod_tensor.tensor.data_type = dtype
    var.type.lod_tensor.tensor.dims.extend(dims)
    return var


def _paddle_like_program() -> bytes:
    prog = pb.ProgramDesc()
    glob = prog.blocks.add(idx=0, parent_idx=-1)
    _tensor_var(glob, "x", VT.FP32, [-1, 4], need_check_feed=True, stop_gradient=True)
    _tensor_var(glob, "fc.w_0", VT.FP32, [4, 3], persistable=True, is_parameter=True,
                stop_gradient=False)
    sr = glob.vars.add(name="emb", persistable=True)
    sr.type.type = VT.SELECTED_ROWS
    sr.type.selected_rows.data_type = VT.FP16
    sr.type.selected_rows.dims.extend([100, 8])
    arr = glob.vars.add(name="arr")
    arr.type.type = VT.LOD_TENSOR_ARRAY
    arr.type.tensor_array.tensor.data_type = VT.INT64
    arr.type.tensor_array.lod_level = 1
    rdr = glob.vars.add(name="rdr", persistable=True)
    rdr.type.type = VT.READER
    rdr.type.reader.lod_tensor.add().tensor.data_type = VT.FP32
    var_with_attr = _tensor_var(glob, "q", VT.INT8, [2])
    var_with_attr.attrs.add(name="quant", type=pb.INTS, ints=[1, 2])
    glob.vars.add(name="feed", persistable=True).type.type = VT.FEED_MINIBATCH
    glob.vars.add(name="fetch", persistable=True).type.type = VT.FETCH_LIST
    op = glob.ops.add(type="everything")
    op.inputs.add(parameter="X", arguments=["x", "x"])
    op.inputs.add(parameter="Empty")
    op.outputs.add(parameter="Out", arguments=["y"])
    attrs = [
        dict(type=pb.INT, i=-7), dict(type=pb.FLOAT, f=0.1), dict(type=pb.STRING, s="é"),
        dict(type=pb.INTS, ints=[1, -2]), dict(type=pb.FLOATS, floats=[1.5, float("inf")]),
        dict(type=pb.STRINGS, strings=["File \"/abs/path.py\", line 3", ""]),
        dict(type=pb.BOOLEAN, b=False), dict(type=pb.BOOLEANS, bools=[True, False]),
        dict(type=pb.BLOCK, block_idx=1), dict(type=pb.LONG, l=-(2**40)),
        dict(type=pb.BLOCKS, blocks_idx=[1, 2]), dict(type=pb.LONGS, longs=[2**50]),
        dict(type=pb.FLOAT64S, float64s=[0.1, -0.0]), dict(type=pb.VAR, var_name="x"),
        dict(type=pb.VARS, vars_name=["x", "y"]), dict(type=pb.FLOAT64, float64=1e-300),
    ]
    for i, attr in enumerate(attrs):
        op.attrs.add(name=f"a{i}", **attr)
    scalar = op.attrs.add(name="sc", type=pb.SCALAR)
    scalar.scalar.type = pb.Scalar.COMPLEX128
    scalar.scalar.c.r, scalar.scalar.c.i = 1.0, -2.0
    many = op.attrs.add(name="scs", type=pb.SCALARS)
    many.scalars.add(type=pb.Scalar.BOOLEAN, b=True)
    many.scalars.add(type=pb.Scalar.LONG, i=-3)
    many.scalars.add(type=pb.Scalar.FLOAT64, r=2.5)
    op.attrs.add(name="op_callstack", type=pb.STRINGS, strings=["  File \"/home/u/t.py\""])
    op.is_target = False
    sub = prog.blocks.add(idx=1, parent_idx=0, forward_block_idx=-1)
    _tensor_var(sub, "inner", VT.BOOL, [])
    sub.ops.add(type="inner_op").attrs.add(name="is_test", type=pb.BOOLEAN, b=False)
    prog.blocks.add(idx=2, parent_idx=1, forward_block_idx=1)
    prog.version.version = 2006002
    for name, version in [("mul", 0), ("elementwise_add", 1), ("zz", 3)]:
        prog.op_version_map.pair.add(op_name=name).op_version.version = version
    return prog.SerializeToString()


def test_paddle_like_program_reserializes_byte_identical():  # PROG-SER-001
    data = _paddle_like_program()
    program = fluid.Program.parse_from_string(data)
    assert program.desc.serialize_to_string() == data
    # reading everything through the object model changes nothing
    for block in program.blocks:
        for var in block.vars.values():
            _ = (var.shape, var.dtype, var.lod_level, var.persistable, var.type)
        for op in block.ops:
            op.all_attrs()
    assert program.desc.serialize_to_string() == data
    assert program._version() == 2006002


def test_parsed_objects_read_back():  # API-MODEL-006/007
    program = fluid.Program.parse_from_string(_paddle_like_program())
    glob = program.global_block()
    assert isinstance(glob.var("fc.w_0"), Parameter)
    assert (glob.var("emb").type, glob.var("emb").shape, glob.var("emb").dtype) == (
        VT.SELECTED_ROWS, (100, 8), VT.FP16)
    assert glob.var("arr").lod_level == 1 and glob.var("rdr").dtype is None
    attrs = glob.ops[0].all_attrs()
    assert attrs["a0"] == -7 and attrs["a9"] == -(2**40) and attrs["a10"] == [1, 2]
    assert attrs["sc"] == complex(1, -2) and attrs["scs"] == [True, -3, 2.5]
    assert attrs["a13"] == "x" and attrs["a14"] == ["x", "y"]
    assert [b.parent_idx for b in program.blocks] == [-1, 0, 1]


def test_unknown_fields_are_kept():  # PROG-SER-001
    message = pb.ProgramDesc.FromString(_paddle_like_program())
    message.blocks[0].ops[0].attrs[0].MergeFromString(b"\xf8\x06\x2a")  # field 111 varint 42
    message.blocks[0].vars[0].MergeFromString(b"\x90\x07\x01")  # field 114 varint 1
    data = message.SerializeToString()
    assert fluid.Program.parse_from_string(data).desc.serialize_to_string() == data


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _hand_encoded_minimal_model() -> bytes:
    """The minimal model Paddle 2.6.2 loads (measured with it), encoded by hand."""

    def tensor_var(name, dims, persistable=False, feed_check=False):
        desc = _field(1, VT.FP32) + b"".join(_field(2, d) for d in dims)
        vtype = _field(1, VT.LOD_TENSOR) + _field(3, _field(1, desc))
        out = _field(1, name.encode()) + _field(2, vtype)
        if persistable:
            out += _field(3, 1)
        if feed_check:
            out += _field(4, 1)
        return out

    def holder(name, kind):
        return _field(1, name.encode()) + _field(2, _field(1, kind)) + _field(3, 1)

    def op(kind, ins, outs, col=None):
        body = b"".join(_field(1, _field(1, k.encode()) + _field(2, v.encode()))
                        for k, v in ins)
        body += b"".join(_field(2, _field(1, k.encode()) + _field(2, v.encode()))
                         for k, v in outs)
        body += _field(3, kind.encode())
        if col is not None:
            body += _field(4, _field(1, b"col") + _field(2, 0) + _field(3, col))
        return body

    block = _field(1, 0) + _field(2, (1 << 64) - 1)  # idx 0, parent_idx -1 (10-byte varint)
    for var in (tensor_var("x", [-1, 2], feed_check=True), tensor_var("w", [2], True),
                tensor_var("y", [-1, 2]), holder("feed", VT.FEED_MINIBATCH),
                holder("fetch", VT.FETCH_LIST)):
        block += _field(3, var)
    for item in (op("feed", [("X", "feed")], [("Out", "x")], 0),
                 op("elementwise_add", [("X", "x"), ("Y", "w")], [("Out", "y")]),
                 op("fetch", [("X", "y")], [("Out", "fetch")], 0)):
        block += _field(4, item)
    return _field(1, block)


def test_hand_encoded_model_parses_and_reserializes():  # PROG-SER-001, INF-LOAD-003
    data = _hand_encoded_minimal_model()
    program = fluid.Program.parse_from_string(data)
    assert program.desc.serialize_to_string() == data
    assert program.desc.get_feed_target_names() == ["x"]
    assert program.desc.get_fetch_target_names() == ["y"]
    assert program.global_block().var("x").shape == (-1, 2)
    assert program.global_block().var("x").need_check_feed


def _bad(mutate):
    message = pb.ProgramDesc.FromString(_paddle_like_program())
    mutate(message)
    return message.SerializePartialToString()


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xff\xff",
        b"",
        _bad(lambda m: setattr(m.blocks[1], "idx", 5)),
        _bad(lambda m: setattr(m.blocks[1], "parent_idx", 9)),
        _bad(lambda m: setattr(m.blocks[0], "parent_idx", 0)),
        _bad(lambda m: m.blocks[0].vars.add().CopyFrom(m.blocks[0].vars[0])),
        _bad(lambda m: m.blocks[0].vars[0].ClearField("type")),
        _bad(lambda m: m.blocks[0].ops[0].ClearField("type")),
        _bad(lambda m: setattr(m.blocks[0].ops[0].attrs[8], "block_idx", 3)),
    ],
    ids=["garbage", "no-blocks", "idx", "parent", "self-parent", "dup-var", "var-no-type",
         "op-no-type", "block-attr"],
)
def test_unusable_program_bytes_are_bad_program(data):  # INF-LOAD-001
    with pytest.raises(BadProgramError):
        fluid.Program.parse_from_string(data)


def test_feed_fetch_cols_must_be_complete():  # INF-LOAD-001, INF-LOAD-003
    program = fluid.Program()
    g = program.global_block()
    g.append_op(type="feed", inputs={"X": "feed"}, outputs={"Out": "a"}, attrs={"col": 1})
    with pytest.raises(BadProgramError):
        program.desc.get_feed_target_names()
    g.append_op(type="feed", inputs={"X": "feed"}, outputs={"Out": "b"}, attrs={"col": 0})
    assert program.desc.get_feed_target_names() == ["b", "a"]
    g.append_op(type="fetch", inputs={"X": "b"}, outputs={"Out": "fetch"})
    with pytest.raises(BadProgramError):
        program.desc.get_fetch_target_names()


_ATTR_VALUES = st.one_of(
    st.booleans(), st.integers(-(2**63), 2**63 - 1),
    st.floats(width=32, allow_nan=False), st.text(max_size=5),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=3),
    st.lists(st.text(max_size=3), min_size=1, max_size=3),
    st.lists(st.booleans(), min_size=1, max_size=3),
)


@given(
    blocks=st.integers(1, 3),
    vars_=st.lists(st.tuples(st.text(min_size=1, max_size=6), st.sampled_from(list(VT)),
                             st.booleans()), max_size=6, unique_by=lambda t: t[0]),
    ops=st.lists(st.tuples(st.text(min_size=1, max_size=6),
                           st.dictionaries(st.text(min_size=1, max_size=4), _ATTR_VALUES,
                                           max_size=4)), max_size=4),
    version=st.integers(-(2**63), 2**63 - 1),
)
def test_random_programs_round_trip(blocks, vars_, ops, version):  # PROG-SER-001, API-MODEL-007
    program = fluid.Program()
    for _ in range(blocks - 1):
        program._create_block(parent_idx=0)
    for i, (name, kind, persistable) in enumerate(vars_):
        block = program.block(i % blocks)
        is_tensor = kind in (VT.LOD_TENSOR, VT.SELECTED_ROWS, VT.LOD_TENSOR_ARRAY)
        block.create_var(name=name, type=int(kind), persistable=persistable,
                         shape=[i, -1] if is_tensor else None, dtype="int16")
    for i, (kind, attrs) in enumerate(ops):
        program.block(i % blocks).append_op(type=kind, inputs={"X": [v[0] for v in vars_]},
                                            outputs={"Out": ["o"]}, attrs=attrs)
    program.desc._set_version(version)
    data = program.desc.serialize_to_string()
    back = fluid.Program.parse_from_string(data)
    assert back.desc.serialize_to_string() == data
    assert [(v.name, v.type, v.persistable) for v in back.list_vars()] == [
        (v.name, v.type, v.persistable) for v in program.list_vars()]
    assert [op.all_attrs() for b in back.blocks for op in b.ops] == [
        op.all_attrs() for b in program.blocks for op in b.ops]
    assert back._version() == version


def test_float_attrs_keep_their_bits():  # PROG-SER-001
    message = pb.ProgramDesc()
    block = message.blocks.add(idx=0, parent_idx=-1)
    op = block.ops.add(type="t")
    nan_bits = struct.unpack("<f", b"\x01\x00\xc0\x7f")[0]  # a NaN with a payload
    op.attrs.add(name="f", type=pb.FLOAT, f=nan_bits)
    data = message.SerializeToString()
    assert fluid.Program.parse_from_string(data).desc.serialize_to_string() == data
