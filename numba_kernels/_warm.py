"""``warm_up()``: call every kernel once so that no JIT compile happens later.

With ``NUMBA_CACHE_DIR`` populated this loads the cached machine code (~0.2 s); on a cold cache
it compiles (seconds).  Tests call it from a session fixture before any Hypothesis example, so
that no compile lands inside an example's deadline.
"""

from __future__ import annotations

import numpy as np


def warm_up() -> None:
    """Compile (or load from cache) every CPU kernel of numba_kernels."""
    from fluidspec.numba_kernels import arrays, cpu

    samples = [np.arange(6, dtype=np.float32).reshape(2, 3), np.zeros((), np.int64),
               np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32)]
    data = arrays.encode(samples, [[[0, 1, 2]], None, None, None])
    arrays.decode(data)
    arrays.decode(data, copy=True)
    out = np.empty(len(data), np.uint8)
    arrays.encode(samples[2:], out=out)
    arrays.encode(samples, [[[0, 1, 2]], None, None, None], out=np.empty(len(data), np.uint8))
    arrays.decode_record(arrays.encode_record(samples[0]))
    cpu.parse_in_place(np.frombuffer(data, np.uint8).copy(), len(samples))  # a file load's pass
    _warm_file_calls()


def _warm_file_calls() -> None:
    """The separate-files kernels, each over no file at all (so no system call), with the
    argument types of their real calls (read-only name and data buffers)."""
    from fluidspec.numba_kernels import _files, cpu

    if not cpu.can_call_files():
        return
    encoded = _files._nul_terminated(["warm"])
    assert encoded is not None
    names, ends = encoded
    bounds = np.zeros(1, np.int64)
    data = np.frombuffer(b"", np.uint8)
    cpu.read_regular_files(names, ends, cpu.READ_FLAGS, cpu.MOST_PER_CALL, 1, 1, 0, 0,
                           np.empty(0, np.uint8), 0, bounds)
    cpu.write_new_files(names, ends, 0, 0o644, cpu.MOST_PER_CALL, data, bounds, 0, 0)
    cpu.rename_files(names, ends, names, ends, 0, 0)
    cpu.link_new_files(names, ends, np.zeros(0, np.int64), names, ends,
                       cpu.proc_fd_path(), 0, 0o644,
                       cpu.MOST_PER_CALL, data, bounds, 0, 0)
