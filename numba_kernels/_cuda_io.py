"""The CUDA path as the save/load APIs need it: pack on the device and cross to the host once;
read a file's bytes and unpack them into device arrays.

``numba_kernels.io`` calls these when scope values are device arrays (a save) or the executor's
place is a ``CUDAPlace`` (a load).  The bytes are exactly those of the CPU path (FMT-COMB-001,
FMT-REC-*), so the files written do not depend on where the values lived.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numba_kernels._cuda_decode import decode
from numba_kernels._cuda_encode import encode_planned, is_device_array


def any_on_device(values: Sequence[Any]) -> bool:
    """True when at least one value is a device array (numba's, or a CUDA-array-interface one)."""
    return any(is_device_array(v) or hasattr(v, "__cuda_array_interface__") for v in values)


def is_cuda_place(place: Any) -> bool:
    """``fluid.CUDAPlace(i)`` of any implementation (duck-typed: it has a ``device_id``)."""
    return type(place).__name__ == "CUDAPlace"


def pack_to_host(values: Sequence[Any], lods: Sequence[Any] | None = None, *,
                 names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(stream bytes, record offsets)``: the combined stream of ``values`` packed on the
    device and copied to the host in one transfer; ``offsets[i]:offsets[i+1]`` is record i, so
    a separate-files save can write each record from the same buffer."""
    packed, plan = encode_planned(values, lods, names=names)
    host = np.empty(plan.total, np.uint8)
    if plan.total:
        packed.copy_to_host(host)
    offsets = np.append(plan.hdr_pos, plan.total).astype(np.int64)
    return host, offsets


def unpack_to_device(buffer: Any, count: int | None = None, *, path: Any = None,
                     names: Sequence[str] | None = None) -> list[tuple[Any, list[list[int]]]]:
    """Every record of ``buffer`` (e.g. a file's bytes) as ``(device array, lod)``."""
    return decode(buffer, count, path=path, names=names)
