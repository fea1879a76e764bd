"""``fluid.core``: the names Fluid scripts reach through the C++ core module.

``core.VarDesc.VarType`` is the variable-kind and element-type enum (API-MODEL-003);
``LoDTensor``, ``SelectedRows``, ``Scope`` and the places are the runtime value types.
"""

from reference._executor import CPUPlace, CUDAPlace
from reference._framework import VarDesc
from reference._scope import LoDTensor, Scope, ScopeVar, SelectedRows

__all__ = ["VarDesc", "LoDTensor", "SelectedRows", "Scope", "ScopeVar", "CPUPlace", "CUDAPlace"]
