"""The CUDA kernels: record headers, and byte-range copies between device buffers.

Three kernels, all written as plain Python functions first (kept as ``*_py`` so the PTX check
can compile exactly the same source) and then wrapped with ``cuda.jit``:

* ``headers_kernel`` — one thread per tensor writes that record's whole header
  (FMT-REC-001..004, TensorDesc per FMT-DESC-001) with the *same* scalar helpers the CPU kernels
  use (``numba_kernels._scalar``, wrapped here with ``cuda.jit(device=True, inline="always")``;
  ``inline="always"`` is also what lets ``compile_ptx`` work without a GPU).  Importing this
  module imports nothing else of numba_kernels' kernels, so the PTX check needs only numba.
* ``gather_kernel`` — many byte ranges of one source buffer to many byte ranges of one
  destination buffer in one launch: the decode scatter (record payloads to an aligned arena)
  and any encode whose sources share one device buffer.  Work is split into chunks of
  ``chunk_bytes`` so one large tensor still spreads over every block.
* ``copy_kernel`` — one byte range from one device array into the destination; encode launches
  it once per tensor that lives in its own device allocation (a kernel cannot take a list of
  arrays, and the simulator has no device pointers).

Every loop is grid-stride (or block-stride over chunks and thread-stride inside a chunk), so the
bytes written never depend on the launch shape.  Payload offsets in this format are not aligned
(FMT-REC-005: no padding), so payload access is by ``uint8``; the only wider access is through
the optional 8-byte word views, which are used only for whole, aligned destination words and
read aligned source words (two of them, funnel-shifted, when source and destination disagree
on alignment).  The caller passes ``words=False`` whenever a view's base address is not 8-byte
aligned; then everything goes byte by byte.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from fluidspec.numba_kernels import _scalar

_U8 = np.uint64(8)
_U64 = np.uint64(64)


def _device(fn):  # noqa: ANN001, ANN202
    return cuda.jit(device=True, inline="always")(fn)


put_le = _device(_scalar.put_le)
put_varint = _device(_scalar.put_varint)


# --------------------------------------------------------------------------------------------
# Headers
#
# Kernels take the flat metadata arrays as separate arguments: a numba/CUDA kernel cannot take
# a Python object, so every array the encoder built is one parameter.  The header writer exists
# in this form besides cpu/_headers.py because the GPU writes one tensor per thread (each thread
# finds its own LoD through ``lvl_first``), where the CPU one walks the tensors in order.


def headers_py(dst, hdr_pos, codes, dims, dims_off, lvl_off, lvl_len, lvl_first, lod_vals, desc_len):  # noqa: ANN001, ANN201, ANN202
    """Record headers, one tensor per thread (FMT-REC-001..004, FMT-DESC-001).

    ``lvl_first[lv]`` is the index in ``lod_vals`` of level ``lv``'s first offset, so a thread
    finds its LoD without walking the tensors before it.
    """
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, codes.shape[0], stride):
        p = hdr_pos[i]
        p = put_le(dst, p, np.uint64(0), 4)  # FMT-REC-001
        p = put_le(dst, p, np.uint64(lvl_off[i + 1] - lvl_off[i]), 8)  # FMT-REC-002
        for lv in range(lvl_off[i], lvl_off[i + 1]):
            m = lvl_len[lv]
            p = put_le(dst, p, np.uint64(8 * m), 8)
            v = lvl_first[lv]
            for k in range(m):
                p = put_le(dst, p, np.uint64(lod_vals[v + k]), 8)
        p = put_le(dst, p, np.uint64(0), 4)  # FMT-REC-003
        p = put_le(dst, p, np.uint64(desc_len[i]), 4)  # FMT-REC-004
        dst[p] = np.uint8(0x08)
        p = put_varint(dst, p + 1, np.uint64(codes[i]))
        for k in range(dims_off[i], dims_off[i + 1]):
            dst[p] = np.uint8(0x10)
            p = put_varint(dst, p + 1, np.uint64(dims[k]))


# --------------------------------------------------------------------------------------------
# Byte-range copy, shared by both copy kernels


def copy_range_py(dst, dst_w, d, src, src_w, s, m, lane, lanes, words):  # noqa: ANN001, ANN201, ANN202
    """Copy ``src[s:s+m]`` to ``dst[d:d+m]``; the ``lanes`` threads of a block share the work.

    ``dst_w``/``src_w`` are the same buffers seen as uint64 words (truncated to whole words).
    With ``words`` the aligned middle of the destination is written a word at a time; the
    ragged head and tail, and any word whose source would reach past ``src_w``, go byte-wise.
    """
    head = m
    body = 0
    if words:
        head = (8 - d % 8) % 8
        if head > m:
            head = m
        body = (m - head) // 8
    for j in range(lane, head, lanes):
        dst[d + j] = src[s + j]
    if body > 0:
        wd = (d + head) // 8
        s0 = s + head
        k = s0 % 8
        shift = np.uint64(8 * k)
        for i in range(lane, body, lanes):
            sb = s0 + 8 * i
            ws = sb // 8
            if k == 0:
                dst_w[wd + i] = src_w[ws]
            elif ws + 1 < src_w.shape[0]:
                lo = np.uint64(src_w[ws]) >> shift
                hi = np.uint64(src_w[ws + 1]) << (_U64 - shift)
                dst_w[wd + i] = lo | hi
            else:
                db = (wd + i) * 8
                for b in range(8):
                    dst[db + b] = src[sb + b]
    for j in range(head + 8 * body + lane, m, lanes):
        dst[d + j] = src[s + j]


copy_range = _device(copy_range_py)


def gather_py(dst, dst_w, dst_off, src, src_w, src_off, nbytes, chunk_rec, chunk_base, chunk_bytes, words):  # noqa: ANN001, ANN201, ANN202
    """Range r is ``src[src_off[r]:+nbytes[r]]`` -> ``dst[dst_off[r]:]``; blocks take chunks.

    Chunk c belongs to range ``chunk_rec[c]`` and is that range's ``c - chunk_base[r]``-th
    piece of ``chunk_bytes`` bytes (the host builds both tables; empty ranges have no chunk).
    """
    for c in range(cuda.blockIdx.x, chunk_rec.shape[0], cuda.gridDim.x):
        r = chunk_rec[c]
        lo = (c - chunk_base[r]) * chunk_bytes
        m = nbytes[r] - lo
        if m > chunk_bytes:
            m = chunk_bytes
        copy_range(dst, dst_w, dst_off[r] + lo, src, src_w, src_off[r] + lo, m,
                   cuda.threadIdx.x, cuda.blockDim.x, words)


def copy_py(dst, dst_w, d, src, src_w, m, chunk_bytes, words):  # noqa: ANN001, ANN201, ANN202
    """``src[0:m]`` -> ``dst[d:d+m]``, blocks taking ``chunk_bytes`` pieces in turn."""
    chunks = (m + chunk_bytes - 1) // chunk_bytes
    for c in range(cuda.blockIdx.x, chunks, cuda.gridDim.x):
        lo = c * chunk_bytes
        n = m - lo
        if n > chunk_bytes:
            n = chunk_bytes
        copy_range(dst, dst_w, d + lo, src, src_w, lo, n, cuda.threadIdx.x, cuda.blockDim.x,
                   words)


headers_kernel = cuda.jit(headers_py)
gather_kernel = cuda.jit(gather_py)
copy_kernel = cuda.jit(copy_py)

# What the PTX check compiles: (name, python function, signature string).
_I8 = "int64[::1]"
_U8A = "uint8[::1]"
_U64A = "uint64[::1]"
KERNEL_SIGNATURES: list[tuple[str, object, str]] = [
    ("headers", headers_py,
     f"void({_U8A}, {_I8}, {_I8}, {_I8}, {_I8}, {_I8}, {_I8}, {_I8}, {_I8}, {_I8})"),
    ("gather", gather_py,
     f"void({_U8A}, {_U64A}, {_I8}, {_U8A}, {_U64A}, {_I8}, {_I8}, {_I8}, {_I8}, int64, boolean)"),
    ("copy", copy_py, f"void({_U8A}, {_U64A}, int64, {_U8A}, {_U64A}, int64, int64, boolean)"),
]
