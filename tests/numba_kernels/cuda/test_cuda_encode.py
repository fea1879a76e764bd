"""fluidspec.numba_kernels.cuda._encode: device-packed bytes equal the reference's and the CPU path's.

Clauses checked: FMT-COMB-001 (records back to back, in order), FMT-REC-001..005 and
FMT-DESC-001 (headers written by the CUDA headers kernel), FMT-REC-005 (0-d stays 0-d, zero-size
tensors), FMT-REC-007 (big-endian host arrays), FMT-DTYPE-002/003 (code from the dtype, uint16
as BF16), FMT-DTYPE-006 and FMT-LOD-002 (the same taxonomy errors as the CPU path).
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import CHUNKS, LAUNCHES, require_cuda, tensor_lists
from hypothesis import given
from hypothesis import strategies as st

require_cuda()

from numba import cuda  # noqa: E402

from fluidspec.numba_kernels import arrays as cpu  # noqa: E402
from fluidspec.numba_kernels import cuda as gpu  # noqa: E402
from fluidspec.reference import codec as oracle  # noqa: E402
from fluidspec.spec.errors import InvalidArgumentError, InvalidLodError, UnsupportedDtypeError  # noqa: E402

pytestmark = pytest.mark.cuda


def _packed(arrays, lods, on_device, **kw) -> bytes:
    ins = [cuda.to_device(a) if dev else a for a, dev in zip(arrays, on_device, strict=True)]
    return gpu.encode(ins, lods, **kw).copy_to_host().tobytes()


@given(case=tensor_lists(), launch=st.sampled_from(LAUNCHES), chunk=st.sampled_from(CHUNKS),
       placement=st.lists(st.booleans(), min_size=6, max_size=6))
def test_encode_matches_reference_and_cpu(case, launch, chunk, placement):
    """FMT-COMB-001, FMT-REC-001..005, FMT-DESC-001: any mix of device and host arrays."""
    arrays, lods = case
    expected = oracle.encode_combined(list(zip(arrays, lods, strict=True)))
    got = _packed(arrays, lods, placement[:len(arrays)], launch=launch, chunk=chunk)
    assert got == expected
    assert got == bytes(cpu.encode(arrays, lods))


@pytest.mark.parametrize("launch", LAUNCHES)
@pytest.mark.parametrize("chunk", CHUNKS)
def test_every_launch_shape_gives_the_same_bytes(launch, chunk):
    """The bytes never depend on the grid or the chunk size (grid-stride loops)."""
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((5, 7)).astype(np.float32), np.arange(11, dtype=np.int8),
              np.float64(2.5), np.zeros((0, 3), np.int64), rng.standard_normal(33)]
    lods = [[[0, 2, 5]], None, None, None, [[0, 1, 3], [0, 10, 20, 33]]]
    expected = oracle.encode_combined(list(zip(arrays, lods, strict=True)))
    assert _packed(arrays, lods, [True] * 5, launch=launch, chunk=chunk) == expected


def test_many_equal_tensors_uniform_plan():
    """The CPU planner's one-header shortcut for equal tensors still gives one record each."""
    arrays = [np.full((4, 4), i, np.float32) for i in range(9)]
    expected = oracle.encode_combined([(a, None) for a in arrays])
    assert _packed(arrays, None, [True] * 9) == expected


def test_unaligned_word_path_covers_every_relative_offset():
    """Payloads at every offset mod 8, sources of every length mod 8 (funnel-shift path)."""
    for pad in range(8):
        for n in range(17, 25):
            head = np.arange(pad, dtype=np.uint8)  # moves the second record's data offset
            body = (np.arange(n, dtype=np.uint8) * 37 + pad).astype(np.uint8)
            expected = oracle.encode_combined([(head, None), (body, None)])
            assert _packed([head, body], None, [True, True], launch=(2, 4), chunk=16) == expected


def test_0d_and_zero_size_keep_their_dims():
    """FMT-REC-005: a 0-d tensor keeps dims = [] (26 bytes for float32), zero-size has no data."""
    got = _packed([np.float32(1.5), np.zeros((3, 0), np.int32)], None, [True, True])
    assert got == oracle.encode_combined([(np.float32(1.5), None),
                                          (np.zeros((3, 0), np.int32), None)])
    assert len(oracle.encode_combined([(np.float32(1.5), None)])) == 26


