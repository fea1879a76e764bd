"""The Fluid object protocol numba_kernels works against, without importing any Fluid.

numba_kernels never imports ``fluidspec.reference`` (nor Paddle): it is driven with whatever
Fluid object model the caller uses.  Kinds are told by class name along the MRO (``Parameter``,
``Variable``, ``Program``, ``SelectedRows``, ``LoDTensor`` — the names Paddle's ``fluid.framework``
and ``fluid.core`` give them), and the namespace-level defaults (``global_scope()``,
``default_main_program()``, ``Program.parse_from_string``, ``core.LoDTensor``) come from the Fluid
namespace of the objects passed in.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

# Tried in this order when a call passes no Fluid object at all (``save_vars(exe, d)`` with the
# default program): only a namespace the caller has already imported can hold the default
# program and scope the call means, so looking in ``sys.modules`` finds it without importing one.
_KNOWN_NAMESPACES = ("paddle.fluid", "fluidspec.reference")


_CLASS_NAMES: dict[type, frozenset[str]] = {}


def kind_of(obj: Any, name: str) -> bool:
    """Whether ``obj`` is a Fluid ``name`` (a class of that name, or a subclass of one)."""
    return class_is(type(obj), name)


def class_is(cls: type, name: str) -> bool:
    """Whether ``cls`` is a class named ``name`` or a subclass of one."""
    names = _CLASS_NAMES.get(cls)
    if names is None:  # remembered per class: a load of 10,000 variables asks 30,000 times
        names = _CLASS_NAMES[cls] = frozenset(c.__name__ for c in cls.__mro__)
    return name in names


def namespace(*objs: Any) -> ModuleType:
    """The Fluid namespace (``paddle.fluid``-like package) the objects' classes come from."""
    for obj in objs:
        if obj is None or isinstance(obj, (list, tuple)) and not obj:
            continue
        if isinstance(obj, (list, tuple)):
            obj = obj[0]
        found = _package_with_defaults(type(obj).__module__)
        if found is not None:
            return found
    for name in _KNOWN_NAMESPACES:
        module = sys.modules.get(name)
        if module is not None:
            return module
    raise RuntimeError("no Fluid namespace is imported: pass a Program or Variables")


def _package_with_defaults(module_name: str) -> ModuleType | None:
    parts = module_name.split(".")
    while parts:
        module = sys.modules.get(".".join(parts))
        if module is not None and hasattr(module, "global_scope") and hasattr(
                module, "default_main_program"):
            return module
        parts.pop()
    return None


def existing_array(var: Any, dtype: Any, shape: tuple[int, ...]) -> Any:
    """The scope tensor's host array of ``var`` when a load may write into it in place: same
    dtype and shape, C-contiguous, writable and aligned; else None."""
    holder = namespace(var).global_scope().find_var(var.name)
    value = getattr(holder, "_holder", None) if holder is not None else None
    if value is None or not kind_of(value, "LoDTensor"):
        return None
    array = getattr(value, "_array", None)
    if (type(array).__module__ != "numpy" or array.dtype != dtype or array.shape != shape
            or not (array.flags.c_contiguous and array.flags.writeable and array.flags.aligned)):
        return None
    return array
