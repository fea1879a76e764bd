"""The CUDA path: pack arrays into one device buffer and unpack a buffer into device arrays.

Needs the ``cuda`` extra (``pip install -e '.[cuda]'``: numba-cuda and cuda-bindings) and either
a GPU (``pip install 'numba-cuda[cu13]'`` for the toolkit) or numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1`` set *before* numba is first imported).  The bytes are those of
``numba_kernels.arrays`` and ``reference`` exactly (FMT-COMB-001, FMT-REC-*); the validity rules
and the taxonomy errors are the CPU path's own, shared code.

* ``encode(arrays, lods)`` — arrays may be device arrays (packed on the device) or host arrays
  (each copied once into its slot); returns a 1-D ``uint8`` device array.
* ``decode(buffer)`` — host bytes or a ``uint8`` device array; returns ``(device array, lod)``
  pairs, each array a view of one aligned device arena (see ``cuda._decode`` for why the parse
  itself runs on the host).
* ``gather(dst, dst_off, src, src_off, nbytes)`` — the scatter/gather kernel itself.
* ``parse(buffer)`` -> ``(host bytes, parsed records, device bytes)``, ``arena_layout(parsed)``
  and ``unpack(host bytes, parsed, device bytes, arena=...)`` — ``decode``'s two steps apart, so
  a caller (the benchmark) can time the device scatter alone or reuse one arena.
* ``available()`` / ``simulated()`` / ``unavailable_reason()`` — where it can run.

For the save/load APIs (``numba_kernels.io``), all cheap to call on a CPU-only machine until a
value really is on the device:

* ``is_on_device(value)`` / ``any_on_device(values)`` / ``is_cuda_place(place)`` /
  ``loads_to_device(executor)`` — where values live and where a load puts them;
* ``pack_to_host(values, lods, names=...)`` -> ``(stream bytes, record offsets)``: device values
  packed on the device, one copy to the host;
* ``unpack_to_device(buffer)``, ``arrays_to_device(arrays)``, ``move_to_device(items)`` — loaded
  values onto the device, each in an aligned slot of one arena.

``python -m fluidspec.cuda_check`` is the real-GPU check (bytes and throughput).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

# Lazy on purpose: every save and load asks ``is_on_device`` / ``loads_to_device`` (``_io``
# imports nothing heavy); importing ``_encode`` or ``_decode`` here would import numba.cuda and
# the CUDA toolkit bindings on every CPU-only run.
_PUBLIC = {
    "decode": "_decode",
    "parse": "_decode",
    "arena_layout": "_decode",
    "unpack": "_decode",
    "encode": "_encode",
    "gather": "_device",
    "available": "_launch",
    "simulated": "_launch",
    "unavailable_reason": "_launch",
    "is_on_device": "_io",
    "any_on_device": "_io",
    "is_cuda_place": "_io",
    "loads_to_device": "_io",
    "pack_to_host": "_io",
    "unpack_to_device": "_io",
    "arrays_to_device": "_io",
    "move_to_device": "_io",
}

__all__ = [*_PUBLIC, "warm_up"]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    globals()[name] = value
    return value


def warm_up() -> None:
    """Compile every kernel now (a tiny encode and decode), not inside the first real call."""
    blob = __getattr__("encode")([np.arange(3, dtype=np.float32)], [[[0, 1, 3]]])
    __getattr__("decode")(blob)
