# ruff: noqa: ANN001, ANN201, ANN202  (numba kernels: argument types come from numba, not hints)
"""Scalar byte helpers shared by every kernel: varints and little-endian integers.

They are plain Python functions on purpose: CPU kernels wrap them with
``numba.njit(inline="always")`` and a CUDA kernel can wrap the very same source with
``cuda.jit(device=True, inline="always")``.  So they use only scalar arithmetic and indexing of
a ``uint8`` array — no numpy calls besides scalar constructors, no Python objects, no calls to
each other.  Every shift and mask uses an explicit ``np.uint64`` operand: mixing a uint64 with a
plain int makes numba compute in int64 (or float64), which silently writes a 1-byte varint for a
negative dim instead of the 10 bytes FMT-DESC-001 requires.
"""

from __future__ import annotations

import numpy as np

_U7 = np.uint64(7)
_U8 = np.uint64(8)
_LOW7 = np.uint64(0x7F)
_HIGH = np.uint64(0x80)
_LOW8 = np.uint64(0xFF)


def varint_len(value):
    """Bytes of the protobuf base-128 varint of ``value`` (a uint64): 1..10 (FMT-DESC-001)."""
    v = np.uint64(value)
    n = 1
    while v >= _HIGH:
        v = v >> _U7
        n += 1
    return n


def put_varint(out, pos, value):
    """Write the varint of ``value`` (uint64) at ``out[pos]``; return the position after it."""
    v = np.uint64(value)
    while v >= _HIGH:
        out[pos] = np.uint8((v & _LOW7) | _HIGH)
        v = v >> _U7
        pos += 1
    out[pos] = np.uint8(v)
    return pos + 1


def put_le(out, pos, value, nbytes):
    """Write the low ``nbytes`` bytes of ``value`` (uint64) little-endian; return the end."""
    v = np.uint64(value)
    for i in range(nbytes):
        out[pos + i] = np.uint8(v & _LOW8)
        v = v >> _U8
    return pos + nbytes


def get_le(buf, pos, nbytes):
    """Read an unsigned little-endian integer of ``nbytes`` bytes at ``buf[pos]`` as uint64."""
    v = np.uint64(0)
    for i in range(nbytes - 1, -1, -1):
        v = (v << _U8) | np.uint64(buf[pos + i])
    return v
