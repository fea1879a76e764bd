"""Shared pieces of the CUDA tests: the availability gate and Hypothesis strategies.

The CUDA tests run where numba can launch kernels: a real GPU, or the CUDA simulator when
``NUMBA_ENABLE_CUDASIM=1`` was set before numba was imported (``scripts/test.sh`` runs them in
their own pytest process that way).  Anywhere else they skip and say why.  Simulator time grows
with launched threads and with bytes copied (~1 µs per byte-iteration), so the cases stay small:
a few tensors of at most a few hundred elements.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from fluidspec.spec import ELEMENT_TYPES, VarType


def require_cuda() -> None:
    """Skip the calling test module unless a GPU or the simulator can run kernels."""
    try:
        from fluidspec.numba_kernels.cuda import _launch as _cuda_launch
    except ImportError as exc:  # numba-cuda or cuda-bindings missing
        pytest.skip(f"numba-cuda is not importable ({exc}); install the 'cuda' extra",
                    allow_module_level=True)
    if not _cuda_launch.available():
        pytest.skip(_cuda_launch.unavailable_reason(), allow_module_level=True)


#: every launch shape the kernels must be indifferent to, odd ones included
LAUNCHES = [(1, 1), (3, 7), (2, 32), (5, 3), (1, 64)]
#: copy piece sizes: tiny and odd ones put chunk edges everywhere, 4096 is the simulator default
CHUNKS = [1, 3, 8, 13, 64, 4096]

# numpy uint16 is written as BF16 (FMT-DTYPE-003), so the UINT16 row is decode-only.
WRITABLE_DTYPES = [row.dtype for code, row in sorted(ELEMENT_TYPES.items())
                   if code != VarType.UINT16]


def random_array(rng: np.random.Generator, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Random bytes of ``dtype`` (any bit pattern; bool kept to 0/1)."""
    count = int(np.prod(shape, dtype=np.int64))
    raw = rng.integers(0, 256, count * dtype.itemsize, dtype=np.uint8)
    if dtype == np.bool_:
        raw %= 2
    return raw.view(dtype).reshape(shape)


@st.composite
def lod_for(draw: st.DrawFn, rows: int) -> list[list[int]]:
    """A valid LoD (FMT-LOD-002) of 1 or 2 levels for a tensor of ``rows`` rows."""
    cuts = sorted(draw(st.lists(st.integers(0, rows), max_size=4)))
    last = [0, *cuts, rows]
    if draw(st.booleans()):
        return [last]
    items = len(last) - 1
    upper = sorted(draw(st.lists(st.integers(0, items), max_size=3)))
    return [[0, *upper, items], last]


@st.composite
def tensor_lists(draw: st.DrawFn, max_tensors: int = 6) -> tuple[list[np.ndarray], list]:
    """0..max_tensors small arrays of every writable dtype, 0-d to 3-d, zero-size dims, LoDs."""
    n = draw(st.integers(0, max_tensors))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    arrays: list[np.ndarray] = []
    lods: list = []
    for _ in range(n):
        dtype = np.dtype(draw(st.sampled_from(WRITABLE_DTYPES)))
        shape = tuple(draw(st.lists(st.integers(0, 6), max_size=3)))
        arrays.append(random_array(rng, dtype, shape))
        lods.append(draw(lod_for(shape[0])) if shape and draw(st.booleans()) else None)
    return arrays, lods
