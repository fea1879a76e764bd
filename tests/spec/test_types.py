"""The VarType enum and the element-type table (spec/_types.py).

Clauses: FMT-DTYPE-001 (the table), FMT-DTYPE-003 (numpy uint16 is BF16), FMT-DTYPE-004 (3.x
types), FMT-DTYPE-005 (kinds are not element types), FMT-REC-007 (byte order).
"""

from __future__ import annotations

import re

import ml_dtypes
import numpy as np
import pytest

from fluidspec import spec
from fluidspec.spec import VarType, framework_pb2

# The element types as the VarType.Type descriptor installed with Paddle 2.6.2 lists them
# (paddle/fluid/framework/framework.proto; 3.3.1 for codes 32..38): code, name, numpy dtype, bytes, since.
EXPECTED = [
    (0, "BOOL", np.bool_, 1, "fluid"), (1, "INT16", np.int16, 2, "fluid"),
    (2, "INT32", np.int32, 4, "fluid"), (3, "INT64", np.int64, 8, "fluid"),
    (4, "FP16", np.float16, 2, "fluid"), (5, "FP32", np.float32, 4, "fluid"),
    (6, "FP64", np.float64, 8, "fluid"), (20, "UINT8", np.uint8, 1, "fluid"),
    (21, "INT8", np.int8, 1, "fluid"), (22, "BF16", ml_dtypes.bfloat16, 2, "2.x"),
    (23, "COMPLEX64", np.complex64, 8, "2.x"), (24, "COMPLEX128", np.complex128, 16, "2.x"),
    (32, "FP8_E4M3FN", ml_dtypes.float8_e4m3fn, 1, "3.x"),
    (33, "FP8_E5M2", ml_dtypes.float8_e5m2, 1, "3.x"),
    (36, "UINT16", np.uint16, 2, "3.x"), (37, "UINT32", np.uint32, 4, "3.x"),
    (38, "UINT64", np.uint64, 8, "3.x"),
]
# Variable kinds: the other values of the same enum, which are not element types.
KINDS = {"LOD_TENSOR": 7, "SELECTED_ROWS": 8, "FEED_MINIBATCH": 9, "FETCH_LIST": 10,
         "STEP_SCOPES": 11, "LOD_RANK_TABLE": 12, "LOD_TENSOR_ARRAY": 13, "PLACE_LIST": 14,
         "READER": 15, "RAW": 17, "TUPLE": 18, "STRING": 25, "STRINGS": 26, "VOCAB": 27,
         "FEED_LIST": 28, "PSTRING": 29, "SPARSE_COO": 30, "SPARSE_CSR": 31}


def test_element_type_table_is_paddles():
    """FMT-DTYPE-001."""
    rows = [(r.code, r.name, r.dtype, r.size, r.since) for r in spec.ELEMENT_TYPES.values()]
    assert sorted(rows, key=lambda r: r[0]) == [
        (code, name, np.dtype(dt).newbyteorder("<") if size > 1 else np.dtype(dt), size, since)
        for code, name, dt, size, since in EXPECTED]


def test_table_dtypes_are_little_endian_and_sized():
    """FMT-REC-007: the dtype a reader decodes to is the on-disk (little-endian) one."""
    for row in spec.ELEMENT_TYPES.values():
        assert row.dtype.itemsize == row.size
        assert row.dtype.byteorder in ("<", "|", "=") and row.dtype == row.dtype.newbyteorder("<")


def test_enum_matches_the_proto_schema():
    """The Python enum and spec/framework.proto agree name for name, number for number."""
    proto = {v.name: v.number for v in framework_pb2.VarType.Type.DESCRIPTOR.values}
    assert {m.name: m.value for m in VarType} == proto


