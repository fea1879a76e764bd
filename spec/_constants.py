"""Constants and tables that more than one package needs (reference, numba_kernels, the CLI).

Each is stated by a clause; the clause id is next to it.  The conformance oracle keeps its own
encoder on purpose, but it may read these.
"""

from __future__ import annotations

from fluidspec.spec._types import VarType

__all__ = [
    "MAX_RANK",
    "LFS_POINTER_PREFIX",
    "EMPTY_SELECTION_WARNING",
    "PROGRAM_ONLY_WARNING",
    "TENSOR_DESC_FIELDS",
]

#: FMT-DESC-005: a TensorDesc with more dims than this is BAD_TENSOR_DESC (numpy's own limit).
MAX_RANK = 64

#: FMT-SAFE-004: how a Git LFS pointer file starts (an un-fetched checkout of a model file).
LFS_POINTER_PREFIX = b"version https://git-lfs"

#: SEL-SAVE-002: the warning an empty selection gives, worded as Paddle 2.6.2 words it
#: (python/paddle/static/io.py, ``save_vars``).
EMPTY_SELECTION_WARNING = (
    "no variable in your model, please ensure there are any variables in your model to save"
)

#: INF-SAVE-012: the warning of ``program_only=True``, worded as Fluid 1.x words it
#: (python/paddle/fluid/io.py, ``save_inference_model``).
PROGRAM_ONLY_WARNING = (
    "save_inference_model specified the param `program_only` to True, It will not save params "
    "of Program."
)

#: The field of framework.proto's ``VarType`` that holds each variable kind's tensor description
#: (fields 2..12; ``reader`` and ``tuple`` hold none of their own).
TENSOR_DESC_FIELDS: dict[int, str] = {
    VarType.LOD_TENSOR: "lod_tensor",
    VarType.SELECTED_ROWS: "selected_rows",
    VarType.LOD_TENSOR_ARRAY: "tensor_array",
    VarType.STRING: "string",
    VarType.STRINGS: "strings",
    VarType.VOCAB: "vocab",
    VarType.SPARSE_COO: "sparse_coo",
    VarType.SPARSE_CSR: "sparse_csr",
}
