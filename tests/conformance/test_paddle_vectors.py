"""The committed Paddle-written vectors (conformance/vectors/paddle-2.6.2/ and paddle-3.3.1/) against
fluidspec.

No Paddle needed: the files were written by real Paddle 2.6.2 and 3.3.1 (legacy IR; ``bash
scripts/paddle_vectors.sh VERSION``) and the expected values are the inputs the generator gave
Paddle, so these tests check fluidspec's decoder against Paddle's bytes and fluidspec's encoder
against Paddle's writer (byte for byte).  Both sets hold the same vector ids; every test runs on
each (the ``paddle_version`` fixture).

Clauses: FMT-REC-001..007, FMT-DESC-001, FMT-DTYPE-001..003, FMT-LOD-001/002, FMT-SR-001/002,
FMT-COMB-001 (what each vector checks is listed in its manifest entry), PROG-SCHEMA-001 and
PROG-SER-001 for the inference models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest

from fluidspec import spec
from fluidspec.reference import _codec
from fluidspec.spec.framework_pb2 import ProgramDesc

VERSIONS = ("2.6.2", "3.3.1")
_ROOT = Path(__file__).resolve().parents[2] / "conformance" / "vectors"


def _load_set(version: str) -> tuple[Path, dict[str, Any]]:
    root = _ROOT / f"paddle-{version}"
    return root, json.loads((root / "manifest.json").read_text(encoding="utf-8"))


# The set the running test reads; the autouse fixture below points these at each set in turn.
# Collection (the vector ids of the parametrizations) uses the first set: both hold the same ids
# (test_both_sets_hold_the_same_vectors).
VECTORS, MANIFEST = _load_set(VERSIONS[0])
KINDS = {"tensor_file", "combined", "memory", "selected_rows_file", "save_dir", "inference_model"}
BY_ID = {v["id"]: v for v in MANIFEST["vectors"]}


@pytest.fixture(autouse=True, params=VERSIONS, ids=lambda v: f"paddle-{v}")
def paddle_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    root, manifest = _load_set(request.param)
    module = sys.modules[__name__]
    monkeypatch.setattr(module, "VECTORS", root)
    monkeypatch.setattr(module, "MANIFEST", manifest)
    monkeypatch.setattr(module, "BY_ID", {v["id"]: v for v in manifest["vectors"]})
    return request.param


def test_both_sets_hold_the_same_vectors() -> None:
    ids = [[v["id"] for v in _load_set(version)[1]["vectors"]] for version in VERSIONS]
    assert all(each == ids[0] for each in ids)


def _ids(*kinds: str) -> list[str]:
    return [v["id"] for v in MANIFEST["vectors"] if v["kind"] in kinds]


def _expected_array(var: dict[str, Any]) -> np.ndarray:
    array = np.load(VECTORS / var["values"], allow_pickle=False)
    if var.get("bits_dtype"):
        assert var["dtype"] == "bfloat16" and array.dtype == np.dtype(var["bits_dtype"])
        array = array.view(ml_dtypes.bfloat16)
    return array


def _assert_same(decoded: np.ndarray, var: dict[str, Any], where: str) -> None:
    """dtype, shape and every bit of the data (NaN payloads and -0.0 included)."""
    expected = _expected_array(var)
    assert str(decoded.dtype) == var["dtype"], where
    assert list(decoded.shape) == var["shape"] == list(expected.shape), where
    assert decoded.tobytes() == expected.tobytes(), where


def _check_tensor(data: bytes, var: dict[str, Any], where: str) -> None:
    decoded = _codec.decode_tensor_file(data, path=where, var=var["name"])
    _assert_same(decoded.array, var, where)
    assert decoded.lod == var["lod"], where
    assert _codec.encode_lod_tensor(_expected_array(var), var["lod"]) == data, where


def _check_combined(data: bytes, vars_: list[dict[str, Any]], order: list[str], where: str) -> None:
    """FMT-COMB-001: records in code-point order of the names; re-encoding gives the same bytes."""
    assert order == sorted(order) == [v["name"] for v in vars_], where
    decoded = _codec.decode_combined(data, names=order, path=where)
    for var, rec in zip(vars_, decoded, strict=True):
        _assert_same(rec.array, var, f"{where}:{var['name']}")
        assert rec.lod == var["lod"], where
    encoded = b"".join(_codec.encode_lod_tensor(_expected_array(v), v["lod"]) for v in vars_)
    assert encoded == data, where


# ------------------------------------------------------------------------------------------
# The manifest itself


def test_manifest_schema(paddle_version: str) -> None:
    assert MANIFEST["schema"] == "fluidspec-vectors/1"
    assert MANIFEST["provenance"]["implementation"] == "paddlepaddle"
    assert MANIFEST["provenance"]["version"] == paddle_version
    assert MANIFEST["provenance"]["generator"] == "conformance/paddle/generate_vectors.py"
    known_clauses = {c.id for c in spec.clauses()}
    seen: set[str] = set()
    for vec in MANIFEST["vectors"]:
        assert set(vec) >= {"id", "description", "clauses", "kind", "files", "expected"}, vec["id"]
        assert vec["id"] not in seen
        seen.add(vec["id"])
        assert vec["kind"] in KINDS
        assert vec["description"]
        assert set(vec["clauses"]) <= known_clauses, vec["id"]
        assert vec["files"], vec["id"]
        for rel in vec["files"]:
            assert (VECTORS / rel).is_file(), rel
        exp = vec["expected"]
        assert exp["result"] in ("valid", "invalid", "acceptable")
        assert exp["error"] is None or exp["error"] in spec.errors.ERROR_CLASSES
        for var in exp["vars"]:
            assert set(var) >= {"name", "dtype", "shape", "lod", "values"}
            dtype = np.dtype(getattr(ml_dtypes, var["dtype"], None) or var["dtype"])
            spec.element_type_for_dtype(dtype)  # a dtype of the element-type table
            assert (VECTORS / var["values"]).is_file()
        if vec["kind"] in ("combined", "memory"):
            assert exp["order"] == [v["name"] for v in exp["vars"]]
        if vec["kind"] == "selected_rows_file":
            assert all("rows" in v and "height" in v for v in exp["vars"])
        if vec["kind"] == "inference_model":
            assert exp["feed_target_names"] and exp["fetch_target_names"]


def test_manifest_covers_the_issue() -> None:
    """What the Paddle vectors must cover: all dtypes, LoD 1 and 2 levels, 0-d, zero-size, rank 8 with a dim >= 128,
    SelectedRows, names and combined order, filtering, both inference layouts; < 2 MiB."""
    dtypes = {v["dtype"] for vec in MANIFEST["vectors"] for v in vec["expected"]["vars"]}
    assert dtypes >= {"bool", "int8", "uint8", "int16", "int32", "int64", "float16", "float32",
                      "float64", "bfloat16", "complex64", "complex128"}
    all_vars = [v for vec in MANIFEST["vectors"] for v in vec["expected"]["vars"]]
    assert {len(v["lod"]) for v in all_vars} >= {0, 1, 2}
    assert any(v["shape"] == [] for v in all_vars)
    assert any(0 in v["shape"] for v in all_vars)
    assert any(len(v["shape"]) == 8 and max(v["shape"]) >= 128 for v in all_vars)
    assert _ids("selected_rows_file")
    assert BY_ID["names-combined"]["expected"]["order"] == [
        "10", "9", "B", "Z9", "_x", "a b", "a-b", "a.b", "a/b", "a_b", "b", "é"]
    layouts = {Path(BY_ID[i]["expected"]["model"]).name for i in _ids("inference_model")}
    assert layouts == {"__model__", "model.pdmodel"}
    size = sum(p.stat().st_size for p in VECTORS.rglob("*") if p.is_file())
    assert size < 2 * 1024 * 1024


# ------------------------------------------------------------------------------------------
# Tensor files, combined files, memory bytes, SelectedRows


@pytest.mark.parametrize("vid", _ids("tensor_file"))
def test_tensor_file(vid: str) -> None:
    vec = BY_ID[vid]
    [rel] = vec["files"]
    [var] = vec["expected"]["vars"]
    _check_tensor((VECTORS / rel).read_bytes(), var, rel)


@pytest.mark.parametrize("vid", _ids("combined", "memory"))
def test_combined_or_memory(vid: str) -> None:
    vec = BY_ID[vid]
    [rel] = vec["files"]
    _check_combined((VECTORS / rel).read_bytes(), vec["expected"]["vars"],
                    vec["expected"]["order"], rel)


def test_memory_bytes_equal_the_combined_file() -> None:
    """save_vars(dirname=None) returns exactly what a combined save writes (FMT-COMB-001)."""
    [mem] = BY_ID["all-dtypes-memory"]["files"]
    [comb] = BY_ID["all-dtypes-combined"]["files"]
    assert (VECTORS / mem).read_bytes() == (VECTORS / comb).read_bytes()


@pytest.mark.parametrize("vid", _ids("selected_rows_file"))
def test_selected_rows_file(vid: str) -> None:
    """FMT-SR-001: version, rows, height, then a tensor without LoD."""
    vec = BY_ID[vid]
    [rel] = vec["files"]
    [var] = vec["expected"]["vars"]
    data = (VECTORS / rel).read_bytes()
    decoded = _codec.decode_selected_rows(data, path=rel)
    assert decoded.header is not None and decoded.header.end == len(data)
    _assert_same(decoded.array, var, rel)
    assert decoded.rows == var["rows"] and decoded.height == var["height"]
    assert _codec.encode_selected_rows(_expected_array(var), var["rows"], var["height"]) == data
    # FMT-SNIFF-001: a tool that is not told the kind still finds the SelectedRows record.
    [header] = _codec.read_records(data, path=rel)
    assert header.kind == "SelectedRows"


# ------------------------------------------------------------------------------------------
# Save directories (selection) and inference models, checked at the byte level


def _check_save_dir_files(vec: dict[str, Any]) -> None:
    exp = vec["expected"]
    root = VECTORS / exp["dirname"]
    on_disk = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
    )
    assert on_disk == exp["files_written"]
    if exp.get("filename"):
        assert exp["files_written"] == [exp["filename"]]
        _check_combined((root / exp["filename"]).read_bytes(), exp["vars"], exp["order"],
                        f"{exp['dirname']}/{exp['filename']}")
    else:
        # Separate files: one per var, at dirname/name ('a/b' is a sub-directory).
        assert exp["files_written"] == sorted(v["name"] for v in exp["vars"])
        for var in exp["vars"]:
            _check_tensor((root / var["name"]).read_bytes(), var, f"{exp['dirname']}/{var['name']}")


@pytest.mark.parametrize("vid", _ids("save_dir"))
def test_save_dir_files(vid: str) -> None:
    _check_save_dir_files(BY_ID[vid])


def test_filtering_params_versus_persistables() -> None:
    """What Paddle's selection wrote: parameters only, or every persistable except RAW."""
    written = {vid: BY_ID[vid]["expected"]["files_written"] for vid in _ids("save_dir")}
    assert written["filter-save-params"] == ["fc.b_0", "fc.w_0", "zz_param"]
    assert written["filter-save-persistables"] == [
        "fc.b_0", "fc.w_0", "learning_rate_0", "my_counter", "zz_param"]
    lr = next(v for v in BY_ID["filter-save-persistables"]["expected"]["vars"]
              if v["name"] == "learning_rate_0")
    assert lr["shape"] == []  # SGD's learning rate is a 0-d tensor


