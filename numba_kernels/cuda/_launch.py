"""Where the CUDA path runs, and with what launch shapes.

The kernels are grid-stride, so the shape only changes speed, never bytes.  Under the simulator
every launched thread is a Python thread (measured at about 120 µs each), so the
default there is a tiny 2×32 grid; on a GPU it is sized from the work.
"""

from __future__ import annotations

import os

from numba import cuda

#: a launch shape: (blocks, threads per block)
Launch = tuple[int, int]

SIMULATOR_LAUNCH: Launch = (2, 32)
#: bytes of payload one block copies per chunk on a GPU (the simulator tests use small chunks)
GPU_CHUNK_BYTES = 64 * 1024
_GPU_THREADS = 256
_GPU_MAX_BLOCKS = 65535


def simulated() -> bool:
    """True when numba runs CUDA kernels in its simulator (NUMBA_ENABLE_CUDASIM=1 at import)."""
    try:
        from numba.cuda.core import config  # numba-cuda 0.x keeps its own config module
    except ImportError:  # numba's frozen built-in target
        from numba.core import config
    return bool(getattr(config, "ENABLE_CUDASIM", 0))


def available() -> bool:
    """A GPU or the simulator can run the kernels (``cuda.is_available()`` never raises)."""
    return bool(cuda.is_available())


def unavailable_reason() -> str:
    """Why the CUDA path cannot run here, in words a skipped test can print."""
    if available():
        return ""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return "NUMBA_ENABLE_CUDASIM=1 was set after numba was imported"
    return ("no CUDA GPU/driver and the CUDA simulator is off (set NUMBA_ENABLE_CUDASIM=1 "
            "before numba is imported; scripts/test.sh runs the CUDA tests that way)")


def checked(launch: Launch) -> Launch:
    """A caller's ``(blocks, threads)``: at least one block, 1..1024 threads (CUDA's limit)."""
    from fluidspec.spec.errors import InvalidArgumentError

    try:
        blocks, threads = (int(x) for x in launch)
    except (TypeError, ValueError):
        blocks = threads = 0
    if blocks < 1 or not 1 <= threads <= 1024:
        raise InvalidArgumentError("a launch shape is (blocks >= 1, 1 <= threads <= 1024)",
                                   expected="(blocks, threads)", found=repr(launch))
    return blocks, threads


def for_items(items: int, launch: Launch | None) -> Launch:
    """Launch shape for a kernel whose work is ``items`` independent pieces."""
    if launch is not None:
        return checked(launch)
    if simulated():
        return SIMULATOR_LAUNCH
    blocks = max(1, min(_GPU_MAX_BLOCKS, -(-items // _GPU_THREADS)))
    return blocks, _GPU_THREADS


def for_chunks(chunks: int, launch: Launch | None) -> Launch:
    """Launch shape for a chunked copy: one block per chunk, as many as the grid allows."""
    if launch is not None:
        return checked(launch)
    if simulated():
        return SIMULATOR_LAUNCH
    return max(1, min(_GPU_MAX_BLOCKS, chunks)), _GPU_THREADS


def chunk_bytes(chunk: int | None) -> int:
    """Bytes per copy piece: the caller's (>= 1), else the default for where it runs."""
    if chunk is not None:
        if int(chunk) < 1:
            from fluidspec.spec.errors import InvalidArgumentError

            raise InvalidArgumentError("chunk must be at least 1 byte", expected=">= 1",
                                       found=chunk)
        return int(chunk)
    return 4096 if simulated() else GPU_CHUNK_BYTES
