"""How every CPU kernel is compiled: one place for the numba options.

``cache=True`` everywhere (a warm process loads all kernels in ~0.2 s
instead of compiling them for seconds); ``NUMBA_CACHE_DIR`` is set by ``scripts/_setup.sh``.
No ``parallel=True``: on the machines measured the copy is memory-bound and prange did not help.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba

from fluidspec.numba_kernels import _scalar


def kernel(fn: Callable[..., Any]) -> Any:
    """Compile ``fn`` as a cached nopython CPU kernel."""
    return numba.njit(cache=True, nogil=True)(fn)


def inline(fn: Callable[..., Any]) -> Any:
    """Compile a scalar helper so that kernels inline it (the CUDA port wraps the same source)."""
    return numba.njit(inline="always", cache=True)(fn)


varint_len = inline(_scalar.varint_len)
put_varint = inline(_scalar.put_varint)
put_le = inline(_scalar.put_le)
get_le = inline(_scalar.get_le)
