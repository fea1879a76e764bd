"""``fluid.core``: the names Fluid scripts reach through the C++ core module.

``core.VarDesc.VarType`` is the variable-kind and element-type enum (API-MODEL-003);
``LoDTensor``, ``SelectedRows``, ``Scope`` and the places are the runtime value types.
"""

from fluidspec.reference._executor import CPUPlace, CUDAPlace
from fluidspec.reference._framework import VarDesc
from fluidspec.reference._scope import LoDTensor, Scope, ScopeVar, SelectedRows

__all__ = ["VarDesc", "LoDTensor", "SelectedRows", "Scope", "ScopeVar", "CPUPlace", "CUDAPlace"]
