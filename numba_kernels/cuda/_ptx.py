"""``python -m fluidspec.numba_kernels.cuda._ptx``: compile every CUDA kernel to PTX for a real GPU target.

The simulator runs kernels as plain Python, so it accepts what a GPU compiler rejects (Python
objects, untyped constructs).  ``cuda.compile_ptx`` types and compiles the
very same source (``_cuda.KERNEL_SIGNATURES``) for compute capability 9.0 without a GPU or a
driver; it needs the CUDA toolkit wheels (``pip install 'numba-cuda[cu13]'``; scripts/test.sh
keeps them in ``.venv-cu13``) and the simulator off.  Exit status 1 if any kernel fails.
"""

from __future__ import annotations

import sys
import time

CC = (9, 0)


def main() -> int:
    from numba import cuda

    from fluidspec.numba_kernels.cuda import _kernels as _cuda

    failed = 0
    for name, fn, sig in _cuda.KERNEL_SIGNATURES:
        start = time.perf_counter()
        try:
            ptx, _ = cuda.compile_ptx(fn, sig, cc=CC)
        except Exception as exc:  # report every kernel, then fail
            failed += 1
            print(f"ptx {name}: FAILED for cc {CC[0]}.{CC[1]}: {type(exc).__name__}: {exc}")
            continue
        print(f"ptx {name}: ok, cc {CC[0]}.{CC[1]}, {len(ptx)} chars, "
              f"{time.perf_counter() - start:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
