"""Element-type lookups as the kernels and the Python glue need them (from ``spec``'s table).

FMT-DTYPE-001 gives the table; FMT-DTYPE-002/003 say a writer picks the code from the array's
dtype, numpy ``uint16`` being written as BF16 (22).

Nothing here imports ml_dtypes (0.6 s with ml_dtypes 0.7 on numpy 2.4, more than numba itself):
the bfloat16 / float8 dtypes are resolved the first time a record of that type is decoded, and a
writer meets them only in arrays whose caller has already imported ml_dtypes.
"""

from __future__ import annotations

import numpy as np

from fluidspec.spec import ELEMENT_TYPES, VarType, element_type_for_dtype

#: itemsize by element-type code, 0 where the code is not an element type (index = code).
SIZES = np.zeros(256, np.int64)
for _code, _row in ELEMENT_TYPES.items():
    SIZES[_code] = _row.size
SIZES.flags.writeable = False


class _DtypeByCode:
    """numpy dtype by code (decode side: 22 -> bfloat16, 36 -> uint16), indexed like a tuple;
    None where the code is not an element type.  Each dtype is looked up once, on first use."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: list[np.dtype | None] = [None] * 256

    def __getitem__(self, code: int) -> np.dtype | None:
        found = self._known[code]
        if found is None and code in ELEMENT_TYPES:
            found = self._known[code] = ELEMENT_TYPES[code].dtype
        return found


DTYPE_BY_CODE = _DtypeByCode()

#: writer's code by little-endian dtype, for the dtypes numpy itself defines; ml_dtypes' are
#: added on first use (``writer_code``).
CODE_BY_DTYPE: dict[np.dtype, int] = {
    row.dtype: row.code for row in ELEMENT_TYPES.values()
    if row.code != VarType.UINT16 and not row.from_ml_dtypes
}
CODE_BY_DTYPE[np.dtype("<u2")] = int(VarType.BF16)


def _code_of(dtype: np.dtype) -> int | None:
    code = CODE_BY_DTYPE.get(dtype)
    if code is None and dtype.type.__module__.startswith("ml_dtypes"):
        try:
            code = CODE_BY_DTYPE[dtype] = element_type_for_dtype(dtype).code
        except KeyError:
            return None
    return code


def writer_code(dtype: np.dtype) -> tuple[int, bool]:
    """``(code, needs_byteswap)``; code -1 when the dtype has no element type (FMT-DTYPE-006)."""
    code = _code_of(dtype)
    if code is not None:
        return code, False
    if dtype.byteorder == ">" and dtype.isnative is False:
        code = _code_of(dtype.newbyteorder("<"))
        if code is not None:
            return code, True
    return -1, False
