"""fluidspec.numba_kernels.cuda._launch: where the CUDA path runs and with which launch shapes.

No clause: launch shapes are an implementation matter; the byte tests (test_cuda_encode,
test_cuda_kernels) prove the bytes do not depend on them.
"""

from __future__ import annotations

import os

import pytest

from fluidspec.numba_kernels.cuda import _launch as _cuda_launch

pytestmark = pytest.mark.cuda


def test_forced_launch_is_used_as_given():
    assert _cuda_launch.for_items(10_000, (3, 7)) == (3, 7)
    assert _cuda_launch.for_chunks(10_000, (1, 1)) == (1, 1)
    assert _cuda_launch.chunk_bytes(5) == 5


@pytest.mark.skipif(not _cuda_launch.simulated(), reason="the simulator is off in this process")
def test_simulator_uses_tiny_grids():
    """~120 µs per launched simulated thread: the default must stay at 2x32."""
    assert _cuda_launch.for_items(10_000, None) == _cuda_launch.SIMULATOR_LAUNCH == (2, 32)
    assert _cuda_launch.for_chunks(10_000, None) == (2, 32)
    assert _cuda_launch.available()


@pytest.mark.skipif(_cuda_launch.simulated(), reason="the simulator is on in this process")
def test_gpu_shapes_cover_the_work():
    blocks, threads = _cuda_launch.for_items(10_000, None)
    assert blocks * threads >= 10_000 and threads == 256
    assert _cuda_launch.for_chunks(4096, None) == (4096, 256)
    assert _cuda_launch.for_chunks(10**9, None)[0] == 65535
    assert _cuda_launch.chunk_bytes(None) == _cuda_launch.GPU_CHUNK_BYTES


@pytest.mark.skipif(_cuda_launch.available(), reason="CUDA can run here")
def test_unavailable_reason_says_what_to_do():
    reason = _cuda_launch.unavailable_reason()
    assert "NUMBA_ENABLE_CUDASIM" in reason
    assert os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" or "after numba" in reason


@pytest.mark.parametrize("bad", [(0, 32), (1, 0), (1, 2048), (3,), "x"])
def test_bad_launch_shapes_are_invalid_argument(bad):
    from fluidspec.spec.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError):
        _cuda_launch.for_items(10, bad)
    with pytest.raises(InvalidArgumentError):
        _cuda_launch.for_chunks(10, bad)


def test_bad_chunk_is_invalid_argument():
    from fluidspec.spec.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError):
        _cuda_launch.chunk_bytes(0)
