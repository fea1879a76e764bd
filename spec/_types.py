"""The ``VarType.Type`` enum, the element-type table and the variable-kind table.

Clauses FMT-DTYPE-001..006 (spec/chapters/format.md).  The numbers are those of
``spec/framework.proto``; the table says for each element type its numpy (or ml_dtypes)
dtype, its element size in bytes, and since which Paddle it exists.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = [
    "VarType",
    "ElementType",
    "ELEMENT_TYPES",
    "VAR_KINDS",
    "element_type",
    "element_type_for_dtype",
    "element_type_for_name",
    "is_element_type",
]


class VarType(enum.IntEnum):
    """``paddle.framework.proto.VarType.Type``: element types and variable kinds share one enum."""

    BOOL = 0
    INT16 = 1
    INT32 = 2
    INT64 = 3
    FP16 = 4
    FP32 = 5
    FP64 = 6
    LOD_TENSOR = 7
    SELECTED_ROWS = 8
    FEED_MINIBATCH = 9
    FETCH_LIST = 10
    STEP_SCOPES = 11
    LOD_RANK_TABLE = 12
    LOD_TENSOR_ARRAY = 13
    PLACE_LIST = 14
    READER = 15
    RAW = 17
    TUPLE = 18
    SIZE_T = 19
    UINT8 = 20
    INT8 = 21
    BF16 = 22
    COMPLEX64 = 23
    COMPLEX128 = 24
    STRING = 25
    STRINGS = 26
    VOCAB = 27
    FEED_LIST = 28
    PSTRING = 29
    SPARSE_COO = 30
    SPARSE_CSR = 31
    FP8_E4M3FN = 32
    FP8_E5M2 = 33
    UINT16 = 36
    UINT32 = 37
    UINT64 = 38


#: Element types whose numpy dtype comes from ml_dtypes, which is imported only when one of
#: them is met: importing it costs 0.6 s with ml_dtypes 0.7 (numpy 2.4), which every command
#: would otherwise pay (``import fluidspec.spec`` took 0.62 s with it at module level, 0.02 s
#: without).
_ML_DTYPES = frozenset({"bfloat16", "float8_e4m3fn", "float8_e5m2"})


@cache
def _little_endian_dtype(dtype_name: str) -> np.dtype:
    if dtype_name in _ML_DTYPES:
        import ml_dtypes

        dt = np.dtype(getattr(ml_dtypes, dtype_name))
    else:
        dt = np.dtype(dtype_name)
    return dt.newbyteorder("<") if dt.itemsize > 1 else dt


@dataclass(frozen=True)
class ElementType:
    """One row of the element-type table (FMT-DTYPE-001)."""

    code: int
    name: str
    size: int
    since: str  # "fluid" (every Paddle), "2.x" or "3.x"
    dtype_name: str  # the numpy (or ml_dtypes) name of its dtype

    @property
    def dtype(self) -> np.dtype:
        """The little-endian numpy dtype (ml_dtypes is imported on first use)."""
        return _little_endian_dtype(self.dtype_name)

    @property
    def from_ml_dtypes(self) -> bool:
        """Whether the dtype comes from ml_dtypes (bfloat16, float8), imported only when used."""
        return self.dtype_name in _ML_DTYPES

    @property
    def paddle_2_readable(self) -> bool:
        """Whether Paddle 2.6.2's reader knows this enum value (FMT-DTYPE-004)."""
        return self.since != "3.x"


def _row(vt: VarType, dtype_name: str, size: int, since: str) -> ElementType:
    return ElementType(int(vt), vt.name, size, since, dtype_name)


ELEMENT_TYPES: dict[int, ElementType] = {
    row.code: row
    for row in (
        _row(VarType.BOOL, "bool", 1, "fluid"),
        _row(VarType.INT16, "int16", 2, "fluid"),
        _row(VarType.INT32, "int32", 4, "fluid"),
        _row(VarType.INT64, "int64", 8, "fluid"),
        _row(VarType.FP16, "float16", 2, "fluid"),
        _row(VarType.FP32, "float32", 4, "fluid"),
        _row(VarType.FP64, "float64", 8, "fluid"),
        _row(VarType.UINT8, "uint8", 1, "fluid"),
        _row(VarType.INT8, "int8", 1, "fluid"),
        _row(VarType.BF16, "bfloat16", 2, "2.x"),
        _row(VarType.COMPLEX64, "complex64", 8, "2.x"),
        _row(VarType.COMPLEX128, "complex128", 16, "2.x"),
        _row(VarType.FP8_E4M3FN, "float8_e4m3fn", 1, "3.x"),
        _row(VarType.FP8_E5M2, "float8_e5m2", 1, "3.x"),
        _row(VarType.UINT16, "uint16", 2, "3.x"),
        _row(VarType.UINT32, "uint32", 4, "3.x"),
        _row(VarType.UINT64, "uint64", 8, "3.x"),
    )
}

