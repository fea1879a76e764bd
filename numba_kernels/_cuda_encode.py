"""Encode on the device: many arrays (device or host) into one device byte buffer.

The planning is the CPU path's own (``numba_kernels._encode.plan`` for the dtype and LoD rules
and their taxonomy errors, ``numba_kernels._layout.layout`` for header and data lengths), so
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

from numba_kernels import _cuda, _cuda_launch
from numba_kernels._cuda_launch import Launch
from numba_kernels._dtypes import SIZES
from numba_kernels._encode import plan
from numba_kernels._layout import layout
from spec.errors import InvalidArgumentError, UnsupportedDtypeError

_WORD = 8


def is_device_array(a: Any) -> bool:
    """A numba device array (real or simulated)."""
    return hasattr(a, "copy_to_host") and hasattr(a, "is_c_contiguous") and not isinstance(
        a, np.ndarray)


def as_device_or_host(a: Any) -> tuple[Any, bool]:
    """``(array, on_device)``; objects with ``__cuda_array_interface__`` become device arrays."""
    if isinstance(a, np.ndarray):
        return a, False
    if is_device_array(a):
        return a, True
    if hasattr(a, "__cuda_array_interface__") and hasattr(cuda, "as_cuda_array"):
        return cuda.as_cuda_array(a), True
    return np.asarray(a), False


def address(a: Any) -> int:
    """Device address of a device array's first byte (the simulator's is a host address)."""
    cai = getattr(a, "__cuda_array_interface__", None)
    if cai is not None:
        return int(cai["data"][0] or 0)
    return int(a._ary.__array_interface__["data"][0])  # simulator FakeCUDAArray


def to_device(a: np.ndarray, stream: Any = 0) -> Any:
    """Small metadata to the device; empty arrays become one element (never read)."""
    if a.size == 0:
        a = np.zeros(1, a.dtype)
    return cuda.to_device(np.ascontiguousarray(a), stream=stream)


def int64_tables(parts: Sequence[np.ndarray], stream: Any) -> list[Any]:
    """Several small int64 tables in one host-to-device copy (one call's fixed cost, not n)."""
    sizes = [max(len(t), 1) for t in parts]
    offs = np.zeros(len(parts) + 1, np.int64)
    np.cumsum(sizes, out=offs[1:])
    blob = np.zeros(int(offs[-1]), np.int64)
    for t, o in zip(parts, offs.tolist(), strict=False):
        blob[o:o + len(t)] = t
    dev = cuda.to_device(blob, stream=stream)
    return [dev[a:b] for a, b in zip(offs.tolist(), offs[1:].tolist(), strict=False)]


_streams: list[Any] = []


def streams() -> tuple[Any, Any]:
    """Two streams, made once: payload copies on one, header work on the other, so the
    header metadata copy and launch overlap the payload copy (they write disjoint bytes; words
    shared by a header and a payload are written byte-wise by both kernels)."""
    if not _streams:
        _streams.extend([cuda.stream(), cuda.stream()])
    return _streams[0], _streams[1]


_dummy_words: list[Any] = []


def word_view(u8: Any) -> tuple[Any, bool]:
    """``(uint64 view of the whole words of u8, usable)``; usable needs 8-byte alignment."""
    whole = (u8.shape[0] // _WORD) * _WORD
    if whole == 0 or address(u8) % _WORD:
        if not _dummy_words:
            _dummy_words.append(cuda.device_array(1, np.uint64))
        return _dummy_words[0], False
    return u8[:whole].view(np.uint64), True


def device_bytes(a: Any, var: str | None) -> Any:
    """A C-contiguous device array as a 1-D uint8 device array (FMT-REC-005)."""
    if not a.is_c_contiguous():
        raise InvalidArgumentError(
            "a device array must be C-contiguous to be written", var=var,
            expected="a C-contiguous device array", found=f"strides {tuple(a.strides)}",
        )
    return a.reshape(int(np.prod(a.shape, dtype=np.int64))).view(np.uint8)


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
            device_bytes(a, names[i] if names and i < len(names) else None)
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


def copy_into(dst: Any, dst_w: Any, dst_words: bool, d: int, src_u8: Any, m: int,
              launch: Launch | None, chunk: int | None, stream: Any = 0) -> None:
    """``src_u8[0:m]`` (a device uint8 array) -> ``dst[d:d+m]`` by ``copy_kernel``."""
    if m == 0:
        return
    cb = _cuda_launch.chunk_bytes(chunk)
    src_w, src_words = word_view(src_u8)
    blocks, threads = _cuda_launch.for_chunks(-(-m // cb), launch)
    _cuda.copy_kernel[blocks, threads, stream](dst, dst_w, d, src_u8, src_w, m, cb,
                                               dst_words and src_words)


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
    staged = []
    for i, (a, dev) in enumerate(items):
        m = int(p.nbytes[i])
        if m == 0:
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
