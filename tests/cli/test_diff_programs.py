"""``fluidspec diff`` of programs (fluidspec/_program_diff.py), ``--rtol``, the summary line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fluidspec._cli import main as cli
from fluidspec._diff import diff_saves
from fluidspec.reference.codec import encode_combined, encode_lod_tensor
from fluidspec.spec.framework_pb2 import AttrType, ProgramDesc, VarType


def _program(ops: list[tuple[str, dict[str, list[str]], dict[str, list[str]], float]],
             w_dims: tuple[int, ...] = (4, 3), fetch: str = "y") -> bytes:
    """feed x -> ops -> fetch ``fetch``; each op is (type, inputs, outputs, attr ``alpha``)."""
    program = ProgramDesc()
    block = program.blocks.add(idx=0, parent_idx=-1)
    for name, kind, persistable in [("feed", VarType.FEED_MINIBATCH, True),
                                    ("fetch", VarType.FETCH_LIST, True),
                                    ("x", VarType.LOD_TENSOR, False),
                                    ("w", VarType.LOD_TENSOR, True),
                                    ("y", VarType.LOD_TENSOR, False)]:
        v = block.vars.add(name=name, persistable=persistable)
        v.type.type = kind
        if kind == VarType.LOD_TENSOR:
            v.type.lod_tensor.tensor.data_type = VarType.FP32
            v.type.lod_tensor.tensor.dims.extend(w_dims if name == "w" else [-1, 3])
    steps = [("feed", {"X": ["feed"]}, {"Out": ["x"]}, None), *ops,
             ("fetch", {"X": [fetch]}, {"Out": ["fetch"]}, None)]
    for op_type, inputs, outputs, alpha in steps:
        op = block.ops.add(type=op_type)
        for slot, names in inputs.items():
            op.inputs.add(parameter=slot, arguments=names)
        for slot, names in outputs.items():
            op.outputs.add(parameter=slot, arguments=names)
        if op_type in ("feed", "fetch"):
            op.attrs.add(name="col", type=AttrType.INT, i=0)
        if alpha is not None:
            op.attrs.add(name="alpha", type=AttrType.FLOAT, f=alpha)
        op.attrs.add(name="op_callstack", type=AttrType.STRINGS, strings=[f"/home/{op_type}"])
    return program.SerializeToString()


MATMUL = ("matmul_v2", {"X": ["x"], "Y": ["w"]}, {"Out": ["y"]}, 1.0)
RELU = ("relu", {"X": ["y"]}, {"Out": ["y"]}, None)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_identical_programs_exit_0_and_say_identical(tmp_path: Path, capsys) -> None:
    a = _write(tmp_path / "a/__model__", _program([MATMUL]))
    # Only where it was saved from differs: op_callstack is not the model.
    other = ProgramDesc.FromString(_program([MATMUL]))
    other.blocks[0].ops[1].attrs[-1].strings[0] = "/elsewhere"
    b = _write(tmp_path / "b/__model__", other.SerializeToString())
    assert cli(["diff", str(a), str(b)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("\ndiff: identical")


def test_program_differences_each_get_a_line(tmp_path: Path, capsys) -> None:
    a = _write(tmp_path / "a.pdmodel", _program([MATMUL]))
    changed = ("matmul_v2", {"X": ["x"], "Y": ["w"]}, {"Out": ["y"]}, 2.0)
    b = _write(tmp_path / "b.pdmodel", _program([changed, RELU], w_dims=(4, 5), fetch="x"))
    result = diff_saves(a, b)
    assert result.program_changes == [
        "block 0: var w: dims [4, 3] -> [4, 5]",
        "block 0: op 1 matmul_v2: attr alpha 1.0 -> 2.0",
        "block 0: ops 2..2 only in B: relu",
        "block 0: op 2 fetch: inputs {'X': ['y']} -> {'X': ['x']}",
        "fetch targets ['y'] -> ['x']",
    ]
    assert cli(["diff", str(a), str(b)]) == 1
    assert capsys.readouterr().out.rstrip().endswith("\ndiff: 5 difference(s)")
    assert cli(["diff", "--json", str(a), str(b)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["differences"] == 5 and report["equal"] is False


def test_model_directories_compare_programs_and_named_values(tmp_path: Path, capsys) -> None:
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    for side, scale in (("a", 1.0), ("b", 1.001)):
        _write(tmp_path / side / "model.pdmodel", _program([MATMUL]))
        _write(tmp_path / side / "model.pdiparams", encode_combined([(w * scale, None)]))
    # Named from the program beside the params: the variable is "w", not "model.pdiparams#0".
    result = diff_saves(tmp_path / "a", tmp_path / "b")
    assert [c.name for c in result.changed] == ["w"] and result.program_changes == []
    assert diff_saves(tmp_path / "a", tmp_path / "b", rtol=1e-3).equal
    assert not diff_saves(tmp_path / "a", tmp_path / "b", rtol=1e-4).equal
    assert cli(["diff", "--rtol", "1e-3", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert capsys.readouterr().out.rstrip().endswith("diff: identical")


def test_a_program_against_data_is_a_usage_error(tmp_path: Path, capsys) -> None:
    a = _write(tmp_path / "__model__", _program([MATMUL]))
    b = _write(tmp_path / "w", encode_lod_tensor(np.ones(3, np.float32)))
    assert cli(["diff", str(a), str(b)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "is a program and" in line


@pytest.mark.parametrize("rtol", ["-1", "nan"])
def test_bad_rtol_is_a_usage_error(tmp_path: Path, capsys, rtol: str) -> None:
    b = _write(tmp_path / "w", encode_lod_tensor(np.ones(3, np.float32)))
    assert cli(["diff", "--rtol", rtol, str(b), str(b)]) == 2
    assert f"--rtol {rtol}" in capsys.readouterr().err


def test_empty_directories_are_not_identical_saves(tmp_path: Path, capsys) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert cli(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "holds no files" in capsys.readouterr().err


def test_diff_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    import subprocess
    import sys

    a = _write(tmp_path / "a.pdmodel", _program([MATMUL]))
    b = _write(tmp_path / "b.pdmodel", _program([MATMUL, RELU]))
    proc = subprocess.Popen([sys.executable, "-m", "fluidspec", "diff", str(a), str(b)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader leaves before the first line
    assert proc.wait(timeout=120) == 1 and proc.stderr.read() == b""
