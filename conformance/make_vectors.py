"""Generate the frozen vectors under ``conformance/vectors/fluidspec/``, and promote counterexamples.

    python -m fluidspec.conformance.make_vectors generate [--out DIR]   # regenerate (keeps promoted cases)
    python -m fluidspec.conformance.make_vectors promote REPORT.json    # failing cases -> api_case vectors

``generate`` has the reference write every valid vector (provenance: reference + version) and
crafts the invalid ones byte by byte.  ``promote`` takes the JSON report of ``fluidspec
conformance`` and turns each failing check's last case into an ``api_case`` vector whose expected
outcome is the reference's, so a bug Hypothesis found once stays checked forever.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.conformance._adapter import Adapter
from fluidspec.conformance._case import (
    Call,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    dtype_from_name,
    value_from_json,
    value_to_json,
)
from fluidspec.conformance._vectors import SCHEMA, VECTORS_DIR

__all__ = ["generate", "promote", "main"]

OUT = VECTORS_DIR / "fluidspec"
_FMT = ["FMT-REC-001", "FMT-REC-002", "FMT-REC-003", "FMT-REC-004", "FMT-REC-005", "FMT-REC-006",
        "FMT-REC-007", "FMT-DESC-001", "FMT-DTYPE-001", "FMT-DTYPE-002"]
_BITS = {"bfloat16": "uint16", "float8_e4m3fn": "uint8", "float8_e5m2": "uint8"}


def _edge_values(name: str) -> np.ndarray:
    dtype = dtype_from_name(name)
    if name in _BITS:
        return np.array([0, 1, 0x38, 0x7F, 0x80, 0xFF], dtype=_BITS[name]).astype(
            np.uint16 if name == "bfloat16" else np.uint8).view(dtype).reshape(2, 3)
    if dtype.kind == "b":
        return np.array([[True, False, True], [False, False, True]])
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.array([info.min, info.max, 0, 1, 2, info.max // 3], dtype=dtype).reshape(2, 3)
    if dtype.kind == "c":
        return (np.array([0, -0.0, 1.5, np.inf, -np.inf, 3]) + 1j * np.array(
            [1, 2, -0.5, 0, np.nan, -1])).astype(dtype).reshape(2, 3)
    return np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.5], dtype=dtype).reshape(2, 3)


def _valid_cases() -> list[dict[str, Any]]:
    """Each: id, description, clauses, kind, values {name: Value}, and layout details."""
    from fluidspec.conformance.strategies import DTYPE_NAMES, SORT_TRAPS

    cases: list[dict[str, Any]] = []
    for name in DTYPE_NAMES:
        if name == "uint16":
            continue  # numpy uint16 is BF16 (FMT-DTYPE-003): covered by the bfloat16 vector
        three_x = name in ("float8_e4m3fn", "float8_e5m2", "uint32", "uint64")
        cases.append({
            "id": f"dtype-{name}-file", "kind": "tensor_file",
            "description": f"{name} [2,3] with edge values, one separate file",
            "clauses": _FMT + (["FMT-DTYPE-004"] if three_x else [])
            + (["FMT-DTYPE-003"] if name == "bfloat16" else [])
            + (["SEL-SAVE-009"] if name in ("bool", "complex64", "complex128") else []),
            "values": {"t": TensorValue(_edge_values(name))},
            "acceptable_error": "UNSUPPORTED_DTYPE" if three_x else None,
        })
    shaped = {
        "zero-d": (TensorValue(np.array(2.5, dtype=np.float32)), "0-d float32: dims []"),
        "zero-size-middle": (TensorValue(np.zeros((2, 0, 3), np.float64)), "[2,0,3]: no data"),
        "rank8-dim130": (TensorValue(np.arange(130, dtype=np.int8).reshape(1, 1, 1, 1, 1, 1, 1, 130)),
                         "rank 8 with a 2-byte varint dim"),
        "dim-16384-empty": (TensorValue(np.zeros((0, 16384), np.int64)), "a 3-byte varint dim"),
        "lod-2-levels": (TensorValue(np.arange(10, dtype=np.float16).reshape(5, 2),
                                     [[0, 2, 3], [0, 1, 3, 5]]), "two LoD levels"),
        "lod-empty-sequences": (TensorValue(np.arange(3, dtype=np.int32), [[0, 0, 3, 3]]),
                                "empty first and last sequences"),
    }
    for vid, (value, desc) in shaped.items():
        cases.append({"id": vid, "kind": "tensor_file", "description": desc,
                      "clauses": _FMT + (["FMT-LOD-001", "FMT-LOD-002"] if value.lod else []),
                      "values": {"t": value}})
    cases.append({"id": "selected-rows", "kind": "selected_rows_file",
                  "description": "SelectedRows rows [1,7,3,7] height 10, float64 [4,2]",
                  "clauses": ["FMT-SR-001", "FMT-SR-002"],
                  "values": {"sr": SelectedRowsValue(np.arange(8, dtype=np.float64).reshape(4, 2),
                                                     [1, 7, 3, 7], 10)}})
    traps = {n: TensorValue(np.array([i], dtype=np.int32)) for i, n in enumerate(SORT_TRAPS)}
    cases.append({"id": "sort-traps-combined", "kind": "combined",
                  "description": "names whose code-point order is not their UTF-16 or naive order",
                  "clauses": _FMT + ["FMT-COMB-001", "SEL-SAVE-004"], "values": traps})
    cases.append({"id": "sort-traps-memory", "kind": "memory",
                  "description": "the same names saved to memory",
                  "clauses": _FMT + ["FMT-COMB-001", "SEL-FILE-003"], "values": traps})
    return cases


def _invalid_cases() -> list[dict[str, Any]]:
    from fluidspec.conformance.checks.format import BAD_INPUTS

    out = []
    for i, (clause, what, raw, ids) in enumerate(BAD_INPUTS):
        out.append({"id": f"bad-{i:02d}-{clause.lower()}", "kind": "tensor_file",
                    "description": what, "clauses": [clause, "ERR-001"], "raw": raw,
                    "error": ids[0] if len(ids) == 1 else list(ids)})
    return out


def _write_expected(root: Path, vid: str, values: dict[str, Value]) -> list[dict[str, Any]]:
    items = []
    for i, (name, value) in enumerate(values.items()):
        array = np.asarray(value.array)
        dtype = array.dtype.name
        rel = f"expected/{vid}/{i}.npy"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        bits = _BITS.get(dtype)
        np.save(root / rel, array.view(bits) if bits else array, allow_pickle=False)
        item: dict[str, Any] = {"name": name, "dtype": dtype, "shape": list(array.shape),
                                "lod": [list(x) for x in getattr(value, "lod", [])],
                                "values": rel}
        if bits:
            item["bits_dtype"] = bits
        if isinstance(value, SelectedRowsValue):
            item.update(rows=list(value.rows), height=value.height)
        items.append(item)
    return items


def _program(values: dict[str, Value]) -> ProgramSpec:
    from fluidspec.conformance._helpers import var_for

    return ProgramSpec(vars=tuple(var_for(n, v) for n, v in values.items()))


def _valid_vector(ref: Adapter, tmp: Path, case: dict[str, Any]) -> dict[str, Any]:
    """Write one valid case with the reference under ``tmp``; its manifest entry."""
    vid, kind, values = case["id"], case["kind"], case["values"]
    names = list(values)
    vdir = tmp / vid
    if kind == "memory":
        call = Call("save_vars", {"dirname": None, "filename": None, "vars": names,
                                  "predicate": None})
    else:
        call = Call("save_vars", {"dirname": str(vdir), "filename": "__params__"
                                  if kind == "combined" else None, "vars": names,
                                  "predicate": None})
    res = ref.run(_program(values), values, call)
    if not res.ok:
        raise RuntimeError(f"reference failed to write vector {vid}: {res.describe()}")
    if kind == "memory":
        vdir.mkdir(parents=True)
        (vdir / "memory.bin").write_bytes(res.memory)
        files = [f"{vid}/memory.bin"]
    elif kind == "combined":
        files = [f"{vid}/__params__"]
    else:
        files = [f"{vid}/{n}" for n in names]
    expected: dict[str, Any] = {"result": "valid", "error": None,
                                "vars": _write_expected(tmp, vid, values)}
    if kind in ("combined", "memory"):
        expected["order"] = sorted(names)
    if case.get("acceptable_error"):
        expected.update(result="acceptable", error=case["acceptable_error"])
    return {"id": vid, "description": case["description"], "clauses": case["clauses"],
            "kind": kind, "files": files, "expected": expected}


def _invalid_vector(tmp: Path, case: dict[str, Any]) -> dict[str, Any]:
    """Write one crafted bad file under ``tmp``; its manifest entry."""
    vid = case["id"]
    (tmp / vid).mkdir(parents=True)
    (tmp / vid / "t").write_bytes(case["raw"])
    return {"id": vid, "description": case["description"], "clauses": case["clauses"],
            "kind": "tensor_file", "files": [f"{vid}/t"],
            "expected": {"result": "invalid", "error": case["error"], "vars": [], "var": "t"}}


def generate(out: Path = OUT) -> dict[str, Any]:
    """Write the vector set to ``out`` (replacing generated files, keeping api_case vectors)."""
    from fluidspec.conformance._discovery import resolve

    ref = resolve("reference")
    info = ref.hello()
    kept: list[dict[str, Any]] = []
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
        kept = [v for v in old.get("vectors", []) if v.get("kind") == "api_case"]
    tmp = Path(tempfile.mkdtemp(prefix="vectors-"))
    vectors = [_valid_vector(ref, tmp, case) for case in _valid_cases()]
    vectors += [_invalid_vector(tmp, case) for case in _invalid_cases()]
    manifest = {
        "schema": SCHEMA,
        "provenance": {"implementation": info["implementation"]["name"],
                       "version": info["implementation"]["version"],
                       "generator": "python -m fluidspec.conformance.make_vectors generate",
                       "numpy": np.__version__,
                       "notes": "valid vectors are written by the reference; invalid ones are "
                                "crafted bytes; api_case vectors are promoted counterexamples"},
        "vectors": vectors + kept,
    }
    if out.exists():
        for child in out.iterdir():
            if child.name != "manifest.json":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for child in tmp.iterdir():
        shutil.move(str(child), out / child.name)
    shutil.rmtree(tmp, ignore_errors=True)
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    ref.close()
    return manifest


def promote(report_path: Path, out: Path = OUT) -> int:
    """Append an api_case vector for every failing check of a report that recorded its case."""
    from fluidspec.conformance._discovery import resolve

    report = json.loads(report_path.read_text(encoding="utf-8"))
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    ref = resolve("reference")
    added = 0
    for item in report.get("checks", []):
        case = item.get("case")
        if item.get("status") != "fail" or not case or not case.get("call"):
            continue
        program = ProgramSpec.from_json(case["program"])
        scope = {k: value_from_json(v) for k, v in case.get("scope", {}).items()}
        call_json = dict(case["call"])
        if call_json.get("dirname") is not None and call_json["api"].startswith("save"):
            call_json["dirname"] = "<dir>"
        if call_json.get("dirname") is not None and call_json["api"].startswith("load"):
            continue  # a load case needs its files; only self-contained cases are promoted
        tmpdir = tempfile.mkdtemp()
        run_json = {**call_json, "dirname": tmpdir if call_json.get("dirname") else None}
        res = ref.run(program, scope, Call.from_json(run_json))
        written = {str(p.relative_to(tmpdir)): base64.b64encode(p.read_bytes()).decode("ascii")
                   for p in sorted(Path(tmpdir).rglob("*")) if p.is_file()}
        shutil.rmtree(tmpdir, ignore_errors=True)
        expected: dict[str, Any] = {"result": "valid" if res.ok else "invalid",
                                    "error": res.error_id}
        if written:
            expected["files"] = written
        if res.ok:
            if res.result.get("memory") is not None:
                expected["memory"] = base64.b64encode(res.memory).decode("ascii")
            expected["scope"] = {k: value_to_json(v) for k, v in res.scope.items()}
        vid = f"counterexample-{item['impl']}-{item['check']}-{len(manifest['vectors'])}"
        manifest["vectors"].append({
            "id": vid.replace(":", "_").replace("/", "_"),
            "description": f"shrunk counterexample of {item['check']} found on {item['impl']}: "
                           f"{item.get('message', '')[:200]}",
            "clauses": [item.get("clause")] if item.get("clause") else [],
            "kind": "api_case", "files": [], "program": case["program"],
            "scope": case.get("scope", {}), "call": call_json, "expected": expected})
        added += 1
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    ref.close()
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fluidspec.conformance.make_vectors", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="regenerate conformance/vectors/fluidspec")
    g.add_argument("--out", type=Path, default=OUT)
    p = sub.add_parser("promote", help="turn failing cases of a JSON report into vectors")
    p.add_argument("report", type=Path)
    p.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.cmd == "generate":
        m = generate(args.out)
        print(f"wrote {len(m['vectors'])} vectors to {args.out}")
    else:
        print(f"promoted {promote(args.report, args.out)} counterexamples into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

