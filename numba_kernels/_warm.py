"""``warm_up()``: call every kernel once so that no JIT compile happens later.

With ``NUMBA_CACHE_DIR`` populated this loads the cached machine code (~0.2 s); on a cold cache
it compiles (seconds).  Tests call it from a session fixture before any Hypothesis example, so
that no compile lands inside an example's deadline.
"""

from __future__ import annotations

import numpy as np


def warm_up() -> None:
    """Compile (or load from cache) every CPU kernel of numba_kernels."""
    from fluidspec.numba_kernels import arrays

    samples = [np.arange(6, dtype=np.float32).reshape(2, 3), np.zeros((), np.int64),
               np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32)]
    data = arrays.encode(samples, [[[0, 1, 2]], None, None, None])
    arrays.decode(data)
    arrays.decode(data, copy=True)
    out = np.empty(len(data), np.uint8)
    arrays.encode(samples[2:], out=out)
    arrays.encode(samples, [[[0, 1, 2]], None, None, None], out=np.empty(len(data), np.uint8))
    arrays.decode_record(arrays.encode_record(samples[0]))
