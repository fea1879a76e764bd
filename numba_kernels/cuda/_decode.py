"""Decode to the device: a combined stream into device arrays, by one scatter launch.

The parse is the CPU path's (``numba_kernels.cpu.parse``: every check, every taxonomy error,
FMT-REC-*, FMT-DESC-*, FMT-LOD-*, FMT-SAFE-*, FMT-COMB-002/003), run on a host copy of the
bytes.  Records are interleaved header/payload, so finding record k+1 needs record k's header:
a sequential walk, which the host does at ~0.2 µs per record and a GPU thread would do far
slower.  So:

* host buffer -> parse on the host, one host-to-device copy of the bytes, scatter on the device;
* device buffer -> one device-to-host copy to parse (the headers are spread through it), then
  the scatter reads the device buffer itself.

The scatter (``gather_kernel``) copies every payload from its unaligned offset in the stream
(FMT-REC-005: no padding) to an offset in one device arena aligned to ``align`` bytes, so the
arrays handed back can be used by any typed GPU kernel; they are views of that arena (which
they keep alive) and own no memory of the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import cuda

from fluidspec.numba_kernels import cpu
from fluidspec.numba_kernels.cuda._device import (
    gather,
    is_device_array,
    streams,
    tag_arena_views,
    to_device,
)
from fluidspec.numba_kernels.cuda._launch import Launch
from fluidspec.spec.errors import InvalidArgumentError

ALIGN = 256  # cudaMalloc's own alignment: every typed access to an array is aligned


def _host_and_device(buffer: Any) -> tuple[np.ndarray, Any]:
    """``(host uint8 bytes, device uint8 array or None)`` of the input."""
    if is_device_array(buffer):
        if len(buffer.shape) != 1 or np.dtype(buffer.dtype) != np.uint8 or \
                not buffer.is_c_contiguous():
            raise InvalidArgumentError(
                "a device buffer must be a contiguous 1-D uint8 device array",
                expected="a contiguous 1-D uint8 device array",
                found=f"{np.dtype(buffer.dtype)} array of shape {tuple(buffer.shape)}",
            )
        return buffer.copy_to_host(), buffer
    return cpu.as_u8(buffer), None


def parse(
    buffer: Any, count: int | None = None, *, path: Any = None,
    names: Sequence[str] | None = None,
) -> tuple[np.ndarray, cpu.Parsed, Any]:
    """``(host bytes, parsed records, device bytes)``: everything ``unpack`` needs.

    Host input is copied to the device once; device input is copied to the host once, for
    the parse (see the module doc).
    """
    host, dev = _host_and_device(buffer)
    u8, p = cpu.parse(host, count, path=path, names=names)
    if dev is None:
        dev = to_device(np.ascontiguousarray(u8[:p.end]))
    return u8, p, dev


def arena_layout(p: cpu.Parsed, align: int = ALIGN) -> np.ndarray:
    """Offsets of each record's array in the arena (n+1; the last is the arena size)."""
    padded = -(-p.nbytes // align) * align
    arena_off = np.zeros(p.n + 1, np.int64)
    np.cumsum(padded, out=arena_off[1:])
    return arena_off


def unpack(
    u8: np.ndarray, p: cpu.Parsed, dev: Any, *, launch: Launch | None = None,
    chunk: int | None = None, align: int = ALIGN, arena: Any = None,
) -> list[tuple[Any, list[list[int]]]]:
    """Scatter the parsed records' payloads from ``dev`` into one aligned arena (one launch).

    ``arena`` reuses a uint8 device array of at least ``arena_layout(p, align)[-1]`` bytes; the
    arrays returned are views of it.
    """
    nbytes = p.nbytes
    arena_off = arena_layout(p, align)
    need = max(int(arena_off[-1]), 1)
    if arena is None:
        arena = cuda.device_array(need, np.uint8)
    elif not is_device_array(arena) or np.dtype(arena.dtype) != np.uint8 or \
            len(arena.shape) != 1 or arena.shape[0] < need:
        raise InvalidArgumentError("arena must be a 1-D uint8 device array large enough",
                                   expected=f">= {need} bytes", found=type(arena).__name__)
    stream = streams()[0]
    gather(arena, arena_off[:-1], dev, p.data_off, nbytes, launch, chunk, stream)
    lods = cpu.lods_of(u8, p) if len(p.lvl_len) else [[] for _ in range(p.n)]
    out_views: list[tuple[Any, list[list[int]]]] = []
    offs = arena_off.tolist()
    sizes = nbytes.tolist()
    codes = p.codes.tolist()
    for i in range(p.n):
        flat = arena[offs[i]:offs[i] + sizes[i]].view(cpu.DTYPE_BY_CODE[codes[i]])
        out_views.append((flat.reshape(p.shape(i)), lods[i]))
    tag_arena_views([v for v, _ in out_views], arena, offs)
    stream.synchronize()
    return out_views


def decode(
    buffer: Any, count: int | None = None, *, path: Any = None,
    names: Sequence[str] | None = None, launch: Launch | None = None, chunk: int | None = None,
    align: int = ALIGN,
) -> list[tuple[Any, list[list[int]]]]:
    """Every record of ``buffer`` (host bytes or a uint8 device array) as
    ``(device array, lod)``, with the parse rules and errors of ``numba_kernels.arrays``."""
    u8, p, dev = parse(buffer, count, path=path, names=names)
    return unpack(u8, p, dev, launch=launch, chunk=chunk, align=align)