# Variable kinds (VarType.type of a VarDesc) — FMT-DTYPE-005.
VAR_KINDS: frozenset[VarType] = frozenset(
    {
        VarType.LOD_TENSOR,
        VarType.SELECTED_ROWS,
        VarType.FEED_MINIBATCH,
        VarType.FETCH_LIST,
        VarType.STEP_SCOPES,
        VarType.LOD_RANK_TABLE,
        VarType.LOD_TENSOR_ARRAY,
        VarType.PLACE_LIST,
        VarType.READER,
        VarType.RAW,
        VarType.TUPLE,
        VarType.STRING,
        VarType.STRINGS,
        VarType.VOCAB,
        VarType.FEED_LIST,
        VarType.PSTRING,
        VarType.SPARSE_COO,
        VarType.SPARSE_CSR,
    }
)

# numpy dtype -> element type, for writers (FMT-DTYPE-002, FMT-DTYPE-003).  numpy uint16 maps to
# BF16 like Paddle does; a true UINT16 tensor can only be written by asking for it by code.
# The ml_dtypes ones are found by name (a dtype of theirs exists only once ml_dtypes is loaded).
_BY_DTYPE: dict[np.dtype, ElementType] = {
    row.dtype: row for row in ELEMENT_TYPES.values()
    if row.code != VarType.UINT16 and row.dtype_name not in _ML_DTYPES
}
_BY_DTYPE[np.dtype("<u2")] = ELEMENT_TYPES[VarType.BF16]
_BY_ML_DTYPE_NAME: dict[str, ElementType] = {
    row.dtype_name: row for row in ELEMENT_TYPES.values() if row.dtype_name in _ML_DTYPES
}

_NAME_ALIASES: dict[str, int] = {
    "bool": VarType.BOOL,
    "int16": VarType.INT16,
    "int32": VarType.INT32,
    "int64": VarType.INT64,
    "float16": VarType.FP16,
    "float32": VarType.FP32,
    "float64": VarType.FP64,
    "uint8": VarType.UINT8,
    "int8": VarType.INT8,
    "bfloat16": VarType.BF16,
    "uint16": VarType.BF16,  # Paddle's 'uint16' dtype name is bfloat16 (FMT-DTYPE-003)
    "complex64": VarType.COMPLEX64,
    "complex128": VarType.COMPLEX128,
    "float8_e4m3fn": VarType.FP8_E4M3FN,
    "float8_e5m2": VarType.FP8_E5M2,
    "uint32": VarType.UINT32,
    "uint64": VarType.UINT64,
}


def is_element_type(code: int) -> bool:
    """True when ``code`` names an element type with a defined size."""
    return code in ELEMENT_TYPES


def element_type(code: int) -> ElementType:
    """The table row for an element-type code; ``KeyError`` when there is none."""
    return ELEMENT_TYPES[code]


def element_type_for_dtype(dtype: np.dtype | type) -> ElementType:
    """The element type a writer uses for numpy ``dtype``; ``KeyError`` when it has none.

    Byte order is ignored (writers convert to little-endian, FMT-REC-007).
    """
    dt = np.dtype(dtype)
    if dt.itemsize > 1 and dt.byteorder not in ("<", "|"):
        dt = dt.newbyteorder("<")
    found = _BY_DTYPE.get(dt)
    if found is not None:
        return found
    if dt.name in _BY_ML_DTYPE_NAME and dt.type.__module__.startswith("ml_dtypes"):
        return _BY_ML_DTYPE_NAME[dt.name]
    raise KeyError(dt)


def element_type_for_name(name: str | int | VarType | np.dtype | type) -> ElementType:
    """Resolve a dtype given as a Paddle name ('float32'), an enum, or a numpy dtype.

    Strings are tried as a Paddle dtype name spelled exactly ('uint16' is BF16, FMT-DTYPE-003),
    then as an enum name in any case ('UINT16' is code 36, 'fp32' is FP32), then as a Paddle
    dtype name in any case ('Float32').  ``KeyError`` when nothing matches.
    """
    if isinstance(name, (int, VarType)) and not isinstance(name, bool):
        return ELEMENT_TYPES[int(name)]
    if isinstance(name, str):
        if name in _NAME_ALIASES:
            return ELEMENT_TYPES[_NAME_ALIASES[name]]
        if name.upper() in VarType.__members__:
            return ELEMENT_TYPES[int(VarType[name.upper()])]
        if name.lower() in _NAME_ALIASES:
            return ELEMENT_TYPES[_NAME_ALIASES[name.lower()]]
        raise KeyError(name)
    return element_type_for_dtype(name)
