"""``inspect --values`` (fluidspec/_values.py) and record names from a program
(fluidspec/_record_names.py, ``--program``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from fluidspec import _inspect, _values
from fluidspec._cli import main as cli
from fluidspec.reference.codec import encode_combined, encode_lod_tensor
from fluidspec.spec.framework_pb2 import ProgramDesc, VarType


def _stats(path: Path) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    assert _inspect.run(str(path), True, out, err, values=True) == 0, err.getvalue()
    return [json.loads(line)["values"] for line in out.getvalue().splitlines()]


@pytest.fixture(params=[4096, 8], ids=["one-chunk", "many-chunks"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(_values, "CHUNK_BYTES", request.param)
    return request.param


def test_float_statistics_skip_nan_and_inf(tmp_path: Path, chunk: int) -> None:
    x = np.array([3.5, np.nan, -2.0, np.inf, 0.25, -np.inf, 1.0, np.nan, 7.0], np.float32)
    (tmp_path / "x").write_bytes(encode_lod_tensor(x))
    [s] = _stats(tmp_path / "x")
    finite = x[np.isfinite(x)].astype(np.float64)
    assert (s["min"], s["max"], s["nan"], s["inf"], s["count"]) == (-2.0, 7.0, 2, 2, 9)
    assert s["mean"] == pytest.approx(finite.mean())
    assert s["first"] == [3.5, "nan", -2.0, "inf", 0.25]


def test_integer_bool_and_bfloat16_statistics(tmp_path: Path, chunk: int) -> None:
    ints = np.array([[5, -9], [2**40, 0]], np.int64)
    mask = np.array([True, False, True, True])
    half = np.array([1.5, -0.5, 2.0], ml_dtypes.bfloat16)
    (tmp_path / "c").write_bytes(encode_combined([(ints, None), (mask, None), (half, None)]))
    s_int, s_bool, s_half = _stats(tmp_path / "c")
    assert (s_int["min"], s_int["max"], s_int["first"]) == (-9, 2**40, [5, -9, 2**40, 0])
    assert s_int["mean"] == pytest.approx((5 - 9 + 2**40) / 4)
    assert (s_bool["min"], s_bool["max"], s_bool["mean"]) == (0, 1, 0.75)
    assert (s_half["min"], s_half["max"], s_half["mean"]) == (-0.5, 2.0, 1.0)


def test_all_nan_has_no_min_and_an_empty_tensor_has_no_statistics(tmp_path: Path) -> None:
    (tmp_path / "c").write_bytes(encode_combined([(np.full(3, np.nan, np.float64), None),
                                                  (np.zeros((0, 4), np.float32), None)]))
    s_nan, s_empty = _stats(tmp_path / "c")
    assert (s_nan["min"], s_nan["mean"], s_nan["nan"]) == (None, None, 3)
    assert (s_empty["count"], s_empty["min"], s_empty["first"]) == (0, None, [])


def _program(path: Path, variables: dict[str, list[int]]) -> Path:
    program = ProgramDesc()
    block = program.blocks.add(idx=0, parent_idx=-1)
    for name, kind in [("feed", VarType.FEED_MINIBATCH), ("fetch", VarType.FETCH_LIST)]:
        v = block.vars.add(name=name, persistable=True)
        v.type.type = kind
    x = block.vars.add(name="x", persistable=False)
    x.type.type = VarType.LOD_TENSOR
    for name, dims in variables.items():
        v = block.vars.add(name=name, persistable=True)
        v.type.type = VarType.LOD_TENSOR
        v.type.lod_tensor.tensor.data_type = VarType.FP32
        v.type.lod_tensor.tensor.dims.extend(dims)
    path.write_bytes(program.SerializeToString())
    return path


PARAMS = {"fc.w_0": np.ones((2, 3), np.float32), "fc.b_0": np.zeros(3, np.float32),
          "emb": np.ones((4, 2), np.float32)}


def _params(path: Path) -> Path:
    path.write_bytes(encode_combined((PARAMS[n], None) for n in sorted(PARAMS)))
    return path


@pytest.mark.parametrize(("params", "program"), [("model.pdiparams", "model.pdmodel"),
                                                 ("__params__", "__model__")])
def test_records_are_named_from_the_program_beside_them(tmp_path: Path, capsys, params: str,
                                                       program: str) -> None:
    _program(tmp_path / program, {n: list(a.shape) for n, a in PARAMS.items()})
    _params(tmp_path / params)
    assert cli(["inspect", "--json", str(tmp_path / params)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in records] == ["emb", "fc.b_0", "fc.w_0"]
    assert list(records[0])[:3] == ["path", "name", "offset"]
    assert cli(["inspect", str(tmp_path / params)]) == 0
    assert "record at 0 (emb): LoDTensor FP32 [4, 2]" in capsys.readouterr().out


def test_a_program_that_does_not_fit_names_nothing_and_says_why(tmp_path: Path, capsys) -> None:
    _program(tmp_path / "model.pdmodel", {"a": [4, 2], "b": [3]})
    _params(tmp_path / "model.pdiparams")
    assert cli(["inspect", "--json", str(tmp_path / "model.pdiparams")]) == 0
    captured = capsys.readouterr()
    assert all("name" not in json.loads(line) for line in captured.out.splitlines())
    assert captured.err == (f"note: {tmp_path / 'model.pdmodel'} declares 2 saved variable(s) "
                            "but the file holds 3 record(s); records left unnamed\n")
    wrong = _program(tmp_path / "other", {"emb": [4, 2], "fc.b_0": [3], "fc.w_0": [3, 2]})
    assert cli(["inspect", "--program", str(wrong), str(tmp_path / "model.pdiparams")]) == 0
    assert "declares fc.w_0 as [3, 2] but its record has dims [2, 3]" in capsys.readouterr().err


def test_program_option(tmp_path: Path, capsys) -> None:
    program = _program(tmp_path / "elsewhere.bin", {n: list(a.shape) for n, a in PARAMS.items()})
    params = _params(tmp_path / "blob")
    assert cli(["inspect", "--json", "--program", str(program), str(params)]) == 0
    assert [json.loads(x)["name"] for x in capsys.readouterr().out.splitlines()] == [
        "emb", "fc.b_0", "fc.w_0"]
    assert cli(["inspect", "--program", str(program), str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert cli(["inspect", "--program", str(tmp_path / "nope"), str(params)]) == 2
