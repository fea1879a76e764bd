"""Element-type lookups as the kernels and the Python glue need them (from ``spec``'s table).

FMT-DTYPE-001 gives the table; FMT-DTYPE-002/003 say a writer picks the code from the array's
dtype, numpy ``uint16`` being written as BF16 (22).
"""

from __future__ import annotations

import numpy as np

from fluidspec.spec import ELEMENT_TYPES, VarType, element_type_for_dtype

#: itemsize by element-type code, 0 where the code is not an element type (index = code).
SIZES = np.zeros(256, np.int64)
#: numpy dtype by code (decode side: code 22 -> bfloat16, 36 -> uint16).
DTYPES: dict[int, np.dtype] = {}
for _code, _row in ELEMENT_TYPES.items():
    SIZES[_code] = _row.size
    DTYPES[_code] = _row.dtype
SIZES.flags.writeable = False

#: writer's code by dtype, for little-endian / byte-order-free dtypes only.
CODE_BY_DTYPE: dict[np.dtype, int] = {}
for _row in ELEMENT_TYPES.values():
    if _row.code != VarType.UINT16:
        CODE_BY_DTYPE[element_type_for_dtype(_row.dtype).dtype] = element_type_for_dtype(
            _row.dtype
        ).code
CODE_BY_DTYPE[np.dtype("<u2")] = int(VarType.BF16)

#: numpy dtype for each code, as a tuple for fast indexing by small ints.
DTYPE_BY_CODE: tuple[np.dtype | None, ...] = tuple(DTYPES.get(c) for c in range(256))


def writer_code(dtype: np.dtype) -> tuple[int, bool]:
    """``(code, needs_byteswap)``; code -1 when the dtype has no element type (FMT-DTYPE-006)."""
    code = CODE_BY_DTYPE.get(dtype)
    if code is not None:
        return code, False
    if dtype.byteorder == ">" and dtype.isnative is False:
        code = CODE_BY_DTYPE.get(dtype.newbyteorder("<"))
        if code is not None:
            return code, True
    return -1, False
