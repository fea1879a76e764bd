"""``numba_kernels.io``: the eight save/load APIs on fluidspec's Program / Executor / Scope.

Same functions and signatures as ``reference.io``; the implementation is numba_kernels' own
(columnar selection, header and parse kernels, bulk file I/O) — see ``numba_kernels._io``.
"""

from fluidspec.numba_kernels._inference import load_inference_model, save_inference_model
from fluidspec.numba_kernels._io import (
    is_parameter,
    is_persistable,
    load_params,
    load_persistables,
    load_vars,
    save_params,
    save_persistables,
    save_vars,
)

__all__ = [
    "save_vars",
    "load_vars",
    "save_params",
    "load_params",
    "save_persistables",
    "load_persistables",
    "save_inference_model",
    "load_inference_model",
    "is_parameter",
    "is_persistable",
]
