"""fluidspec's independent fast implementation: numba CPU kernels for the tensor format.

Public modules: ``numba_kernels.arrays`` (encode/decode arrays), ``numba_kernels.io`` (the
eight save/load APIs).  ``warm_up()`` loads or compiles every kernel ahead of use.
"""

from fluidspec.numba_kernels._warm import warm_up

__all__ = ["warm_up"]
