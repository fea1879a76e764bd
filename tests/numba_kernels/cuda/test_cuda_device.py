"""fluidspec.numba_kernels.cuda._device: device-array detection, word views, metadata tables, arena tags.

No clause of its own: these are the plumbing under the byte tests (test_cuda_kernels,
test_cuda_encode, test_cuda_decode).
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import require_cuda

require_cuda()

from numba import cuda  # noqa: E402

from fluidspec.numba_kernels.cuda import _device as _cuda_device  # noqa: E402
from fluidspec.spec.errors import InvalidArgumentError  # noqa: E402

pytestmark = pytest.mark.cuda


def test_device_or_host():
    dev = cuda.to_device(np.arange(4))
    assert _cuda_device.is_device_array(dev)
    assert not _cuda_device.is_device_array(np.arange(4))
    assert _cuda_device.as_device_or_host(dev) == (dev, True)
    host, on_dev = _cuda_device.as_device_or_host([1, 2])
    assert not on_dev and host.tolist() == [1, 2]


def test_word_view_needs_8_byte_alignment_and_a_whole_word():
    buf = cuda.device_array(64, np.uint8)
    words, ok = _cuda_device.word_view(buf)
    assert ok and words.shape == (8,)
    assert not _cuda_device.word_view(buf[1:])[1]  # base address off by one
    assert not _cuda_device.word_view(buf[:7])[1]  # no whole word


def test_int64_tables_round_trip_in_one_copy():
    parts = [np.arange(3), np.zeros(0, np.int64), np.array([7, -1])]
    got = _cuda_device.int64_tables([p.astype(np.int64) for p in parts], 0)
    assert [t.copy_to_host().tolist() for t in got] == [[0, 1, 2], [0], [7, -1]]


def test_arena_tags():
    arena = cuda.device_array(32, np.uint8)
    views = [arena[0:8], arena[16:24]]
    _cuda_device.tag_arena_views(views, arena, [0, 16])
    assert _cuda_device.arena_of(views[1]) == (arena, 16)
    assert _cuda_device.arena_of(arena[0:8]) is None  # a new view object carries no tag


def test_strided_device_array_is_refused():
    with pytest.raises(InvalidArgumentError):
        _cuda_device.device_bytes(cuda.to_device(np.zeros((4, 4)))[:, ::2], "v")


def test_bytewise_switch_turns_the_word_path_off(monkeypatch):
    monkeypatch.setenv("FLUIDSPEC_CUDA_BYTEWISE", "1")
    assert not _cuda_device.word_view(cuda.device_array(64, np.uint8))[1]
