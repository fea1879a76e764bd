"""Checks against REAL PaddlePaddle 2.6.2, run when ``.venv-paddle`` exists (scripts/test.sh makes it
with scripts/_paddle_env.sh; without it every test here skips, saying so).

* Paddle still writes what we committed: the generator, re-run now, reproduces
  conformance/vectors/paddle-2.6.2/ byte for byte (manifest, tensor files, model files).
* Both directions through the protocol server (conformance/paddle/server.py): files written by
  fluidspec's ``reference`` codec and by ``numba_kernels`` load in Paddle with equal values, and
  Paddle's memory-mode save equals fluidspec's encoding (FMT-COMB-001, FMT-REC-*, FMT-DTYPE-*).
* Paddle cannot take the harness down: its segfault on a combined save of a SelectedRows
  (refused, as FMT-SR-002 requires, but not with SEL-SAVE-007's UNSUPPORTED_VAR_TYPE) is that
  request's CRASHED outcome and the next request gets a new server (PROTO-ERR-003).
* Every known failure is demonstrated on Paddle, and the conformance suite run against Paddle
  has zero MUST failures and no stale known failure.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest

from fluidspec.conformance._case import (
    Call,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    VarSpec,
    values_equal,
)
from fluidspec.conformance._subprocess import SubprocessAdapter
from fluidspec.reference import _codec

ROOT = Path(__file__).resolve().parents[2]
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
    arrays_mod = pytest.importorskip("fluidspec.numba_kernels.arrays")
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
    """SEL-SAVE-007 / PROTO-ERR-003: Paddle segfaults on a combined save of a SelectedRows."""
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


# ------------------------------------------------------------------------------------------
# The known failures (conformance/known-failures/paddle-2.6.2.txt), each shown on real Paddle.
# A demonstration returns None when Paddle departs from the clause as the file says, or a string
# saying what Paddle did instead (then the entry is wrong, or Paddle changed).

KNOWN_FAILURES = ROOT / "conformance" / "known-failures" / "paddle-2.6.2.txt"
F32 = "float32"


def _raw_record(lod: list[list[int]], data_type: int, dims: list[int], data: bytes) -> bytes:
    """A dense-tensor record built field by field (FMT-REC-001..005), valid or not."""
    out = struct.pack("<IQ", 0, len(lod))
    for level in lod:
        out += struct.pack("<Q", 8 * len(level)) + struct.pack(f"<{len(level)}Q", *level)
    desc = _codec.encode_tensor_desc(data_type, dims)
    return out + struct.pack("<Ii", 0, len(desc)) + desc + data


def _prog(*specs: tuple[str, str, tuple[int, ...], bool]) -> ProgramSpec:
    return ProgramSpec(vars=tuple(VarSpec(n, dtype=dt, shape=sh, persistable=True, is_parameter=p)
                                  for n, dt, sh, p in specs))


def _load_file(paddle: SubprocessAdapter, tmp: Path, data: bytes, *, name: str = "w",
               dtype: str = F32, shape: tuple[int, ...] = (2,), kind: str = "LOD_TENSOR") -> Any:
    (tmp / name).write_bytes(data)
    prog = ProgramSpec(vars=(VarSpec(name, kind=kind, dtype=dtype, shape=shape, persistable=True),))
    return paddle.run(prog, {}, Call("load_vars", {"dirname": str(tmp), "filename": None,
                                                   "vars": [name], "predicate": None}))


def _loads_ok(outcome: Any) -> str | None:
    return None if outcome.ok else f"Paddle refused it: {outcome.describe()}"


def _error_is_not(outcome: Any, wanted: str) -> str | None:
    if outcome.ok:
        return f"Paddle accepted it (the spec wants {wanted})"
    return None if outcome.error_id != wanted else f"Paddle reported {wanted} as the spec wants"


def _t(values: list[float], dtype: str = F32) -> TensorValue:
    return TensorValue(np.array(values, dtype=dtype))


def demo_trailing_bytes(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    data = _codec.encode_lod_tensor(np.array([1, 2], np.float32)) + b"junk"
    return _loads_ok(_load_file(paddle, tmp, data))


def demo_truncated_data(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    data = _codec.encode_lod_tensor(np.array([1, 2, 3, 4], np.float32))[:-3]
    return _loads_ok(_load_file(paddle, tmp, data, shape=(4,)))


def demo_desc_past_end(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    desc = _codec.encode_tensor_desc(5, [2])
    data = struct.pack("<IQIi", 0, 0, 0, len(desc) + 1) + desc
    return _error_is_not(_load_file(paddle, tmp, data), "TRUNCATED")


def demo_invalid_lod(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    data = _raw_record([[5, 1, 99]], 5, [5, 1], np.zeros(5, "<f4").tobytes())
    return _loads_ok(_load_file(paddle, tmp, data, shape=(5, 1)))


def demo_lod_level_size(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    data = struct.pack("<IQQ", 0, 1, 1 << 40) + bytes(64)
    return _error_is_not(_load_file(paddle, tmp, data), "TRUNCATED")


def demo_dims_overflow(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    return _loads_ok(_load_file(paddle, tmp, _raw_record([], 5, [1 << 62, 4], b"")))


def demo_allocates_from_header(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    outcome = _load_file(paddle, tmp, _raw_record([], 5, [1 << 20, 1 << 20], b"\0" * 16))
    if outcome.ok or outcome.error.get("type") != "MemoryError":
        return f"no allocation failure: {outcome.describe()}"
    return None


def demo_lfs_pointer(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    data = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 50\n"
    return _error_is_not(_load_file(paddle, tmp, data), "NOT_A_TENSOR_FILE")


def demo_selected_rows_row_count(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    data = struct.pack("<IQ", 0, 1 << 40) + bytes(32)
    return _error_is_not(_load_file(paddle, tmp, data, name="sr", kind="SELECTED_ROWS",
                                    shape=(1, 2)), "TRUNCATED")


def demo_selected_rows_height_past_i64(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    prog = ProgramSpec(vars=(VarSpec("sr", kind="SELECTED_ROWS", dtype=F32, shape=(-1, 2),
                                     persistable=True),))
    outcome = paddle.run(prog, {"sr": SelectedRowsValue(np.ones((1, 2), np.float32), [0], 1 << 63)},
                         Call("save_vars", {"dirname": str(tmp / "d"), "filename": None,
                                            "vars": ["sr"], "predicate": None}))
    return _error_is_not(outcome, "INVALID_ARGUMENT")


def demo_combined_dtype(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    (tmp / "all").write_bytes(_codec.encode_lod_tensor(np.array([1, 2], np.float64)))
    outcome = paddle.run(_prog(("w", F32, (2,), False)), {},
                         Call("load_vars", {"dirname": str(tmp), "filename": "all",
                                            "vars": ["w"], "predicate": None}))
    return _loads_ok(outcome)


def demo_truncated_last_record(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    a = _codec.encode_lod_tensor(np.array([1, 2], np.float32))
    b = _codec.encode_lod_tensor(np.array([3, 4], np.float32))[:-2]
    (tmp / "all").write_bytes(a + b)
    outcome = paddle.run(_prog(("a", F32, (2,), False), ("b", F32, (2,), False)), {},
                         Call("load_vars", {"dirname": str(tmp), "filename": "all",
                                            "vars": ["a", "b"], "predicate": None}))
    return _loads_ok(outcome)


def demo_empty_combined_load(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    (tmp / "all").write_bytes(b"")
    outcome = paddle.run(_prog(("a", F32, (2,), False)), {},
                         Call("load_vars", {"dirname": str(tmp), "filename": "all",
                                            "vars": [], "predicate": None}))
    return "Paddle loaded nothing as the spec wants" if outcome.ok else None


def demo_raw_only_combined_save(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    prog = ProgramSpec(vars=(VarSpec("raw", kind="RAW", dtype=None, shape=None,
                                     persistable=True),))
    outcome = paddle.run(prog, {}, Call("save_vars", {"dirname": str(tmp / "d"), "filename": "all",
                                                      "vars": ["raw"], "predicate": None}))
    return "Paddle wrote nothing and returned None as the spec wants" if outcome.ok else None


def demo_scope_changed_by_failed_load(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    a = _codec.encode_lod_tensor(np.array([7, 8], np.float32))
    b = _codec.encode_lod_tensor(np.array([1, 2, 3], np.float32))  # b is declared [2]
    (tmp / "all").write_bytes(a + b)
    before = {"a": _t([0, 0]), "b": _t([0, 0])}
    outcome = paddle.run(_prog(("a", F32, (2,), True), ("b", F32, (2,), True)), before,
                         Call("load_params", {"dirname": str(tmp), "filename": "all"}))
    if outcome.ok:
        return "the load succeeded"
    if values_equal(outcome.scope.get("a"), before["a"]):
        return f"the scope kept its values ({outcome.describe()})"
    return None


def demo_uninitialised_save_writes(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    outcome = paddle.run(_prog(("a", F32, (2,), False), ("u", F32, (2,), False)),
                         {"a": _t([1, 2])}, Call("save_vars", {"dirname": str(tmp / "d"),
                                                               "filename": None, "vars": ["a", "u"],
                                                               "predicate": None}))
    if outcome.ok:
        return "the save succeeded"
    written = sorted(p.name for p in (tmp / "d").glob("*")) if (tmp / "d").exists() else []
    return None if written else f"nothing was written ({outcome.describe()})"


def demo_failed_save_destroys_good_save(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    prog = _prog(("u", F32, (2,), False))
    call = Call("save_vars", {"dirname": str(tmp), "filename": None, "vars": ["u"],
                              "predicate": None})
    first = paddle.run(prog, {"u": _t([1, 2])}, call)
    assert first.ok, first.describe()
    good = (tmp / "u").read_bytes()
    failed = paddle.run(prog, {}, call)
    if failed.ok:
        return "the second save succeeded"
    return None if (tmp / "u").read_bytes() != good else "the previous file is intact"


def demo_selected_rows_combined_crash(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    prog = ProgramSpec(vars=(VarSpec("sr", kind="SELECTED_ROWS", dtype=F32, shape=(4, 2),
                                     persistable=True),))
    outcome = paddle.run(prog, {"sr": SelectedRowsValue(np.ones((1, 2), np.float32), [0], 4)},
                         Call("save_persistables", {"dirname": str(tmp), "filename": "all"}))
    return _error_is_not(outcome, "UNSUPPORTED_VAR_TYPE")


def demo_name_escapes_dirname(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    outcome = paddle.run(_prog(("../escaped", F32, (2,), False)), {"../escaped": _t([1, 2])},
                         Call("save_vars", {"dirname": str(tmp / "d"), "filename": None,
                                            "vars": None, "predicate": "is_persistable"}))
    if not outcome.ok:
        return f"refused: {outcome.describe()}"
    return None if (tmp / "escaped").is_file() else "nothing written outside dirname"


def demo_filename_escapes_dirname(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    outcome = paddle.run(_prog(("w", F32, (2,), False)), {"w": _t([1, 2])},
                         Call("save_vars", {"dirname": str(tmp / "d"), "filename": "../outside",
                                            "vars": None, "predicate": "is_persistable"}))
    if not outcome.ok:
        return f"refused: {outcome.describe()}"
    return None if (tmp / "outside").is_file() else "nothing written outside dirname"


def demo_file_and_directory(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    outcome = paddle.run(_prog(("a", F32, (2,), False), ("a/b", F32, (2,), False)),
                         {"a": _t([1, 2]), "a/b": _t([3, 4])},
                         Call("save_vars", {"dirname": str(tmp), "filename": None, "vars": None,
                                            "predicate": "is_persistable"}))
    return _error_is_not(outcome, "UNSAFE_NAME")


def demo_bad_argument(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    outcome = paddle.run(_prog(("w", F32, (2,), False)), {"w": _t([1, 2])},
                         Call("save_vars", {"dirname": None, "filename": "f", "vars": None,
                                            "predicate": "is_persistable"}))
    return _error_is_not(outcome, "INVALID_ARGUMENT")


def demo_unclassified_error(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    (tmp / "file").write_bytes(b"")  # dirname is a regular file
    outcome = paddle.run(_prog(("w", F32, (2,), False)), {"w": _t([1, 2])},
                         Call("save_vars", {"dirname": str(tmp / "file"), "filename": None,
                                            "vars": ["w"], "predicate": None}))
    return _error_is_not(outcome, "INVALID_ARGUMENT") if not outcome.ok and \
        outcome.error_id == "UNCLASSIFIED" else f"classified: {outcome.describe()}"


def demo_error_without_context(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    outcome = _load_file(paddle, tmp, b"\0" * 10)
    if outcome.ok:
        return "loaded"
    missing = [k for k in ("offset", "expected", "found") if outcome.error.get(k) is None]
    return None if missing else f"the error has {outcome.error}"


def demo_32bit_lod_height(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    big = (1 << 33) + 5  # Paddle's CheckLoD compares the height in 32 bits: 2**33 + 5 looks like 5
    value = TensorValue(np.zeros((big, 0), np.float32), [[0, big]])
    outcome = paddle.run(_prog(("t", F32, (-1, 0), False)), {"t": value},
                         Call("save_vars", {"dirname": str(tmp), "filename": None, "vars": ["t"],
                                            "predicate": None}))
    return _error_is_not(outcome, "none: the spec wants the round trip to work")


def demo_program_without_blocks(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    from fluidspec.spec.framework_pb2 import ProgramDesc

    desc = ProgramDesc()
    desc.version.version = 2006002
    (tmp / "__model__").write_bytes(desc.SerializeToString())
    outcome = paddle.run(ProgramSpec(), {}, Call("load_inference_model", {
        "dirname": str(tmp), "model_filename": None, "params_filename": None}))
    return _error_is_not(outcome, "BAD_PROGRAM")


def demo_rank_64(paddle: SubprocessAdapter, tmp: Path) -> str | None:
    data = _raw_record([], 5, [1] * 64, np.float32(1.5).tobytes())
    return None if not (out := _load_file(paddle, tmp, data, shape=(1,) * 64)).ok else \
        f"Paddle loaded a rank-64 tensor ({out.describe()})"


DEMONSTRATIONS = {
    "ERR-001": demo_unclassified_error,
    "ERR-002": demo_error_without_context,
    "API-ARG-001": demo_bad_argument,
    "FMT-COMB-003": demo_trailing_bytes,
    "FMT-DESC-004": demo_desc_past_end,
    "FMT-DESC-005": demo_rank_64,
    "FMT-LOD-003": demo_invalid_lod,
    "FMT-LOD-004": demo_lod_level_size,
    "FMT-SAFE-001": demo_truncated_data,
    "FMT-SAFE-002": demo_dims_overflow,
    "FMT-SAFE-003": demo_allocates_from_header,
    "FMT-SAFE-004": demo_lfs_pointer,
    "FMT-SR-003": demo_selected_rows_row_count,
    "FMT-SR-004": demo_selected_rows_height_past_i64,
    "SAFE-LARGE-001": demo_32bit_lod_height,
    "SAFE-MEM-001": demo_allocates_from_header,
    "SAFE-MISMATCH-001": demo_scope_changed_by_failed_load,
    "SAFE-ATOMIC-001": demo_failed_save_destroys_good_save,
    "SAFE-ATOMIC-002": demo_failed_save_destroys_good_save,
    "SAFE-PATH-001": demo_name_escapes_dirname,
    "SAFE-PATH-002": demo_name_escapes_dirname,
    "SAFE-PATH-003": demo_filename_escapes_dirname,
    "SEL-PATH-001": demo_name_escapes_dirname,
    "SEL-PATH-002": demo_file_and_directory,
    "SEL-LOAD-003": demo_scope_changed_by_failed_load,
    "SEL-LOAD-004": demo_truncated_last_record,
    "SEL-LOAD-005": demo_combined_dtype,
    "SEL-LOAD-008": demo_empty_combined_load,
    "SEL-SAVE-010": demo_raw_only_combined_save,
    "SEL-SAVE-006": demo_uninitialised_save_writes,
    "SEL-SAVE-007": demo_selected_rows_combined_crash,
    "SEL-SAVE-008": demo_failed_save_destroys_good_save,
    "INF-LOAD-001": demo_program_without_blocks,
}


def _known_failures() -> dict[str, str]:
    out = {}
    for line in KNOWN_FAILURES.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            clause, _, reason = line.partition(" ")
            out[clause] = reason.strip()
    return out


def test_known_failures_file_lists_exactly_the_demonstrated_departures() -> None:
    from fluidspec import spec

    known = _known_failures()
    assert sorted(known) == sorted(DEMONSTRATIONS)
    for clause, reason in known.items():
        assert spec.clause(clause).tier in ("SHOULD", "MAY"), clause  # MUST failures are never excused
        assert reason, clause


@pytest.mark.parametrize("clause", sorted(DEMONSTRATIONS))
def test_paddle_departs_from(clause: str, paddle: SubprocessAdapter, tmp_path: Path) -> None:
    why_not = DEMONSTRATIONS[clause](paddle, tmp_path)
    assert why_not is None, f"{clause}: {why_not}"


# ------------------------------------------------------------------------------------------
# Inference models written by fluidspec load and run in Paddle's executor


def _run_in_paddle(dirname: Path, feeds: dict[str, np.ndarray], tmp: Path,
                   **names: str | None) -> dict[str, np.ndarray]:
    np.savez(tmp / "feeds.npz", **feeds)
    argv = [str(PADDLE_PYTHON), str(ROOT / "conformance" / "paddle" / "run_inference.py"),
            str(dirname), str(tmp / "feeds.npz"), str(tmp / "out.npz")]
    for key, value in names.items():
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", value]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(np.load(tmp / "out.npz"))


def _hand_written_model() -> bytes:
    """``y = x + w`` as a ProgramDesc built from spec/framework.proto (PROG-SCHEMA-001), with only
    the fields a Fluid ``__model__`` needs: feed/fetch vars and ops with their ``col``."""
    from fluidspec.spec import VarType as VT
    from fluidspec.spec.framework_pb2 import AttrType, ProgramDesc, VarDesc, VarType

    def tensor_var(name: str, dims: list[int], **kw: bool) -> VarDesc:
        t = VarType(type=VT.LOD_TENSOR)
        t.lod_tensor.tensor.data_type = VT.FP32
        t.lod_tensor.tensor.dims.extend(dims)
        return VarDesc(name=name, type=t, **kw)

    desc = ProgramDesc()
    block = desc.blocks.add(idx=0, parent_idx=-1)
    block.vars.extend([
        VarDesc(name="feed", type=VarType(type=VT.FEED_MINIBATCH), persistable=True),
        VarDesc(name="fetch", type=VarType(type=VT.FETCH_LIST), persistable=True),
        tensor_var("x", [-1, 3], need_check_feed=True),
        tensor_var("w", [3], persistable=True),
        tensor_var("y", [-1, 3]),
    ])
    for op_type, ins, outs, col in (("feed", ("X", "feed"), ("Out", "x"), 0),
                                    ("elementwise_add", None, ("Out", "y"), None),
                                    ("fetch", ("X", "y"), ("Out", "fetch"), 0)):
        op = block.ops.add(type=op_type)
        if ins is None:
            op.inputs.add(parameter="X", arguments=["x"])
            op.inputs.add(parameter="Y", arguments=["w"])
            op.attrs.add(name="axis", type=AttrType.INT, i=-1)
        else:
            op.inputs.add(parameter=ins[0], arguments=[ins[1]])
        op.outputs.add(parameter=outs[0], arguments=[outs[1]])
        if col is not None:
            op.attrs.add(name="col", type=AttrType.INT, i=col)
    return desc.SerializeToString()


def test_fluidspec_written_inference_model_runs_in_paddle(tmp_path: Path) -> None:
    """A ``__model__`` from spec's ProgramDesc bindings plus a parameter file from the reference
    codec: Paddle loads it (dirname layout and combined params) and computes x + w."""
    w = np.array([0.5, -1.0, 2.0], np.float32)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for layout in ("separate", "combined"):
        d = tmp_path / layout
        d.mkdir()
        (d / "__model__").write_bytes(_hand_written_model())
        params = "__params__" if layout == "combined" else None
        (d / (params or "w")).write_bytes(_codec.encode_lod_tensor(w))
        out = _run_in_paddle(d, {"x": x}, tmp_path, params_filename=params)
        assert list(out["feed_target_names"]) == ["x"]
        assert list(out["fetch_target_names"]) == ["y"]
        assert out["fetch_0"].dtype == np.float32
        assert np.array_equal(out["fetch_0"], x + w)


def test_reference_saved_inference_model_runs_in_paddle(tmp_path: Path) -> None:
    from fluidspec import reference as fluid

    save = getattr(fluid.io, "save_inference_model", None)
    if save is None:
        pytest.skip("reference.io has no save_inference_model yet")
    prog, startup = fluid.Program(), fluid.Program()
    with fluid.program_guard(prog, startup):
        block = prog.global_block()
        x = block.create_var(name="x", shape=[-1, 3], dtype="float32", need_check_feed=True)
        w = block.create_parameter(name="w", shape=[3], dtype="float32")
        y = block.create_var(name="y", shape=[-1, 3], dtype="float32")
        block.append_op(type="elementwise_add", inputs={"X": [x], "Y": [w]},
                        outputs={"Out": [y]}, attrs={"axis": -1})
    wv = np.array([1.5, -2.0, 0.25], np.float32)
    scope = fluid.Scope()
    with fluid.scope_guard(scope):
        scope.var("w").get_tensor().set(wv, fluid.CPUPlace())
        save(str(tmp_path / "model"), ["x"], [y], fluid.Executor(fluid.CPUPlace()),
             main_program=prog)
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = _run_in_paddle(tmp_path / "model", {"x": xv}, tmp_path)
    assert list(out["feed_target_names"]) == ["x"]
    assert np.array_equal(out["fetch_0"], xv + wv)


# ------------------------------------------------------------------------------------------
# The conformance suite against real Paddle


def test_conformance_suite_against_paddle() -> None:
    """Real Paddle 2.6.2 passes every MUST clause of the suite; every
    SHOULD/MAY failure is a listed known failure, and no listed one passes (stale).  A clause may
    only be skipped when every check of it skipped (in-process-only checks, an API form Paddle
    lacks) — never because a check that covers it failed on another clause first.  The
    report is written to $FLUIDSPEC_PADDLE_REPORT when that is set."""
    try:
        from fluidspec.conformance._registry import checks
        from fluidspec.conformance._runner import run_suite

        checks()
    except ImportError as exc:
        pytest.skip(f"the conformance suite cannot be imported here ({exc})")
    report = run_suite(["paddle-2.6.2"], profile="ci")
    out = os.environ.get("FLUIDSPEC_PADDLE_REPORT")
    if out:
        Path(out).write_text(json.dumps(report.to_json(), indent=1, default=str))
    statuses = [s for s in report.clause_statuses() if s.impl == "paddle-2.6.2"]
    must = {s.clause: s.failure.message if s.failure else "" for s in statuses
            if s.status == "fail" and s.tier == "MUST"}
    # A MUST departure is never excused; the ones Paddle really has are demonstrated below and
    # expected here exactly, so a change either way is noticed.
    assert set(must) == set(PADDLE_MUST_DEPARTURES), must
    unexcused = {s.clause: s.failure.message if s.failure else "" for s in statuses
                 if s.status == "fail" and s.clause not in PADDLE_MUST_DEPARTURES}
    assert unexcused == {}, "SHOULD/MAY failures missing from the known-failures file"
    stale = {s.clause: s.known_reason for s in statuses if s.status == "stale"}
    assert stale == {}, "known failures that now pass (or that no case of the suite hits)"
    by_check = {r.check: r.status for r in report.results if r.impl == "paddle-2.6.2"}
    hidden = {s.clause: {c: by_check.get(c) for c in s.checks} for s in statuses
              if s.status == "not-exercised"
              and any(by_check.get(c) not in ("skip", "unclaimed") for c in s.checks)}
    assert hidden == {}, "clauses left unjudged by a check that failed on another clause"
    assert {s.clause for s in report.must_failures} == set(PADDLE_MUST_DEPARTURES)
    assert report.verdict()[0] == 1  # those MUST failures fail the run
    mine = report.coverage_of("paddle-2.6.2")
    assert mine["not_exercised"] == [], mine  # every clause Paddle claims was exercised


def _prune_sub_block_in_paddle() -> dict:
    out = subprocess.run([str(PADDLE_PYTHON), str(Path(__file__).with_name(
        "paddle_prune_sub_block.py"))], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


#: MUST clauses real Paddle 2.6.2 breaks, each with its reproducer (never excused).
PADDLE_MUST_DEPARTURES = {
    # Pruning keeps a conditional_block but not what its sub-block reads beyond its Input slot.
    "INF-SAVE-002": _prune_sub_block_in_paddle,
}


def test_paddle_prunes_without_the_sub_block_reads() -> None:
    """INF-SAVE-002: the op making h2 and the parameter p.w2, read only inside the sub-block, are
    dropped by Paddle 2.6.2's pruning."""
    pruned = _prune_sub_block_in_paddle()
    assert pruned["ops"] == ["conditional_block"]
    assert "p.w2" not in pruned["vars"] and "h2" not in pruned["vars"]
