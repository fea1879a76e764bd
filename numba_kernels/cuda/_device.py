"""Device memory for the CUDA path: what a device array is, where it lies, and the copies.

* detection and addresses of device arrays (numba's, real or simulated; CUDA-array-interface
  objects become numba device arrays);
* ``word_view``: the 8-byte-word view the copy kernels use only when it is aligned;
* ``int64_tables``: many small metadata tables in one host-to-device copy;
* ``streams``: the two streams encode uses to overlap payload copies with header work;
* ``copy_into`` (one range, ``copy_kernel``) and ``gather`` (many ranges of one source buffer,
  ``gather_kernel``, one launch);
* arena tags: arrays handed out as views of one arena (decode, CUDAPlace loads) remember it, so
  packing them again is one ``gather`` from the arena instead of one launch per array.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import cuda

from fluidspec.numba_kernels.cuda import _kernels as _cuda
from fluidspec.numba_kernels.cuda import _launch as _cuda_launch
from fluidspec.numba_kernels.cuda._launch import Launch
from fluidspec.spec.errors import InvalidArgumentError

_WORD = 8
ARENA_TAG = "_fluidspec_arena"


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
    """``(uint64 view of the whole words of u8, usable)``; usable needs 8-byte alignment.

    ``FLUIDSPEC_CUDA_BYTEWISE=1`` turns the word path off everywhere (every payload byte is
    then copied by a uint8 access) — a switch for diagnosing a GPU, the bytes are the same.
    """
    whole = (u8.shape[0] // _WORD) * _WORD
    if whole == 0 or address(u8) % _WORD or os.environ.get("FLUIDSPEC_CUDA_BYTEWISE") == "1":
        if not _dummy_words:
            _dummy_words.append(cuda.device_array(1, np.uint64))
        return _dummy_words[0], False
    return u8[:whole].view(np.uint64), True


def require_c_contiguous(a: Any, var: str | None) -> None:
    """FMT-REC-005 writes C order; a strided device array cannot be copied as one range."""
    if not a.is_c_contiguous():
        raise InvalidArgumentError(
            "a device array must be C-contiguous to be written", var=var,
            expected="a C-contiguous device array", found=f"strides {tuple(a.strides)}",
        )


def device_bytes(a: Any, var: str | None) -> Any:
    """A C-contiguous device array as a 1-D uint8 device array (FMT-REC-005)."""
    require_c_contiguous(a, var)
    return a.reshape(int(np.prod(a.shape, dtype=np.int64))).view(np.uint8)


def chunk_tables(nbytes: np.ndarray, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """``(chunk_rec, chunk_base)`` for ``gather_kernel``: chunk -> range, range -> first chunk."""
    per = -(-nbytes // chunk)
    base = np.zeros(len(nbytes), np.int64)
    if len(nbytes) > 1:
        np.cumsum(per[:-1], out=base[1:])
    rec = np.repeat(np.arange(len(nbytes), dtype=np.int64), per)
    return rec, base


def gather(dst: Any, dst_off: np.ndarray, src: Any, src_off: np.ndarray, nbytes: np.ndarray,
           launch: Launch | None = None, chunk: int | None = None, stream: Any = 0) -> None:
    """Copy ``src[src_off[r]:+nbytes[r]]`` to ``dst[dst_off[r]:]`` for every r, one launch.

    ``dst`` and ``src`` are 1-D uint8 device arrays; the offsets and sizes are host int64 arrays.
    The launch is asynchronous on ``stream``.
    """
    cb = _cuda_launch.chunk_bytes(chunk)
    nbytes = np.asarray(nbytes, np.int64)
    rec, base = chunk_tables(nbytes, cb)
    if len(rec) == 0:
        return
    dst_w, dst_words = word_view(dst)
    src_w, src_words = word_view(src)
    d_dst_off, d_src_off, d_nbytes, d_rec, d_base = int64_tables(
        [np.asarray(dst_off, np.int64), np.asarray(src_off, np.int64), nbytes, rec, base], stream)
    blocks, threads = _cuda_launch.for_chunks(len(rec), launch)
    _cuda.gather_kernel[blocks, threads, stream](
        dst, dst_w, d_dst_off, src, src_w, d_src_off, d_nbytes, d_rec, d_base, cb,
        dst_words and src_words,
    )


# Flat arguments on purpose: the launch path passes device arrays and offsets straight through,
# and a parameter object would be built per copy on the hot path.
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


def tag_arena_views(views: Sequence[Any], arena: Any, offsets: Sequence[int]) -> None:
    """Remember that ``views[i]`` is ``arena[offsets[i]:]`` (attribute on the view object)."""
    for view, off in zip(views, offsets, strict=False):
        setattr(view, ARENA_TAG, (arena, int(off)))


def arena_of(a: Any) -> tuple[Any, int] | None:
    """``(arena, byte offset)`` of a view made by ``tag_arena_views``, else None."""
    return getattr(a, ARENA_TAG, None)
