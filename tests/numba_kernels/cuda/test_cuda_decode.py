"""fluidspec.numba_kernels.cuda._decode: a stream (host bytes or a device buffer) into device arrays.

Clauses checked: FMT-COMB-001 (every record, in order), FMT-REC-005 (shape incl. 0-d and
zero-size, C-order bytes), FMT-DTYPE-001 (dtype by code, BF16 -> bfloat16), FMT-REC-002 (LoD
returned), FMT-SAFE-001 / FMT-COMB-002 / FMT-REC-001 (bad input: the CPU path's taxonomy errors,
with file offsets), and the decoded arrays' alignment (each starts on a 256-byte boundary so
typed GPU access is legal).
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from cuda_cases import CHUNKS, LAUNCHES, require_cuda, tensor_lists
from hypothesis import given
from hypothesis import strategies as st

require_cuda()

from numba import cuda  # noqa: E402

from fluidspec.numba_kernels import cuda as gpu  # noqa: E402
from fluidspec.numba_kernels.cuda import _device as _cuda_device  # noqa: E402
from fluidspec.reference import codec as oracle  # noqa: E402
from fluidspec.spec.errors import BadVersionError, TrailingBytesError, TruncatedError  # noqa: E402

pytestmark = pytest.mark.cuda


def _check(decoded, arrays, lods):
    assert len(decoded) == len(arrays)
    for (dev, lod), a, want_lod in zip(decoded, arrays, lods, strict=True):
        host = dev.copy_to_host()
        assert host.dtype == a.dtype and host.shape == a.shape
        assert host.tobytes() == a.tobytes()
        assert lod == [list(level) for level in (want_lod or [])]


@given(case=tensor_lists(), launch=st.sampled_from(LAUNCHES), chunk=st.sampled_from(CHUNKS),
       on_device=st.booleans())
def test_decode_round_trips_reference_bytes(case, launch, chunk, on_device):
    """The reference's bytes decode to the original arrays and LoDs, from host or device."""
    arrays, lods = case
    blob = oracle.encode_combined(list(zip(arrays, lods, strict=True)))
    src = cuda.to_device(np.frombuffer(blob, np.uint8)) if on_device else blob
    _check(gpu.decode(src, launch=launch, chunk=chunk), arrays, lods)


def test_device_round_trip_never_leaves_the_device_for_payload():
    """encode -> decode entirely on device buffers; equals the input."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((4, 6)).astype(np.float32), np.arange(9, dtype=np.int64)]
    packed = gpu.encode([cuda.to_device(a) for a in arrays], [[[0, 1, 4]], None])
    _check(gpu.decode(packed), arrays, [[[0, 1, 4]], None])


def test_decoded_arrays_are_aligned_views_of_one_arena():
    blob = oracle.encode_combined([(np.arange(3, dtype=np.int8), None),
                                   (np.arange(5, dtype=np.float64), None)])
    out = gpu.decode(blob)
    base = _cuda_device.address(out[0][0])
    # The simulator's arena is a numpy array (16-byte aligned); cudaMalloc gives >= 256.
    if not gpu.simulated():
        assert base % 256 == 0
    assert (_cuda_device.address(out[1][0]) - base) % 256 == 0


def test_bf16_decodes_to_bfloat16():
    """FMT-DTYPE-001/003: code 22 -> ml_dtypes.bfloat16."""
    a = np.arange(4, dtype=np.float32).astype(ml_dtypes.bfloat16)
    [(dev, _)] = gpu.decode(oracle.encode_combined([(a, None)]))
    assert dev.copy_to_host().dtype == np.dtype(ml_dtypes.bfloat16)


def test_truncated_input_names_the_offset():
    """FMT-SAFE-001: the same TRUNCATED the CPU path raises, before any device work."""
    blob = oracle.encode_combined([(np.arange(4, dtype=np.float32), None)])
    with pytest.raises(TruncatedError) as err:
        gpu.decode(cuda.to_device(np.frombuffer(blob[:-1], np.uint8)), path="x.pdparams")
    assert err.value.path == "x.pdparams" and err.value.offset is not None


def test_count_checks_trailing_bytes():
    """FMT-COMB-002: with a record count, extra bytes are TRAILING_BYTES."""
    blob = oracle.encode_combined([(np.arange(2, dtype=np.int32), None)]) + b"\0"
    with pytest.raises(TrailingBytesError):
        gpu.decode(blob, count=1)


def test_bad_version_is_bad_version():
    """FMT-REC-001."""
    blob = bytearray(oracle.encode_combined([(np.arange(2, dtype=np.int32), None)]))
    blob[0] = 1
    with pytest.raises(BadVersionError):
        gpu.decode(bytes(blob))


def test_device_buffer_must_be_contiguous_uint8():
    """INVALID_ARGUMENT, not a numba error, for a buffer the scatter cannot read as bytes."""
    from fluidspec.spec.errors import InvalidArgumentError

    blob = np.frombuffer(oracle.encode_combined([(np.arange(2, dtype=np.int32), None)]), np.uint8)
    for bad in (cuda.to_device(np.repeat(blob, 2))[::2], cuda.to_device(blob.view(np.int8)),
                cuda.to_device(blob.reshape(2, -1))):
        with pytest.raises(InvalidArgumentError):
            gpu.decode(bad)