def _program(vec: dict[str, Any]) -> ProgramDesc:
    data = (VECTORS / vec["expected"]["model"]).read_bytes()
    desc = ProgramDesc.FromString(data)
    assert desc.SerializeToString() == data  # PROG-SER-001
    return desc


def _col(op: Any) -> int:
    return next(a.i for a in op.attrs if a.name == "col")


@pytest.mark.parametrize("vid", _ids("inference_model"))
def test_inference_model_files(vid: str, paddle_version: str) -> None:
    vec = BY_ID[vid]
    exp = vec["expected"]
    root = VECTORS / exp["dirname"]
    assert sorted(p.name for p in root.iterdir()) == exp["files_written"]
    desc = _program(vec)
    # PROG-VER-001: each release writes its own version (2.6.2 -> 2006002, 3.3.1 -> 3003001).
    assert desc.version.version == spec.program_version(*map(int, paddle_version.split(".")))
    if paddle_version == "2.6.2":
        assert desc.version.version == spec.PADDLE_2_6_2_PROGRAM_VERSION
    ops = desc.blocks[0].ops
    feeds = sorted((op for op in ops if op.type == "feed"), key=_col)
    fetches = sorted((op for op in ops if op.type == "fetch"), key=_col)
    assert [op.outputs[0].arguments[0] for op in feeds] == exp["feed_target_names"]
    assert [op.inputs[0].arguments[0] for op in fetches] == exp["fetch_target_names"]
    # Feed ops are stored in reverse col order (Paddle 2.6.2, python/paddle/static/io.py: feed ops are prepended one by one).
    assert [_col(op) for op in ops if op.type == "feed"] == list(range(len(feeds)))[::-1]
    persistable = sorted(
        v.name for v in desc.blocks[0].vars
        if v.persistable and v.type.type == spec.VarType.LOD_TENSOR
    )
    assert persistable == [v["name"] for v in exp["vars"]]
    if exp["params_filename"]:
        _check_combined((root / exp["params_filename"]).read_bytes(), exp["vars"], exp["order"],
                        exp["params"])
    else:
        for var in exp["vars"]:
            _check_tensor((root / var["name"]).read_bytes(), var, f"{vid}/{var['name']}")


