"""Encode on the device: many arrays (device or host) into one device byte buffer.

The planning is the CPU path's own (``numba_kernels.cpu.plan`` for the dtype and LoD rules
and their taxonomy errors, ``numba_kernels.cpu.layout`` for header and data lengths), so
the two paths cannot disagree on what is valid or where a record starts.  Only the writing
moves to the GPU: ``headers_kernel`` writes every header, then each payload lands at its
planned offset — ``copy_kernel`` for a device array, one host-to-device copy for a host array
(that is its one crossing).

Clauses: FMT-REC-001..005 and FMT-DESC-001 (the headers kernel), FMT-REC-005 (payload in C
order: device arrays must be C-contiguous, 0-d stays 0-d), FMT-REC-007 (host arrays are
byte-swapped by ``plan``; a big-endian device array is refused, numba cannot make one anyway),
FMT-DTYPE-002/003/006 and FMT-LOD-002 (through ``plan``), FMT-COMB-001 (records back to back,
in the order given).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import cuda

from fluidspec.numba_kernels.cpu import SIZES, layout, plan
from fluidspec.numba_kernels.cuda import _kernels as _cuda
from fluidspec.numba_kernels.cuda import _launch as _cuda_launch
from fluidspec.numba_kernels.cuda._device import (
    arena_of,
    as_device_or_host,
    copy_into,
    device_bytes,
    gather,
    int64_tables,
    is_device_array,
    require_c_contiguous,
    streams,
    word_view,
)
from fluidspec.numba_kernels.cuda._launch import Launch
from fluidspec.spec.errors import InvalidArgumentError, UnsupportedDtypeError


def _shape_proxy(a: Any, var: str | None) -> np.ndarray:
    """A numpy array with ``a``'s dtype and shape and no memory, for ``plan``."""
    dtype = np.dtype(a.dtype)
    if dtype.byteorder == ">":
        raise UnsupportedDtypeError(
            "big-endian device arrays are not supported", var=var,
            expected="a little-endian dtype (FMT-REC-007)", found=str(dtype),
        )
    shape = tuple(int(x) for x in a.shape)
    # every element is the same one byte-block: zero strides (as_strided refuses ml_dtypes)
    return np.ndarray(shape, dtype, buffer=np.zeros(dtype.itemsize, np.uint8),
                      strides=(0,) * len(shape))


class Plan:
    """Where every record goes: the metadata the headers kernel reads, and the payload slots."""

    def __init__(self, meta: Any, n: int) -> None:
        self.n = n
        self.meta = meta
        desc_len, hdr_len, nbytes = layout(meta.codes, SIZES, meta.dims, meta.dims_off,
                                           meta.lvl_off, meta.lvl_len)
        rec = np.zeros(n + 1, np.int64)
        np.cumsum(hdr_len + nbytes, out=rec[1:])
        self.hdr_pos = rec[:-1]
        self.desc_len = desc_len
        self.nbytes = nbytes
        self.data_off = rec[:-1] + hdr_len
        self.total = int(rec[-1])
        self.lvl_first = np.zeros(len(meta.lvl_len), np.int64)
        if len(meta.lvl_len):
            np.cumsum(meta.lvl_len[:-1], out=self.lvl_first[1:])


def _repeat_meta(meta: Any, n: int) -> Any:
    """``plan``'s uniform shortcut describes tensor 0 only; spell it out for n tensors."""
    ndim = len(meta.dims)
    meta.codes = np.repeat(meta.codes, n)
    meta.dims = np.tile(meta.dims, n)
    meta.dims_off = np.arange(n + 1, dtype=np.int64) * ndim
    meta.lvl_off = np.zeros(n + 1, np.int64)
    return meta


def make_plan(
    arrays: Sequence[Any], lods: Sequence[Any] | None, names: Sequence[str] | None,
) -> tuple[Plan, list[tuple[Any, bool]]]:
    """Validate the inputs (CPU path's rules and errors) and lay the records out."""
    items = [as_device_or_host(a) for a in arrays]
    for i, (a, dev) in enumerate(items):  # refuse before any device work
        if dev:
            require_c_contiguous(a, names[i] if names and i < len(names) else None)
    proxies = [
        _shape_proxy(a, names[i] if names and i < len(names) else None) if dev else a
        for i, (a, dev) in enumerate(items)
    ]
    arrs, meta, uniform = plan(proxies, lods, None, names)
    if uniform:
        meta = _repeat_meta(meta, len(arrs))
    # plan may have byte-swapped host arrays (FMT-REC-007); keep its versions of those.
    items = [(a, True) if dev else (arrs[i], False) for i, (a, dev) in enumerate(items)]
    return Plan(meta, len(arrs)), items


