"""``python -m fluidspec.cuda_check``: the GPU check of the CUDA path (``fluidspec._bench_cuda``).

Exit status 0 when every random case gives the CPU path's bytes, 1 on a byte mismatch (the first
differing byte is printed), 2 when neither a GPU nor the simulator is available.

On a GPU: ``pip install -e '.[cuda]' 'numba-cuda[cu13]'`` first (``[cu12]`` for a CUDA 12 driver);
``FLUIDSPEC_CUDA_BYTEWISE=1`` runs everything with uint8 accesses only (no aligned-word path), to
tell a word-path problem from any other.  Under the simulator use ``--tiny``.
"""

from __future__ import annotations

import sys

from fluidspec._bench_cuda import main

if __name__ == "__main__":
    sys.exit(main())
