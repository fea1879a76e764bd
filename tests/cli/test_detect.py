"""``inspect`` names files of other formats in one error line (fluidspec/_detect.py).

Most ONNX and safetensors files here are made by hand from the formats' public layouts
(onnx/onnx.proto ModelProto; the safetensors header: u64 little-endian length, then JSON); the two
in tests/cli/data/other-formats/ were written by the libraries themselves (onnx 1.23.2,
safetensors 0.8.0, its make_samples.py), so neither library is a dependency.
"""

from __future__ import annotations

import json
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fluidspec._detect import HEAD_SIZE, identify, is_pir_json
from fluidspec.reference.codec import encode_lod_tensor
from fluidspec.spec.framework_pb2 import ProgramDesc

# ModelProto: ir_version 8 (field 1), producer_name "test" (2), graph {name "g"} (7),
# opset_import {version 13} (8).
ONNX = b"\x08\x08" + b"\x12\x04test" + b"\x3a\x03\x12\x01g" + b"\x42\x02\x10\x0d"


def _safetensors() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + np.ones(2, np.float32).tobytes()


PIR = json.dumps({"base_code": {"magic": "pir", "trainable": True, "version": 4},
                  "program": {"regions": []}}).encode()


SAMPLES = Path(__file__).resolve().parent / "data" / "other-formats"


def inspect(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fluidspec", "inspect", *args, str(path)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [("model.onnx", ONNX, "an ONNX model"),
     ("model.safetensors", _safetensors(), "a safetensors file"),
     ("model.pdparams", pickle.dumps({"w": [1.0]}, protocol=4), "a paddle.save pickle"),
     ("model.pdopt", pickle.dumps({"m": [1.0]}, protocol=2), "optimizer state"),
     ("model.pdiparams.info", pickle.dumps({}, protocol=2), "paddle.jit.save"),
     ("w", b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 4\n", "Git LFS"),
     ("config.json", b'{"dtype": "float32"}', "not a Paddle 3 PIR program")],
)
def test_other_formats_are_named_in_one_line(tmp_path: Path, name: str, data: bytes,
                                             says: str) -> None:
    (tmp_path / name).write_bytes(data)
    result = inspect(tmp_path / name)
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: NOT_A_TENSOR_FILE: this is ") and says in line
    assert "Traceback" not in result.stderr


def test_tensor_data_and_programs_are_not_taken_for_other_formats(tmp_path: Path) -> None:
    record = encode_lod_tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    program = ProgramDesc()
    program.blocks.add(idx=0, parent_idx=-1)
    for data in (record, program.SerializeToString(), record * 3):
        assert identify(tmp_path / "x", data[:HEAD_SIZE], len(data)) is None
    assert not is_pir_json(b'{"magic": "onnx"}') and is_pir_json(PIR)


def test_an_onnx_lookalike_with_a_foreign_field_is_not_onnx(tmp_path: Path) -> None:
    # Field 9 does not exist in ModelProto.
    assert identify(tmp_path / "x", b"\x08\x08\x4a\x01x", 5) is None
    assert identify(tmp_path / "x", ONNX, len(ONNX)) is not None


def test_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    (tmp_path / "model.pdiparams").write_bytes(b"")
    result = inspect(tmp_path / "model.pdiparams", "--json")
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: TRUNCATED: the file is empty")


def test_a_pir_program_is_summarised(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_bytes(PIR)
    result = inspect(tmp_path / "model.json")
    assert result.returncode == 0, result.stderr
    assert "PIR program (Paddle 3 JSON)" in result.stdout and "0 op(s)" in result.stdout
    result = inspect(tmp_path / "model.json", "--json")
    [view] = [json.loads(line) for line in result.stdout.splitlines()]
    assert view["kind"] == "PIRProgram" and view["parameters"] == [] and view["version"] == 4


@pytest.mark.parametrize(("name", "says"), [("tiny.onnx", "an ONNX model"),
                                            ("tiny.safetensors", "a safetensors file")])
def test_files_written_by_the_formats_own_libraries_are_named(name: str, says: str) -> None:
    result = inspect(SAMPLES / name)
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: NOT_A_TENSOR_FILE: this is ") and says in line
