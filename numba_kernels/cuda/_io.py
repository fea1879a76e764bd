"""The CUDA path as the save/load APIs need it (``numba_kernels.io``).

* Save: when scope values are device arrays, ``pack_to_host`` packs them on the device (the
  headers and payload kernels of ``cuda._kernels``) and crosses to the host once; the records' offsets
  let a separate-files save write each file from the same buffer.
* Load with ``Executor(CUDAPlace(i))``: ``move_to_device`` puts the loaded values on the device
  (each in an aligned slot of one arena), after every check of the load has passed (SEL-LOAD-003).

The bytes are exactly those of the CPU path (FMT-COMB-001, FMT-REC-*), so files do not depend on
where values lived.  ``any_on_device`` and ``is_cuda_place`` import nothing heavy: a CPU-only
save or load never imports numba's CUDA target.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: arrays below this size are staged into one host buffer and cross in one copy
_STAGE_BELOW = 1 << 20
_ALIGN = 256


def is_on_device(value: Any) -> bool:
    """A numba device array (real or simulated) or any CUDA-array-interface object."""
    if type(value) is np.ndarray:
        return False
    if hasattr(value, "__cuda_array_interface__"):
        return True
    return hasattr(value, "copy_to_host") and hasattr(value, "is_c_contiguous")


def any_on_device(values: Sequence[Any]) -> bool:
    """True when at least one value lives on a GPU."""
    if set(map(type, values)) <= {np.ndarray}:  # the usual case, at C speed (10,000 values)
        return False
    return any(is_on_device(v) for v in values)


def is_cuda_place(place: Any) -> bool:
    """``fluid.CUDAPlace(i)`` of any implementation (by class name: reference's, Paddle's)."""
    return type(place).__name__ == "CUDAPlace"


def loads_to_device(executor: Any) -> bool:
    """A load through ``executor`` puts values on the GPU: its place is a ``CUDAPlace`` and a
    GPU (or the simulator) can take them.  Without one the values stay on the host, as every
    place does in the reference (API-EXEC-003), so a CUDAPlace script still runs on a CPU box."""
    if not is_cuda_place(getattr(executor, "place", None)):
        return False
    from fluidspec.numba_kernels.cuda._launch import available

    return available()


def pack_to_host(values: Sequence[Any], lods: Sequence[Any] | None = None, *,
                 names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(stream bytes, record offsets)``: the combined stream of ``values`` packed on the
    device and copied to the host in one transfer; ``offsets[i]:offsets[i+1]`` is record i."""
    from fluidspec.numba_kernels.cuda._encode import encode_planned

    packed, plan = encode_planned(values, lods, names=names)
    host = np.empty(plan.total, np.uint8)
    if plan.total:
        packed.copy_to_host(host)
    offsets = np.append(plan.hdr_pos, plan.total).astype(np.int64)
    return host, offsets


def unpack_to_device(buffer: Any, count: int | None = None, *, path: Any = None,
                     names: Sequence[str] | None = None) -> list[tuple[Any, list[list[int]]]]:
    """Every record of ``buffer`` (e.g. a file's bytes) as ``(device array, lod)``."""
    from fluidspec.numba_kernels.cuda._decode import decode

    return decode(buffer, count, path=path, names=names)


def arrays_to_device(arrays: Sequence[np.ndarray]) -> list[Any]:
    """Host arrays -> device arrays of the same dtype and shape, each in a 256-byte-aligned
    slot of one device arena.  Small arrays take the first slots and cross in one copy from a
    host staging buffer; large ones are copied one by one into the slots after them."""
    from numba import cuda

    arrays = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
    sizes = [a.nbytes for a in arrays]
    small = [i for i, n in enumerate(sizes) if n < _STAGE_BELOW]
    large = [i for i, n in enumerate(sizes) if n >= _STAGE_BELOW]
    offs = [0] * len(arrays)
    end = 0
    for i in small + large:
        offs[i] = end
        end += -(-sizes[i] // _ALIGN) * _ALIGN
    arena = cuda.device_array(max(end, 1), np.uint8)
    staged = sum(-(-sizes[i] // _ALIGN) * _ALIGN for i in small)
    if staged:
        stage = np.zeros(staged, np.uint8)
        for i in small:
            stage[offs[i]:offs[i] + sizes[i]] = arrays[i].reshape(-1).view(np.uint8)
        arena[:staged].copy_to_device(stage)
    for i in large:
        arena[offs[i]:offs[i] + sizes[i]].copy_to_device(arrays[i].reshape(-1).view(np.uint8))
    views = [arena[offs[i]:offs[i] + sizes[i]].view(a.dtype).reshape(a.shape)
             for i, a in enumerate(arrays)]
    from fluidspec.numba_kernels.cuda._device import tag_arena_views

    tag_arena_views(views, arena, offs)  # a later save packs them with one gather launch
    return views


def move_to_device(items: Sequence[Any]) -> None:
    """Replace each loaded item's ``array`` by a device copy (``items`` have ``.array`` and
    ``.owned``, as ``numba_kernels._io`` makes them)."""
    devs = arrays_to_device([item.array for item in items])
    for item, dev in zip(items, devs, strict=True):
        item.array = dev
        item.owned = True  # the device copy belongs to the load
