"""Frozen vectors: every set follows the fluidspec-vectors/1 envelope, and the reference
reproduces the fluidspec set byte for byte (python -m fluidspec.conformance.make_vectors generate)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fluidspec import spec
from fluidspec.conformance._vectors import KINDS, SCHEMA, VECTORS_DIR, expected_values, vector_sets
from fluidspec.conformance.make_vectors import generate


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_reference_reproduces_the_fluidspec_vectors(tmp_path):
    committed = VECTORS_DIR / "fluidspec"
    out = tmp_path / "fluidspec"
    out.mkdir()
    # keep promoted counterexamples, as `generate` does in place
    (out / "manifest.json").write_bytes((committed / "manifest.json").read_bytes())
    generate(out)
    fresh, old = _tree(out), _tree(committed)
    assert sorted(fresh) == sorted(old)
    ignored = {"manifest.json"}
    assert {k for k in fresh if fresh[k] != old[k]} <= ignored
    a = json.loads(fresh["manifest.json"])
    b = json.loads(old["manifest.json"])
    for m in (a, b):  # versions of numpy/fluidspec may move; the vectors may not
        m["provenance"].pop("numpy", None)
        m["provenance"].pop("version", None)
    assert a == b


def test_every_vector_set_follows_the_envelope():
    sets = vector_sets()
    assert {s.name for s in sets} >= {"fluidspec", "paddle-2.6.2"}
    ids = {c.id for c in spec.clauses()}
    for vs in sets:
        assert vs.manifest["schema"] == SCHEMA and vs.manifest["provenance"]
        seen = set()
        for v in vs.vectors:
            assert v.id not in seen and v.kind in KINDS, (vs.name, v.id)
            seen.add(v.id)
            assert v.expected["result"] in ("valid", "invalid", "acceptable")
            assert set(v.clauses) <= ids, (vs.name, v.id, set(v.clauses) - ids)
            for f in v.raw.get("files", []):
                assert (vs.root / f).is_file(), (vs.name, v.id, f)
            if v.expected["result"] == "invalid":
                assert v.expected["error"]
            for name, value in expected_values(v).items():
                assert isinstance(name, str) and isinstance(value.array, np.ndarray)


def test_fluidspec_set_covers_every_dtype_and_the_invalid_inputs():
    (fs_set,) = [s for s in vector_sets() if s.name == "fluidspec"]
    dtypes = {item["dtype"] for v in fs_set.vectors for item in v.expected.get("vars") or []}
    assert {"bfloat16", "float8_e4m3fn", "float8_e5m2", "uint32", "uint64", "bool",
            "complex128"} <= dtypes
    invalid = [v for v in fs_set.vectors if v.expected["result"] == "invalid"]
    assert {v.clauses[0] for v in invalid} >= {"FMT-REC-001", "FMT-SAFE-004", "FMT-LOD-003"}


def test_counterexamples_are_promoted_to_vectors_that_catch_the_bug(tmp_path):
    import shutil

    from fluidspec.conformance._context import CheckContext
    from fluidspec.conformance._discovery import resolve
    from fluidspec.conformance._runner import run_suite
    from fluidspec.conformance._vector_replay import _replay_api_case
    from fluidspec.conformance._vectors import Vector
    from fluidspec.conformance._verdict import ClauseFailure
    from fluidspec.conformance.make_vectors import promote
    from fluidspec.conformance.toys import BrokenUnsortedCombined

    report = run_suite([BrokenUnsortedCombined()], only=["write_combined_bytes"])
    (tmp_path / "r.json").write_text(json.dumps(report.to_json()))
    vset = tmp_path / "set"
    shutil.copytree(VECTORS_DIR / "fluidspec", vset)
    assert promote(tmp_path / "r.json", vset) == 1
    manifest = json.loads((vset / "manifest.json").read_text())
    raw = manifest["vectors"][-1]
    assert raw["kind"] == "api_case" and raw["clauses"] == ["FMT-COMB-001"]
    vector = Vector("tmp", vset, raw)
    ref = resolve("reference")
    _replay_api_case(CheckContext(impl=ref, oracle=ref), vector, "FMT-COMB-001")  # passes
    import pytest

    broken = BrokenUnsortedCombined()
    with pytest.raises(ClauseFailure, match="FMT-COMB-001"):
        _replay_api_case(CheckContext(impl=broken, oracle=ref), vector, "FMT-COMB-001")
