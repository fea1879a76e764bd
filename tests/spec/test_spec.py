"""The spec package itself: clause registry, bindings, tables."""

from __future__ import annotations

import numpy as np
import pytest

from fluidspec import spec
from fluidspec.spec import regenerate_bindings


def test_clause_ids_are_unique_and_well_formed():
    ids = [c.id for c in spec.clauses()]
    assert len(ids) == len(set(ids))
    assert all(c.tier in spec.TIERS for c in spec.clauses())
    assert spec.clause("FMT-REC-001").tier == "MUST"


def test_every_error_class_names_an_existing_clause():
    known = {c.id for c in spec.clauses()}
    missing = {cls.id: cls.clause for cls in spec.errors.ERROR_CLASSES.values()}
    assert {k: v for k, v in missing.items() if v not in known} == {}


def test_checked_in_bindings_match_the_proto():
    pytest.importorskip("grpc_tools")
    assert regenerate_bindings.main(["--check"]) == 0


@pytest.mark.parametrize(
    ("code", "dtype", "size"),
    [(0, np.bool_, 1), (1, np.int16, 2), (2, np.int32, 4), (3, np.int64, 8), (4, np.float16, 2),
     (5, np.float32, 4), (6, np.float64, 8), (20, np.uint8, 1), (21, np.int8, 1),
     (23, np.complex64, 8), (24, np.complex128, 16)],
)
def test_element_type_table_matches_paddle_enum(code, dtype, size):
    row = spec.element_type(code)
    assert row.dtype == np.dtype(dtype) and row.size == size
    assert spec.element_type_for_dtype(dtype).code == code


def test_numpy_uint16_is_written_as_bf16():
    assert spec.element_type_for_dtype(np.uint16).code == spec.VarType.BF16


def test_version_constants():
    """FMT-REC-001/003, FMT-SR-001: every version field is 0; PROG-VER-001: release encoding."""
    assert spec.LOD_TENSOR_VERSION == spec.TENSOR_VERSION == spec.SELECTED_ROWS_VERSION == 0
    assert spec.program_version(2, 6, 2) == spec.PADDLE_2_6_2_PROGRAM_VERSION == 2006002
    assert spec.program_version(2, 4, 2) == spec.LEGACY_PROGRAM_VERSION == 2004002
    assert spec.program_version(3, 3, 1) == 3003001