def test_both_inference_layouts_hold_the_same_program() -> None:
    """The dirname layout built from normalize_program + serialize is save_inference_model's."""
    assert _program(BY_ID["inference-dir"]) == _program(BY_ID["inference-combined"])


# ------------------------------------------------------------------------------------------
# numba_kernels reads Paddle's bytes too (both directions)


@pytest.mark.parametrize("vid", _ids("tensor_file", "combined", "memory"))
def test_numba_kernels_decode_paddle_bytes(vid: str) -> None:
    arrays = pytest.importorskip("fluidspec.numba_kernels.arrays")
    vec = BY_ID[vid]
    [rel] = vec["files"]
    data = (VECTORS / rel).read_bytes()
    vars_ = vec["expected"]["vars"]
    decoded = arrays.decode(data, copy=True, count=len(vars_), path=rel)
    for var, (array, lod) in zip(vars_, decoded, strict=True):
        _assert_same(array, var, f"{rel}:{var['name']}")
        assert [list(level) for level in lod] == var["lod"], rel
    lods = [v["lod"] for v in vars_]
    assert bytes(arrays.encode([_expected_array(v) for v in vars_], lods)) == data


# ------------------------------------------------------------------------------------------
# Through reference's public load APIs (reference.io)


def _reference() -> Any:
    try:
        import fluidspec.reference.io  # noqa: F401, PLC0415
        from fluidspec import reference as fluid  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - reference.io is part of the package now
        pytest.skip(f"reference.io is not importable ({exc})")
    return fluid


