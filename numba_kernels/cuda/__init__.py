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
* ``available()`` / ``simulated()`` / ``unavailable_reason()`` — where it can run.
* ``python -m fluidspec.cuda_check`` — the real-GPU check (bytes and throughput).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

# Lazy on purpose: the CPU save/load path imports ``cuda._io`` (which, through this package,
# would otherwise import numba.cuda and the CUDA toolkit bindings on every CPU-only run).
_PUBLIC = {
    "decode": "_decode",
    "encode": "_encode",
    "gather": "_device",
    "available": "_launch",
    "simulated": "_launch",
    "unavailable_reason": "_launch",
}

__all__ = ["encode", "decode", "gather", "available", "simulated", "unavailable_reason",
           "warm_up"]


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
