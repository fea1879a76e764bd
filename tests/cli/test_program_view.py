"""``fluidspec inspect`` on program files (fluidspec/_program_view.py): PROG-SNIFF-001,
PROG-SCHEMA-001, PROG-VER-001.

The programs are built here with the protobuf classes, after the minimal hand-written inference
model INF-SAVE-007 describes (measured: real Paddle 2.6.2 and 3.3.1 load and run it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from fluidspec._inspect import run
from fluidspec._program_view import dispatch, program_view, render_program, sniff_program
from fluidspec.reference._codec import encode_lod_tensor
from fluidspec.spec.errors import BadProgramError
from fluidspec.spec.framework_pb2 import AttrType, OpDesc, ProgramDesc, Scalar, VarType

VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "vectors" / "paddle-2.6.2"



def json_lines(text: str) -> list:
    """``inspect --json`` output: JSON Lines, one object per line."""
    return [json.loads(line) for line in text.splitlines()]

def _var(block, name, kind=VarType.LOD_TENSOR, dims=(), dtype=VarType.FP32, **flags):
    v = block.vars.add(name=name, **flags)
    v.type.type = kind
    if kind == VarType.LOD_TENSOR:
        v.type.lod_tensor.tensor.data_type = dtype
        v.type.lod_tensor.tensor.dims.extend(dims)
    return v


def _op(block, op_type, inputs, outputs, **int_attrs):
    op = block.ops.add(type=op_type)
    for slot, args in inputs.items():
        op.inputs.add(parameter=slot, arguments=args)
    for slot, args in outputs.items():
        op.outputs.add(parameter=slot, arguments=args)
    for name, value in int_attrs.items():
        op.attrs.add(name=name, type=AttrType.INT, i=value)
    return op


def minimal_program(feeds=("x",)) -> ProgramDesc:
    """The minimal inference model: x + w, one block, no version, no op_version_map."""
    program = ProgramDesc()
    block = program.blocks.add(idx=0, parent_idx=-1)
    for name in feeds:
        _var(block, name, dims=[-1, 3], need_check_feed=True)
    _var(block, "w", dims=[3], persistable=True)
    _var(block, "y", dims=[-1, 3])
    _var(block, "feed", kind=VarType.FEED_MINIBATCH, persistable=True)
    _var(block, "fetch", kind=VarType.FETCH_LIST, persistable=True)
    # Paddle prepends feed ops, so they are stored in reverse col order (INF-SAVE-004).
    for col in reversed(range(len(feeds))):
        _op(block, "feed", {"X": ["feed"]}, {"Out": [feeds[col]]}, col=col)
    _op(block, "elementwise_add", {"X": [feeds[0]], "Y": ["w"]}, {"Out": ["y"]}, axis=-1)
    _op(block, "fetch", {"X": ["y"]}, {"Out": ["fetch"]}, col=0)
    return program


def test_minimal_program_view_lists_vars_ops_and_targets():
    """PROG-SCHEMA-001: block, var and op fields read by their field numbers."""
    view = program_view(minimal_program().SerializeToString(), "m/__model__")
    assert view["kind"] == "ProgramDesc" and view["version"] is None
    (block,) = view["blocks"]
    assert (block["idx"], block["parent_idx"]) == (0, -1)
    by_name = {v["name"]: v for v in block["vars"]}
    assert by_name["w"] == {
        "name": "w", "kind": "LOD_TENSOR", "dtype": "FP32", "dims": [3], "lod_level": 0,
        "persistable": True, "need_check_feed": False, "is_parameter": False,
        "stop_gradient": False,
    }
    assert by_name["x"]["need_check_feed"] and by_name["x"]["dims"] == [-1, 3]
    assert by_name["feed"]["kind"] == "FEED_MINIBATCH" and by_name["feed"]["dtype"] is None
    assert by_name["fetch"]["kind"] == "FETCH_LIST"
    assert [op["type"] for op in block["ops"]] == ["feed", "elementwise_add", "fetch"]
    add = block["ops"][1]
    assert add["inputs"] == {"X": ["x"], "Y": ["w"]} and add["outputs"] == {"Out": ["y"]}
    assert add["attrs"] == {"axis": -1}
    assert view["feed_targets"] == [{"col": 0, "name": "x"}]
    assert view["fetch_targets"] == [{"col": 0, "name": "y"}]


def test_feed_targets_are_ordered_by_col_not_by_op_position():
    # INF-SAVE-004: feeds [c, a, b] are stored as feed b(col 2), a(col 1), c(col 0).
    view = program_view(minimal_program(feeds=("c", "a", "b")).SerializeToString())
    ops = [op for op in view["blocks"][0]["ops"] if op["type"] == "feed"]
    assert [op["outputs"]["Out"][0] for op in ops] == ["b", "a", "c"]
    assert [t["name"] for t in view["feed_targets"]] == ["c", "a", "b"]
    assert [t["col"] for t in view["feed_targets"]] == [0, 1, 2]


def test_version_and_op_version_map_are_reported():
    """PROG-VER-001: 2006002 is Paddle 2.6.2."""
    program = minimal_program()
    program.version.version = 2006002
    program.op_version_map.pair.add(op_name="elementwise_add").op_version.version = 1
    view = program_view(program.SerializeToString(), "p.pdmodel")
    assert view["version"] == 2006002 and view["op_version_map"] == {"elementwise_add": 1}
    assert "version 2006002 (= 2.6.2)" in render_program(view)


def test_every_attr_type_is_decoded():
    program = minimal_program()
    op = program.blocks[0].ops.add(type="probe")
    a = op.attrs
    a.add(name="f", type=AttrType.FLOAT, f=0.5)
    a.add(name="s", type=AttrType.STRING, s="hi")
    a.add(name="ints", type=AttrType.INTS, ints=[1, 2])
    a.add(name="floats", type=AttrType.FLOATS, floats=[0.25])
    a.add(name="strings", type=AttrType.STRINGS, strings=["a", "b"])
    a.add(name="b", type=AttrType.BOOLEAN, b=True)
    a.add(name="bools", type=AttrType.BOOLEANS, bools=[True, False])
    a.add(name="blk", type=AttrType.BLOCK, block_idx=1)
    a.add(name="l", type=AttrType.LONG, l=1 << 40)
    a.add(name="blks", type=AttrType.BLOCKS, blocks_idx=[1, 2])
    a.add(name="longs", type=AttrType.LONGS, longs=[1 << 33])
    a.add(name="f64s", type=AttrType.FLOAT64S, float64s=[0.1])
    a.add(name="var", type=AttrType.VAR, var_name="v")
    a.add(name="vars", type=AttrType.VARS, vars_name=["v", "u"])
    a.add(name="f64", type=AttrType.FLOAT64, float64=0.1)
    a.add(name="sc", type=AttrType.SCALAR, scalar=Scalar(type=Scalar.LONG, i=7))
    a.add(name="scs", type=AttrType.SCALARS, scalars=[
        Scalar(type=Scalar.BOOLEAN, b=True), Scalar(type=Scalar.FLOAT64, r=2.5),
        Scalar(type=Scalar.COMPLEX128, c={"r": 1.0, "i": -1.0}),
    ])
    attrs = program_view(program.SerializeToString())["blocks"][0]["ops"][-1]["attrs"]
    assert attrs == {
        "f": 0.5, "s": "hi", "ints": [1, 2], "floats": [0.25], "strings": ["a", "b"], "b": True,
        "bools": [True, False], "blk": 1, "l": 1 << 40, "blks": [1, 2], "longs": [1 << 33],
        "f64s": [0.1], "var": "v", "vars": ["v", "u"], "f64": 0.1, "sc": 7,
        "scs": [True, 2.5, [1.0, -1.0]],
    }


def _inspect(path, as_json):
    out, err = io.StringIO(), io.StringIO()
    code = run(str(path), as_json, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_inspect_json_of_a_model_directory_shows_program_and_params(tmp_path):
    """PROG-SNIFF-001 by name: __model__ is a program, the param file is tensor data."""
    (tmp_path / "__model__").write_bytes(minimal_program().SerializeToString())
    (tmp_path / "w").write_bytes(encode_lod_tensor(np.ones(3, np.float32)))
    code, out, err = _inspect(tmp_path, True)
    assert code == 0, err
    objs = json_lines(out)
    assert [o["kind"] for o in objs] == ["ProgramDesc", "LoDTensor"]
    assert objs[0]["fetch_targets"] == [{"col": 0, "name": "y"}]
    assert objs[1]["dims"] == [3]


def test_inspect_human_view_of_a_pdmodel(tmp_path):
    program = minimal_program()
    program.blocks[0].ops[0].attrs.add(name="op_callstack", type=AttrType.STRINGS,
                                       strings=["/home/me/x.py:1"])
    path = tmp_path / "inference.pdmodel"
    path.write_bytes(program.SerializeToString())
    code, out, _ = _inspect(path, False)
    assert code == 0
    assert "feed targets (by col): col 0: x" in out
    assert "fetch targets (by col): col 0: y" in out
    assert "var w" in out and "LOD_TENSOR FP32 [3]  [persistable]" in out
    assert "op   1 elementwise_add: X=[x], Y=[w] -> Out=[y]  axis=-1" in out
    # Bookkeeping attrs are counted, not printed.
    assert "(+1 bookkeeping attrs)" in out and "/home/me" not in out


def test_a_program_under_another_name_is_sniffed(tmp_path):
    """PROG-SNIFF-001 by content: not tensor data (first byte not 0), parses as a ProgramDesc."""
    buf = minimal_program().SerializeToString()
    assert sniff_program(buf)
    path = tmp_path / "model.bin"
    path.write_bytes(buf)
    assert dispatch(path, str(path))["kind"] == "ProgramDesc"
    code, out, _ = _inspect(path, True)
    assert code == 0 and json_lines(out)[0]["kind"] == "ProgramDesc"


def test_tensor_files_and_lfs_pointers_are_not_programs(tmp_path):
    tensor = tmp_path / "w"
    tensor.write_bytes(encode_lod_tensor(np.ones(3, np.float32)))
    assert dispatch(tensor, str(tensor)) is None
    lfs = tmp_path / "conv.w_0"
    lfs.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 12\n")
    assert not sniff_program(lfs.read_bytes()) and dispatch(lfs, str(lfs)) is None
    code, _, err = _inspect(lfs, False)
    assert code == 1 and "NOT_A_TENSOR_FILE" in err
    # Bytes that parse as a ProgramDesc but have no block are not sniffed as one.
    assert not sniff_program(b"")


def test_a_model_file_that_does_not_parse_is_bad_program(tmp_path):
    path = tmp_path / "__model__"
    path.write_bytes(b"\xff\xff\xff\xff garbage")
    with pytest.raises(BadProgramError) as info:
        program_view(path.read_bytes(), str(path))
    assert info.value.path == str(path) and "ff ff ff ff" in str(info.value)
    code, _, err = _inspect(path, True)
    assert code == 1 and "BAD_PROGRAM" in err


def test_a_model_missing_required_fields_is_bad_program():
    program = ProgramDesc()
    program.blocks.add(idx=0, parent_idx=-1).vars.add(name="x")  # VarDesc.type is required
    with pytest.raises(BadProgramError, match="blocks\\[0\\].vars\\[0\\].type"):
        program_view(program.SerializePartialToString(), "__model__")


def _paddle_programs() -> list[Path]:
    if not VECTORS.is_dir():
        return []
    return sorted(p for p in VECTORS.rglob("*") if p.is_file()
                  and (p.name == "__model__" or p.suffix == ".pdmodel"))


@pytest.mark.skipif(not _paddle_programs(), reason="no Paddle-written program in conformance/vectors")
@pytest.mark.parametrize("path", _paddle_programs(), ids=lambda p: str(p.relative_to(VECTORS)))
def test_programs_written_by_paddle_show_feeds_fetches_and_persistables(path):
    view = program_view(path.read_bytes(), str(path))
    assert view["feed_targets"] and view["fetch_targets"]
    assert [t["col"] for t in view["feed_targets"]] == list(range(len(view["feed_targets"])))
    block = view["blocks"][0]
    names = {v["name"] for v in block["vars"]}
    assert {t["name"] for t in view["feed_targets"] + view["fetch_targets"]} <= names
    assert any(v["persistable"] and v["kind"] == "LOD_TENSOR" for v in block["vars"])
    assert render_program(view).count("\n") >= len(block["vars"]) + len(block["ops"])


def test_op_desc_fields_match_paddle_numbers():
    """PROG-SCHEMA-001: OpDesc{inputs=1, outputs=2, type=3, attrs=4}."""
    fields = {f.name: f.number for f in OpDesc.DESCRIPTOR.fields}
    assert fields == {"inputs": 1, "outputs": 2, "type": 3, "attrs": 4, "is_target": 5}