def _assert_scope(fluid: Any, scope: Any, vars_: list[dict[str, Any]], where: str) -> None:
    for var in vars_:
        holder = scope.find_var(var["name"])
        assert holder is not None, f"{where}: {var['name']} not loaded"
        tensor = holder.get_tensor()
        _assert_same(np.asarray(tensor), var, f"{where}:{var['name']}")
        assert [list(level) for level in tensor.lod()] == var["lod"], where


@pytest.mark.parametrize("vid", [i for i in _ids("save_dir") if i.startswith("filter-")])
def test_filtering_save_dir_loads_through_reference_io(vid: str) -> None:
    """Paddle's training program (ProgramDesc bytes) parsed by reference, then Paddle's files
    loaded with the API that wrote them (SEL-CAND-003, SEL-FILE-001/002, PROG-SCHEMA-001)."""
    fluid = _reference()
    exp = BY_ID[vid]["expected"]
    program = fluid.Program.parse_from_string((VECTORS / exp["program"]).read_bytes())
    load = fluid.io.load_params if "params" in vid.split("-")[2] else fluid.io.load_persistables
    scope = fluid.Scope()
    with fluid.scope_guard(scope):
        load(fluid.Executor(fluid.CPUPlace()), str(VECTORS / exp["dirname"]),
             main_program=program, filename=exp["filename"])
    _assert_scope(fluid, scope, exp["vars"], vid)
    # Exactly the selected vars were loaded: the others of the program stay absent.
    loaded = {n for n in scope.local_var_names() if scope.find_var(n).is_initialized()}
    assert loaded == {v["name"] for v in exp["vars"]}


