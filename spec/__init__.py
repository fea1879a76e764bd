"""fluidspec's normative part: the clause registry, the schema, tables, constants and errors.

Everything here is shared by every implementation (``reference``, ``numba_kernels``) and by the
conformance suite; nothing here implements save/load logic.
"""

from fluidspec.spec import errors
from fluidspec.spec._capabilities import CAPABILITIES, IN_PROCESS_CLAUSES
from fluidspec.spec._clauses import TIERS, Clause, clause, clauses
from fluidspec.spec._constants import (
    EMPTY_SELECTION_WARNING,
    LFS_POINTER_PREFIX,
    MAX_RANK,
    PROGRAM_ONLY_WARNING,
    TENSOR_DESC_FIELDS,
)
from fluidspec.spec._protocol_schema import protocol_schema as protocol_schema
from fluidspec.spec._types import (
    ELEMENT_TYPES,
    VAR_KINDS,
    ElementType,
    VarType,
    element_type,
    element_type_for_dtype,
    element_type_for_name,
    is_element_type,
)
from fluidspec.spec._versions import (
    LEGACY_PROGRAM_VERSION,
    LOD_TENSOR_VERSION,
    PADDLE_2_6_2_PROGRAM_VERSION,
    SELECTED_ROWS_VERSION,
    TENSOR_VERSION,
    program_version,
)

__all__ = [
    "errors",
    "CAPABILITIES",
    "IN_PROCESS_CLAUSES",
    "TIERS",
    "Clause",
    "clause",
    "clauses",
    "EMPTY_SELECTION_WARNING",
    "LFS_POINTER_PREFIX",
    "MAX_RANK",
    "PROGRAM_ONLY_WARNING",
    "TENSOR_DESC_FIELDS",
    "ELEMENT_TYPES",
    "VAR_KINDS",
    "ElementType",
    "VarType",
    "element_type",
    "element_type_for_dtype",
    "element_type_for_name",
    "is_element_type",
    "LEGACY_PROGRAM_VERSION",
    "LOD_TENSOR_VERSION",
    "PADDLE_2_6_2_PROGRAM_VERSION",
    "SELECTED_ROWS_VERSION",
    "TENSOR_VERSION",
    "program_version",
]