def test_kinds_and_element_types_partition_the_enum():
    """FMT-DTYPE-005: a kind (or SIZE_T) is never an element type."""
    assert {k.name: k.value for k in spec.VAR_KINDS} == KINDS
    element = set(spec.ELEMENT_TYPES)
    assert element.isdisjoint(int(k) for k in spec.VAR_KINDS)
    assert {int(m) for m in VarType} == element | {int(k) for k in spec.VAR_KINDS} | {19}
    assert not spec.is_element_type(VarType.SIZE_T)
    assert not spec.is_element_type(16) and not spec.is_element_type(99)


def test_the_chapter_table_and_the_code_agree():
    """FMT-DTYPE-001's Markdown table says the same as spec.ELEMENT_TYPES."""
    text = spec.clause("FMT-DTYPE-001").text
    rows = re.findall(r"^\| (\d+) \| (\w+) \| `([\w.]+)`[^|]* \| (\d+) \| ([\w.]+) \|$", text,
                      re.MULTILINE)
    assert len(rows) == len(spec.ELEMENT_TYPES)
    for code, name, dtype_name, size, since in rows:
        row = spec.element_type(int(code))
        assert (row.name, row.size, row.since) == (name, int(size), since.lower())
        dtype = getattr(ml_dtypes, dtype_name.split(".")[-1]) if dtype_name.startswith(
            "ml_dtypes") else np.dtype(dtype_name)
        assert np.dtype(dtype) == row.dtype.newbyteorder("=")


@pytest.mark.parametrize(("dtype", "code"), [
    (np.uint16, 22), (">u2", 22), (ml_dtypes.bfloat16, 22), (">f4", 5), ("<f4", 5), ("=i8", 3),
    (np.bool_, 0), (">c8", 23), (ml_dtypes.float8_e5m2, 33), (np.uint32, 37), (">u8", 38),
])
def test_writer_code_for_a_dtype(dtype, code):
    """FMT-DTYPE-002/003/004; byte order does not matter (FMT-REC-007)."""
    assert spec.element_type_for_dtype(dtype).code == code


def test_true_uint16_is_never_chosen_from_a_dtype():
    """FMT-DTYPE-003: code 36 exists, but numpy uint16 means BF16 to a writer."""
    assert spec.element_type(36).dtype == np.dtype("<u2")
    assert all(spec.element_type_for_dtype(r.dtype).code != 36
               for r in spec.ELEMENT_TYPES.values())


@pytest.mark.parametrize("dtype", [np.object_, np.str_, "M8[ns]", "V4", np.longdouble])
def test_dtypes_outside_the_table_have_no_element_type(dtype):
    """FMT-DTYPE-006 (the codec turns this KeyError into UNSUPPORTED_DTYPE)."""
    if np.dtype(dtype) == np.float64:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(KeyError):
        spec.element_type_for_dtype(dtype)


@pytest.mark.parametrize(("name", "code"), [
    ("float32", 5), ("FP32", 5), ("fp32", 5), (VarType.FP32, 5), (5, 5), (np.float32, 5),
    ("uint16", 22), ("bfloat16", 22), ("BF16", 22), ("UINT16", 36), ("complex64", 23),
    ("float8_e4m3fn", 32), ("Float32", 5), (np.dtype(">i4"), 2),
])
def test_element_type_for_name(name, code):
    """Paddle dtype names, enum names, codes and numpy dtypes all resolve; 'uint16' is BF16."""
    assert spec.element_type_for_name(name).code == code


@pytest.mark.parametrize("name", ["float128", "LOD_TENSOR", 7, 99, "nope"])
def test_element_type_for_name_refuses_what_is_not_an_element_type(name):
    with pytest.raises(KeyError):
        spec.element_type_for_name(name)


def test_paddle_2_readability():
    """FMT-DTYPE-004: Paddle 2.6.2 cannot read codes 32..38."""
    unreadable = {r.code for r in spec.ELEMENT_TYPES.values() if not r.paddle_2_readable}
    assert unreadable == {32, 33, 36, 37, 38}