def new_output(total: int, out: Any) -> Any:
    if out is None:
        return cuda.device_array(max(total, 1), np.uint8)
    if not is_device_array(out) or np.dtype(out.dtype) != np.uint8 or len(out.shape) != 1:
        raise InvalidArgumentError("out must be a 1-D uint8 device array",
                                   expected="a 1-D uint8 device array", found=type(out).__name__)
    if out.shape[0] < total:
        raise InvalidArgumentError("out is too small", expected=f">= {total} bytes",
                                   found=f"{out.shape[0]} bytes")
    return out


def write_headers(dst: Any, p: Plan, launch: Launch | None, stream: Any = 0) -> None:
    if p.n == 0:
        return
    m = p.meta
    tables = int64_tables([p.hdr_pos, m.codes, m.dims, m.dims_off, m.lvl_off, m.lvl_len,
                           p.lvl_first, m.lod_vals.astype(np.int64), p.desc_len], stream)
    blocks, threads = _cuda_launch.for_items(p.n, launch)
    _cuda.headers_kernel[blocks, threads, stream](dst, *tables)


def _gather_arena_views(dst: Any, p: Plan, items: list[tuple[Any, bool]], launch: Launch | None,
                        chunk: int | None, stream: Any) -> set[int]:
    """Device arrays that are views of one arena (from decode or a CUDAPlace load) are copied
    by one ``gather`` launch per arena instead of one launch each; returns their indices."""
    groups: dict[int, tuple[Any, list[int], list[int]]] = {}
    for i, (a, dev) in enumerate(items):
        tag = arena_of(a) if dev and p.nbytes[i] else None
        if tag is not None:
            arena, off = tag
            group = groups.setdefault(id(arena), (arena, [], []))
            group[1].append(i)
            group[2].append(off)
    done: set[int] = set()
    for arena, idx, offs in groups.values():
        if len(idx) < 2:
            continue
        gather(dst, p.data_off[idx], arena, np.array(offs, np.int64), p.nbytes[idx], launch,
               chunk, stream)
        done.update(idx)
    return done


def encode(
    arrays: Sequence[Any], lods: Sequence[Any] | None = None, *, names: Sequence[str] | None = None,
    out: Any = None, launch: Launch | None = None, chunk: int | None = None,
) -> Any:
    """The combined stream of ``arrays`` (with ``lods``) as a 1-D uint8 device array.

    Device arrays are packed on the device; host arrays cross once, straight into their slot.
    ``out`` reuses a device buffer (the result is then ``out[:total]``).  ``launch`` forces
    one ``(blocks, threads)`` shape for every kernel and ``chunk`` the copy piece size — the
    bytes never depend on either.
    """
    return encode_planned(arrays, lods, names=names, out=out, launch=launch, chunk=chunk)[0]


def encode_planned(
    arrays: Sequence[Any], lods: Sequence[Any] | None = None, *, names: Sequence[str] | None = None,
    out: Any = None, launch: Launch | None = None, chunk: int | None = None,
) -> tuple[Any, Plan]:
    """``encode``, also returning the plan (record offsets ``plan.hdr_pos``, ``plan.total``)."""
    p, items = make_plan(arrays, lods, names)
    dst = new_output(p.total, out)
    dst_w, dst_words = word_view(dst)
    payload_stream, header_stream = streams()
    # Payload first: the big copies start while the host still prepares the headers.
    grouped = _gather_arena_views(dst, p, items, launch, chunk, payload_stream)
    staged = []
    for i, (a, dev) in enumerate(items):
        m = int(p.nbytes[i])
        if m == 0 or i in grouped:
            continue
        d = int(p.data_off[i])
        if dev:
            var = names[i] if names and i < len(names) else None
            copy_into(dst, dst_w, dst_words, d, device_bytes(a, var), m, launch, chunk,
                      payload_stream)
        else:
            host = a if a.flags.c_contiguous else np.ascontiguousarray(a)
            staged.append(host)  # alive until the copy is done
            dst[d:d + m].copy_to_device(host.reshape(-1).view(np.uint8), stream=payload_stream)
    write_headers(dst, p, launch, header_stream)
    header_stream.synchronize()
    payload_stream.synchronize()
    return dst[:p.total], p