def test_uint16_is_written_as_bf16():
    """FMT-DTYPE-003: numpy uint16 -> code 22 (the desc byte after 08)."""
    got = _packed([np.arange(3, dtype=np.uint16)], None, [True])
    assert got[20:22] == bytes([0x08, 22])
    assert got == oracle.encode_combined([(np.arange(3, dtype=np.uint16), None)])


def test_big_endian_host_array_is_converted():
    """FMT-REC-007: a big-endian host array is written little-endian."""
    a = np.arange(5, dtype=">i4")
    assert _packed([a], None, [False]) == oracle.encode_combined([(a, None)])


def test_out_buffer_is_reused():
    arrays = [np.arange(10, dtype=np.float32)]
    expected = oracle.encode_combined([(arrays[0], None)])
    out = cuda.device_array(len(expected) + 5, np.uint8)
    got = gpu.encode([cuda.to_device(arrays[0])], out=out)
    assert got.shape[0] == len(expected)
    assert out.copy_to_host()[:len(expected)].tobytes() == expected


def test_invalid_lod_is_the_cpu_paths_error():
    """FMT-LOD-002: same taxonomy error as numba_kernels.arrays, naming the variable."""
    a = cuda.to_device(np.zeros((3, 2), np.float32))
    with pytest.raises(InvalidLodError) as err:
        gpu.encode([a], [[[0, 2]]], names=["w"])
    assert err.value.var == "w"
    with pytest.raises(InvalidLodError):
        cpu.encode([np.zeros((3, 2), np.float32)], [[[0, 2]]])


def test_unknown_dtype_is_unsupported():
    """FMT-DTYPE-006: a dtype outside the table is refused before anything is written."""
    with pytest.raises(UnsupportedDtypeError):
        gpu.encode([cuda.to_device(np.zeros(2, np.dtype("M8[s]")).view(np.int64))
                    .view(np.dtype("M8[s]"))])


def test_non_contiguous_device_array_is_refused():
    a = cuda.to_device(np.zeros((4, 4), np.float32))[:, ::2]
    with pytest.raises(InvalidArgumentError):
        gpu.encode([a], names=["x"])


def test_too_small_out_is_refused():
    with pytest.raises(InvalidArgumentError):
        gpu.encode([np.zeros(10, np.float32)], out=cuda.device_array(8, np.uint8))


@given(case=tensor_lists(), picks=st.lists(st.integers(0, 2), min_size=6, max_size=6),
       launch=st.sampled_from(LAUNCHES), chunk=st.sampled_from(CHUNKS))
def test_arena_views_mixed_with_other_arrays(case, picks, launch, chunk):
    """Views of one decode arena (packed by one gather), separate device arrays and host arrays,
    in reversed order so arena offsets run backwards: the bytes are still the reference's."""
    arrays, lods = case
    decoded = gpu.decode(oracle.encode_combined(list(zip(arrays, lods, strict=True))))
    ins = [decoded[i][0] if pick == 0 else cuda.to_device(a) if pick == 1 else a
           for i, (a, pick) in enumerate(zip(arrays, picks, strict=False))]
    expected = oracle.encode_combined(list(zip(arrays[::-1], lods[::-1], strict=True)))
    got = gpu.encode(ins[::-1], lods[::-1], launch=launch, chunk=chunk)
    assert got.copy_to_host().tobytes() == expected


def test_arena_views_take_one_gather_launch(monkeypatch):
    """Re-packing decoded arrays launches no per-array copy: one gather from their arena."""
    from fluidspec.numba_kernels.cuda import _encode as _cuda_encode

    arrays = [np.full((3, 5), i, np.float32) for i in range(6)]
    blob = oracle.encode_combined([(a, None) for a in arrays])
    decoded = [dev for dev, _ in gpu.decode(blob)]
    per_array, gathers = [], []
    real_copy, real_gather = _cuda_encode.copy_into, _cuda_encode.gather
    monkeypatch.setattr(_cuda_encode, "copy_into",
                        lambda *a, **k: per_array.append(1) or real_copy(*a, **k))
    monkeypatch.setattr(_cuda_encode, "gather",
                        lambda *a, **k: gathers.append(1) or real_gather(*a, **k))
    assert gpu.encode(decoded).copy_to_host().tobytes() == blob
    assert per_array == [] and gathers == [1]
