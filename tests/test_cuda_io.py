"""numba_kernels._cuda_io: what the save/load APIs use when values live on the GPU.

FMT-COMB-001 (the combined stream, packed on the device, equals the reference's), FMT-REC-006
(record offsets split it into the separate-files records), FMT-REC-002 / FMT-REC-005 (load:
arrays and LoDs back, as device arrays).
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import require_cuda, tensor_lists
from hypothesis import given

require_cuda()

from numba import cuda  # noqa: E402

from numba_kernels import _cuda_io  # noqa: E402
from reference import CPUPlace, CUDAPlace  # noqa: E402
from reference import codec as oracle  # noqa: E402

pytestmark = pytest.mark.cuda


@given(case=tensor_lists())
def test_pack_to_host_is_the_combined_stream_and_splits_into_records(case):
    arrays, lods = case
    host, offsets = _cuda_io.pack_to_host([cuda.to_device(a) for a in arrays], lods)
    assert host.tobytes() == oracle.encode_combined(list(zip(arrays, lods, strict=True)))
    assert len(offsets) == len(arrays) + 1
    for i, (a, lod) in enumerate(zip(arrays, lods, strict=True)):
        assert host[offsets[i]:offsets[i + 1]].tobytes() == oracle.encode_lod_tensor(a, lod)


def test_unpack_to_device_round_trip():
    arrays = [np.arange(6, dtype=np.int32).reshape(3, 2), np.float64(4.0)]
    lods = [[[0, 1, 3]], None]
    blob = oracle.encode_combined(list(zip(arrays, lods, strict=True)))
    got = _cuda_io.unpack_to_device(blob, count=2, names=["a", "b"])
    for (dev, lod), a, want in zip(got, arrays, [[[0, 1, 3]], []], strict=True):
        assert dev.copy_to_host().tobytes() == np.asarray(a).tobytes()
        assert lod == want


def test_where_values_live():
    assert _cuda_io.any_on_device([np.zeros(2), cuda.to_device(np.zeros(2))])
    assert not _cuda_io.any_on_device([np.zeros(2)])
    assert _cuda_io.is_cuda_place(CUDAPlace(0)) and not _cuda_io.is_cuda_place(CPUPlace())