@pytest.mark.parametrize("vid", ["names-separate", "names-combined"])
def test_names_load_through_reference_io(vid: str) -> None:
    """Names with '/', '.', spaces and non-ASCII: SEL-FILE-001 (separate), SEL-SAVE-004 (order)."""
    fluid = _reference()
    vec = BY_ID[vid]
    exp = vec["expected"]
    program = fluid.Program()
    block = program.global_block()
    declared = [block.create_var(name=v["name"], shape=v["shape"], dtype=v["dtype"],
                                 persistable=True) for v in reversed(exp["vars"])]
    if vec["kind"] == "save_dir":
        dirname, filename = VECTORS / exp["dirname"], None
    else:
        [rel] = vec["files"]
        dirname, filename = (VECTORS / rel).parent, (VECTORS / rel).name
    scope = fluid.Scope()
    with fluid.scope_guard(scope):
        fluid.io.load_vars(fluid.Executor(fluid.CPUPlace()), str(dirname), main_program=program,
                           vars=declared, filename=filename)
    _assert_scope(fluid, scope, exp["vars"], vid)


@pytest.mark.parametrize("vid", _ids("inference_model"))
def test_inference_model_loads_through_reference_io(vid: str) -> None:
    fluid = _reference()
    load = getattr(fluid.io, "load_inference_model", None)
    if load is None:
        pytest.skip("reference.io has no load_inference_model yet; the files are checked above")
    exp = BY_ID[vid]["expected"]
    scope = fluid.Scope()
    with fluid.scope_guard(scope):
        exe = fluid.Executor(fluid.CPUPlace())
        program, feed_names, fetch_targets = load(
            str(VECTORS / exp["dirname"]), exe, model_filename=exp["model_filename"],
            params_filename=exp["params_filename"])
        assert list(feed_names) == exp["feed_target_names"]
        assert [getattr(t, "name", t) for t in fetch_targets] == exp["fetch_target_names"]
        _assert_scope(fluid, scope, exp["vars"], vid)
        run = exp["run"]
        feed = {n: np.load(VECTORS / rel) for n, rel in run["feed"].items()}
        try:
            outputs = exe.run(program, feed=feed, fetch_list=fetch_targets)
        except Exception as exc:  # API-EXEC-002: the op set an implementation runs is its own
            pytest.skip(f"reference's executor cannot run this model: {exc}")
    for got, rel in zip(outputs, run["fetch"], strict=True):
        want = np.load(VECTORS / rel)
        assert np.asarray(got).dtype == want.dtype and np.array_equal(np.asarray(got), want)
