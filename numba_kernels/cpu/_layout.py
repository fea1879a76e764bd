# ruff: noqa: ANN001, ANN201, ANN202  (numba kernels: argument types come from numba, not hints)
"""Record layout: every record's header length and data length from metadata alone.

A dense-tensor record (FMT-REC-001..005) is ``u32 version | u64 L | (u64 8n | u64 x n)*L |
u32 tensor_version | i32 D | desc[D] | data``, with ``desc = 08 varint(code) (10 varint(dim))*``
(FMT-DESC-001).  So its header is ``4 + 8 + sum(8 + 8 n_i) + 4 + 4 + D`` bytes, where
``D = 1 + len(varint(code)) + sum(1 + len(varint(dim)))``.  Records follow each other with no
padding (FMT-COMB-001).  The metadata is structure-of-arrays: ``dims`` holds every tensor's dims
back to back, ``dims_off[i]:dims_off[i+1]`` are tensor i's; likewise ``lvl_off`` indexes
``lvl_len`` (offsets per LoD level).
"""

from __future__ import annotations

import numpy as np

from fluidspec.numba_kernels.cpu._jit import kernel, varint_len


# A numba kernel takes arrays, not objects: each metadata array of the encoder is one parameter.
def _layout(codes, sizes, dims, dims_off, lvl_off, lvl_len, desc_len, hdr_len, nbytes):
    n = codes.shape[0]
    for i in range(n):
        code = codes[i]
        d = 1 + varint_len(np.uint64(code))
        numel = 1
        for k in range(dims_off[i], dims_off[i + 1]):
            d += 1 + varint_len(np.uint64(dims[k]))
            numel *= dims[k]
        h = 4 + 8 + 4 + 4 + d
        for lv in range(lvl_off[i], lvl_off[i + 1]):
            h += 8 + 8 * lvl_len[lv]
        desc_len[i] = d
        hdr_len[i] = h
        nbytes[i] = numel * sizes[code]


_layout_kernel = kernel(_layout)


def layout(
    codes: np.ndarray, sizes: np.ndarray, dims: np.ndarray, dims_off: np.ndarray,
    lvl_off: np.ndarray, lvl_len: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(desc_len, hdr_len, nbytes)`` per tensor (all int64)."""
    n = codes.shape[0]
    desc_len = np.empty(n, np.int64)
    hdr_len = np.empty(n, np.int64)
    nbytes = np.empty(n, np.int64)
    _layout_kernel(codes, sizes, dims, dims_off, lvl_off, lvl_len, desc_len, hdr_len, nbytes)
    return desc_len, hdr_len, nbytes
