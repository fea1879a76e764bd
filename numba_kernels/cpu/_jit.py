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


@numba.extending.intrinsic
def move_bytes(typingctx: Any, buf: Any, dst: Any, src: Any, count: Any) -> Any:
    """``memmove(buf + dst, buf + src, count)`` inside a kernel, for moves within one ``uint8``
    array that may overlap; numba's slice assignment copies byte by byte through its generic
    strided loop, several times slower than the C library's ``memmove``."""
    from numba.core import cgutils

    if not (isinstance(buf, numba.types.Array) and buf.dtype == numba.types.uint8):
        return None
    sig = numba.types.void(buf, dst, src, count)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> None:
        array = context.make_array(signature.args[0])(context, builder, args[0])
        dst_at, src_at, size = (
            context.cast(builder, v, t, numba.types.intp)
            for v, t in zip(args[1:], signature.args[1:], strict=True))
        cgutils.raw_memmove(builder, builder.gep(array.data, [dst_at]),
                            builder.gep(array.data, [src_at]), size, 1)

    return sig, codegen
