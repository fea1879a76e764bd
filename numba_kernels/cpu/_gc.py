"""``no_gc()``: pause the cyclic garbage collector while building many small objects.

Decoding 10,000 tensors creates tens of thousands of lists, tuples and arrays; each batch of 700
allocations triggers a collection that walks the young generation, and in a process holding
numba's large object graph the occasional full collection costs more than the decode itself.
The objects built here form no reference cycles, so nothing is lost by collecting later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
