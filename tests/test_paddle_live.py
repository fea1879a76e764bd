"""Checks against REAL PaddlePaddle 2.6.2, run when ``.venv-paddle`` exists (scripts/test.sh makes it
with scripts/_paddle_env.sh; without it every test here skips, saying so).

* Paddle still writes what we committed: the generator, re-run now, reproduces
  conformance/vectors/paddle-2.6.2/ byte for byte (manifest, tensor files, model files).
* Both directions through the protocol server (conformance/paddle/server.py): files written by
  fluidspec's ``reference`` codec and by ``numba_kernels`` load in Paddle with equal values, and
  Paddle's memory-mode save equals fluidspec's encoding (FMT-COMB-001, FMT-REC-*, FMT-DTYPE-*).
* Paddle cannot take the harness down: its segfault on a combined save of a SelectedRows
  (FMT-SR-002) is that request's CRASHED outcome and the next request gets a new server
  (PROTO-ERR-003).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from conformance._case import (
    Call,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    VarSpec,
    values_equal,
)
from conformance._subprocess import SubprocessAdapter
from reference import _codec

ROOT = Path(__file__).resolve().parent.parent
PADDLE_PYTHON = ROOT / ".venv-paddle" / "bin" / "python"
VECTORS = ROOT / "conformance" / "vectors" / "paddle-2.6.2"
SERVER = ROOT / "conformance" / "paddle" / "server.py"

pytestmark = pytest.mark.skipif(
    not PADDLE_PYTHON.exists(),
    reason=".venv-paddle is missing (create it with `bash scripts/_paddle_env.sh`)",
)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_paddle_still_writes_the_committed_vectors(tmp_path: Path) -> None:
    out = tmp_path / "vectors"
    proc = subprocess.run(
        [str(PADDLE_PYTHON), str(ROOT / "conformance" / "paddle" / "generate_vectors.py"), str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    fresh, committed = _tree(out), _tree(VECTORS)
    assert sorted(fresh) == sorted(committed)
    differing = sorted(name for name in fresh if fresh[name] != committed[name])
    assert differing == [], f"Paddle now writes different bytes for {differing}"


# ------------------------------------------------------------------------------------------
# Through the protocol server


@pytest.fixture(scope="module")
def paddle() -> Iterator[SubprocessAdapter]:
    adapter = SubprocessAdapter(f"{PADDLE_PYTHON} {SERVER}", name="paddle-2.6.2", timeout=120)
    hello = adapter.hello()
    assert hello["implementation"] == {"name": "paddle", "version": "2.6.2"}
    yield adapter
    adapter.close()


def _values() -> dict[str, np.ndarray]:
    """One array per element type Paddle 2.6.2 holds, with LoD on one of them."""
    return {
        "v_bool": np.array([True, False, True]),
        "v_int8": np.array([[-128, 127]], dtype=np.int8),
        "v_uint8": np.array([0, 255], dtype=np.uint8),
        "v_int16": np.array([-32768, 7], dtype=np.int16),
        "v_int32": np.arange(6, dtype=np.int32).reshape(2, 3),
        "v_int64": np.array([-(2**63), 2**40], dtype=np.int64),
        "v_float16": np.array([1.0, -2.5, np.inf], dtype=np.float16),
        "v_float32": np.array(2.5, dtype=np.float32),  # 0-d
        "v_float64": np.zeros([2, 0, 3], dtype=np.float64),  # zero-size
        "v_bfloat16": np.array([1.0, -2.0, 0.5], dtype=ml_dtypes.bfloat16),
        "v_complex64": np.array([1 + 2j, -0.5j], dtype=np.complex64),
        "v_complex128": np.array([[3 - 4j]], dtype=np.complex128),
    }


LOD = {"v_int32": [[0, 1, 2]]}


def _program(values: dict[str, np.ndarray]) -> ProgramSpec:
    dtype_names = {n: ("bfloat16" if a.dtype == ml_dtypes.bfloat16 else a.dtype.name)
                   for n, a in values.items()}
    return ProgramSpec(vars=tuple(
        VarSpec(n, dtype=dtype_names[n], shape=a.shape, persistable=True) for n, a in values.items()
    ))


def _expect_scope(outcome: object, values: dict[str, np.ndarray]) -> None:
    scope = outcome.scope  # type: ignore[attr-defined]
    for name, array in values.items():
        want = TensorValue(array, LOD.get(name, []))
        assert values_equal(scope.get(name), want), f"{name}: Paddle has {scope.get(name)!r}"


def test_reference_files_load_in_paddle(paddle: SubprocessAdapter, tmp_path: Path) -> None:
    """reference-written separate files and a combined file load in Paddle to equal values."""
    values = _values()
    sep = tmp_path / "sep"
    sep.mkdir()
    for name, array in values.items():
        (sep / name).write_bytes(_codec.encode_lod_tensor(array, LOD.get(name)))
    combined = b"".join(_codec.encode_lod_tensor(values[n], LOD.get(n)) for n in sorted(values))
    (tmp_path / "all").write_bytes(combined)
    prog = _program(values)
    for dirname, filename in ((str(sep), None), (str(tmp_path), "all")):
        outcome = paddle.run(prog, {}, Call("load_persistables",
                                            {"dirname": dirname, "filename": filename}))
        assert outcome.ok, outcome.describe()
        _expect_scope(outcome, values)
    outcome = paddle.run(prog, {}, Call("load_vars", {"dirname": None, "filename": None,
                                                      "vars": None, "predicate": "is_persistable",
                                                      "memory": combined}))
    assert outcome.ok, outcome.describe()
    _expect_scope(outcome, values)


def test_paddle_memory_save_equals_reference_encoding(paddle: SubprocessAdapter) -> None:
    values = _values()
    scope = {n: TensorValue(a, LOD.get(n, [])) for n, a in values.items()}
    outcome = paddle.run(_program(values), scope,
                         Call("save_persistables", {"dirname": None, "filename": None}))
    assert outcome.ok, outcome.describe()
    expected = b"".join(_codec.encode_lod_tensor(values[n], LOD.get(n)) for n in sorted(values))
    assert outcome.memory == expected


def test_numba_kernels_files_load_in_paddle(paddle: SubprocessAdapter, tmp_path: Path) -> None:
    arrays_mod = pytest.importorskip("numba_kernels.arrays")
    values = _values()
    names = sorted(values)
    combined = arrays_mod.encode([values[n] for n in names], [LOD.get(n, []) for n in names])
    (tmp_path / "all").write_bytes(bytes(combined))
    outcome = paddle.run(_program(values), {}, Call("load_persistables",
                                                    {"dirname": str(tmp_path), "filename": "all"}))
    assert outcome.ok, outcome.describe()
    _expect_scope(outcome, values)


def test_paddle_crash_is_a_failure_and_the_server_restarts(
    paddle: SubprocessAdapter, tmp_path: Path
) -> None:
    """FMT-SR-002 / PROTO-ERR-003: Paddle segfaults on a combined save of a SelectedRows."""
    prog = ProgramSpec(vars=(VarSpec("sr", kind="SELECTED_ROWS", dtype="float32", shape=(4, 2),
                                     persistable=True),))
    sr = SelectedRowsValue(np.ones((2, 2), np.float32), [1, 3], 4)
    starts = paddle.starts
    crashed = paddle.run(prog, {"sr": sr}, Call("save_persistables",
                                                {"dirname": str(tmp_path / "c"), "filename": "all"}))
    assert not crashed.ok and crashed.error_id == "CRASHED", crashed.describe()
    # The next request is served by a fresh server: a separate-file save works.
    ok = paddle.run(prog, {"sr": sr}, Call("save_persistables",
                                           {"dirname": str(tmp_path / "s"), "filename": None}))
    assert ok.ok, ok.describe()
    assert paddle.starts == starts + 1
    decoded = _codec.decode_selected_rows((tmp_path / "s" / "sr").read_bytes())
    assert decoded.rows == [1, 3] and decoded.height == 4
    assert decoded.array.tobytes() == sr.array.tobytes()


def test_paddle_errors_map_to_taxonomy_ids(paddle: SubprocessAdapter, tmp_path: Path) -> None:
    """The server translates Paddle's messages it can classify (PROTO-ERR-001)."""
    prog = ProgramSpec(vars=(VarSpec("w", shape=(2,), is_parameter=True),))
    missing = paddle.run(prog, {}, Call("load_params", {"dirname": str(tmp_path / "none"),
                                                        "filename": None}))
    assert missing.error_id == "MISSING_FILE", missing.describe()
    truncated = paddle.run(prog, {}, Call("load_params", {"dirname": None, "filename": None,
                                                          "memory": b"\0" * 10}))
    assert truncated.error_id == "TRUNCATED", truncated.describe()
    shape = _codec.encode_lod_tensor(np.zeros(3, np.float32))
    wrong = paddle.run(prog, {}, Call("load_params", {"dirname": None, "filename": None,
                                                      "memory": shape}))
    assert wrong.error_id == "SHAPE_MISMATCH", wrong.describe()
