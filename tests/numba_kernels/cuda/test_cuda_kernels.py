"""fluidspec.numba_kernels.cuda._kernels: the kernels themselves, against numpy slicing as the expected result.

The copy kernels must give the same bytes for every launch shape, chunk size, destination
offset, source offset and length, with the 8-byte word path on and off (the word path is only
an optimisation; FMT-REC-005 payloads sit at arbitrary offsets).  The headers kernel is checked
against the CPU headers kernel and the reference (FMT-REC-001..004, FMT-DESC-001), including a
negative dim, which must be a 10-byte varint.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import LAUNCHES, require_cuda
from hypothesis import given
from hypothesis import strategies as st

require_cuda()

from numba import cuda  # noqa: E402

from fluidspec.numba_kernels.cpu._headers import write_headers as cpu_write_headers  # noqa: E402
from fluidspec.numba_kernels.cuda import _device as _cuda_device  # noqa: E402
from fluidspec.numba_kernels.cuda import _encode as _cuda_encode  # noqa: E402
from fluidspec.numba_kernels.cuda import _kernels as _cuda  # noqa: E402

pytestmark = pytest.mark.cuda


def _copy(dst_len, d, src_host, m, launch, chunk, words):
    dst = cuda.to_device(np.full(dst_len, 0xEE, np.uint8))
    src = cuda.to_device(src_host)
    dst_w, dst_ok = _cuda_device.word_view(dst)
    src_w, src_ok = _cuda_device.word_view(src)
    use = words and dst_ok and src_ok
    _cuda.copy_kernel[launch](dst, dst_w, d, src, src_w, m, chunk, use)
    return dst.copy_to_host(), use


def test_word_views_are_usable_for_fresh_allocations():
    """Otherwise the word path below would silently never run."""
    _, ok = _cuda_device.word_view(cuda.device_array(64, np.uint8))
    assert ok


@pytest.mark.parametrize("words", [True, False])
def test_copy_kernel_every_offset_and_length(words):
    rng = np.random.default_rng(1)
    src = rng.integers(0, 256, 29, dtype=np.uint8)
    for d in range(9):
        for m in (0, 1, 7, 8, 9, 15, 16, 17, 29):
            got, used_words = _copy(48, d, src, m, (2, 4), 13, words)
            assert used_words == words
            want = np.full(48, 0xEE, np.uint8)
            want[d:d + m] = src[:m]
            assert got.tobytes() == want.tobytes(), (d, m)


@pytest.mark.parametrize("launch", LAUNCHES)
def test_copy_kernel_launch_shape_independent(launch):
    src = np.arange(100, dtype=np.uint8)
    got, _ = _copy(120, 5, src, 100, launch, 16, True)
    assert got[5:105].tobytes() == src.tobytes()
    assert (got[:5] == 0xEE).all() and (got[105:] == 0xEE).all()


@given(
    sizes=st.lists(st.integers(0, 40), max_size=8),
    gaps=st.lists(st.integers(0, 9), min_size=8, max_size=8),
    launch=st.sampled_from(LAUNCHES),
    chunk=st.sampled_from([1, 3, 8, 16, 4096]),
)
def test_gather_kernel_matches_numpy(sizes, gaps, launch, chunk):
    """Ranges at unaligned source offsets into unaligned destination offsets, one launch."""
    rng = np.random.default_rng(len(sizes))
    nbytes = np.array(sizes, np.int64)
    src_off = np.cumsum([0, *[s + g for s, g in zip(sizes, gaps, strict=False)]])[:-1]
    dst_off = np.cumsum([3, *[s + g // 2 for s, g in zip(sizes, gaps, strict=False)]])[:-1]
    src = rng.integers(0, 256, int(src_off[-1] + nbytes[-1]) + 1 if sizes else 1, dtype=np.uint8)
    dst_len = int(dst_off[-1] + nbytes[-1]) + 5 if sizes else 5
    dst = cuda.to_device(np.zeros(dst_len, np.uint8))
    _cuda_device.gather(dst, dst_off.astype(np.int64), cuda.to_device(src),
                        src_off.astype(np.int64), nbytes, launch=launch, chunk=chunk)
    want = np.zeros(dst_len, np.uint8)
    for d, s, m in zip(dst_off, src_off, nbytes, strict=True):
        want[d:d + m] = src[s:s + m]
    assert dst.copy_to_host().tobytes() == want.tobytes()


@pytest.mark.parametrize("launch", LAUNCHES)
def test_headers_kernel_matches_cpu_headers(launch):
    """FMT-REC-001..004 and FMT-DESC-001, one thread per tensor, incl. a -1 dim (10 bytes)."""
    codes = np.array([5, 3, 22, 0], np.int64)
    dims = np.array([2, 3, 300, -1, 7, 1, 2**40], np.int64)
    dims_off = np.array([0, 2, 3, 4, 7], np.int64)
    lvl_off = np.array([0, 1, 1, 1, 3], np.int64)
    lvl_len = np.array([3, 2, 3], np.int64)
    lod_vals = np.array([0, 1, 2, 0, 2, 0, 5, 7], np.uint64)
    meta = type("M", (), {})()
    meta.codes, meta.dims, meta.dims_off = codes, dims, dims_off
    meta.lvl_off, meta.lvl_len, meta.lod_vals = lvl_off, lvl_len, lod_vals
    plan = _cuda_encode.Plan(meta, 4)
    hdr_len = plan.data_off - plan.hdr_pos
    arena = np.zeros(int(hdr_len.sum()), np.uint8)
    pos = np.zeros(5, np.int64)
    np.cumsum(hdr_len, out=pos[1:])
    cpu_write_headers(arena, pos, codes, dims, dims_off, lvl_off, lvl_len, lod_vals,
                      plan.desc_len)
    dst = cuda.to_device(np.zeros(int(hdr_len.sum()), np.uint8))
    plan.hdr_pos = pos[:-1]
    _cuda_encode.write_headers(dst, plan, launch)
    got = dst.copy_to_host()
    assert got.tobytes() == arena.tobytes()
    # the -1 dim of tensor 2: tag 0x10 then ten bytes ff.. 01
    assert bytes([0x10] + [0xFF] * 9 + [0x01]) in got.tobytes()
