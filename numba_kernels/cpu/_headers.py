# ruff: noqa: ANN001, ANN201, ANN202  (numba kernels: argument types come from numba, not hints)
"""The header writer: every record header in one kernel call.

Writes, for tensor i at ``dst[hdr_pos[i]]``, the bytes FMT-REC-001..004 prescribe: version 0,
the LoD (FMT-REC-002, values as u64), tensor version 0, the desc size, then the TensorDesc as
``08 varint(code)`` and one ``10 varint(dim)`` per dim, never packed (FMT-DESC-001); a negative
dim would be its 10-byte two's complement.  The data itself is copied by the caller.
"""

from __future__ import annotations

import numpy as np

from fluidspec.numba_kernels.cpu._jit import kernel, put_le, put_varint


# A numba kernel takes arrays, not objects: each metadata array of the encoder is one parameter.
def _write_headers(dst, hdr_pos, codes, dims, dims_off, lvl_off, lvl_len, lod_vals, desc_len):
    n = codes.shape[0]
    v = 0
    for i in range(n):
        p = hdr_pos[i]
        p = put_le(dst, p, np.uint64(0), 4)  # FMT-REC-001
        p = put_le(dst, p, np.uint64(lvl_off[i + 1] - lvl_off[i]), 8)  # FMT-REC-002
        for lv in range(lvl_off[i], lvl_off[i + 1]):
            m = lvl_len[lv]
            p = put_le(dst, p, np.uint64(8 * m), 8)
            for _ in range(m):
                p = put_le(dst, p, lod_vals[v], 8)
                v += 1
        p = put_le(dst, p, np.uint64(0), 4)  # FMT-REC-003
        p = put_le(dst, p, np.uint64(desc_len[i]), 4)  # FMT-REC-004
        dst[p] = np.uint8(0x08)
        p = put_varint(dst, p + 1, np.uint64(codes[i]))
        for k in range(dims_off[i], dims_off[i + 1]):
            dst[p] = np.uint8(0x10)
            p = put_varint(dst, p + 1, np.uint64(dims[k]))


write_headers = kernel(_write_headers)
