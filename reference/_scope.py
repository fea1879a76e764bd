"""Scopes and the runtime values they hold: LoDTensor and SelectedRows (API-SCOPE-*).

A Program only declares variables; the values live in a Scope, keyed by name.  Saving reads
the runtime value found here — its dtype, dims and LoD — never the declared VarDesc
(SEL-SAVE-005).  The method names are Paddle's (``get_tensor().set(array, place)``,
``np.array(tensor)``, ``tensor.lod()``, ``selected_rows.rows()``) so Fluid scripts run as is.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from fluidspec import spec
from fluidspec.reference._codec import check_lod
from fluidspec.spec.errors import (
    InvalidArgumentError,
    InvalidLodError,
    UninitializedVarError,
    UnsupportedDtypeError,
)

__all__ = [
    "LoDTensor",
    "SelectedRows",
    "ScopeVar",
    "Scope",
    "global_scope",
    "scope_guard",
]


class LoDTensor:
    """A dense array plus its LoD (offsets per level, outermost first)."""

    def __init__(self) -> None:
        self._array: np.ndarray | None = None
        self._lod: list[list[int]] = []

    def set(self, array: Any, place: Any = None) -> None:
        """Store a copy of ``array``; its dtype must be in the element-type table (FMT-DTYPE-006)."""
        value = np.array(array, copy=True)
        try:
            spec.element_type_for_dtype(value.dtype)
        except (KeyError, TypeError):
            raise UnsupportedDtypeError(
                "no element type for this dtype", expected="a dtype of FMT-DTYPE-001",
                found=str(value.dtype),
            ) from None
        self._array = value

    def _is_initialized(self) -> bool:
        return self._array is not None

    def _value(self, name: str | None = None) -> np.ndarray:
        if self._array is None:
            raise UninitializedVarError("the tensor holds no value", var=name,
                                        expected="a value set with tensor.set()", found="none")
        return self._array

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        value = self._value()
        # a device value (numba_kernels' CUDAPlace load) comes back to the host with its dtype
        host = value.copy_to_host() if hasattr(value, "copy_to_host") else value.copy()
        return host.astype(dtype) if dtype is not None else host

    def shape(self) -> list[int]:
        return list(self._array.shape) if self._array is not None else []

    def _dtype(self) -> spec.VarType:
        return spec.VarType(spec.element_type_for_dtype(self._value().dtype).code)

    def lod(self) -> list[list[int]]:
        return [list(level) for level in self._lod]

    def set_lod(self, lod: Sequence[Sequence[int]]) -> None:
        """Set the LoD, checked with Paddle's CheckLoD rule (FMT-LOD-002)."""
        levels = [[int(x) for x in level] for level in lod]
        if self._array is not None:
            dims = list(self._array.shape)
        else:  # height not known yet: only the rule's level-to-level part can be checked
            dims = [levels[-1][-1]] if levels and levels[-1] else [0]
        problem = check_lod(levels, dims)
        if problem:
            raise InvalidLodError(f"the provided LoD is invalid: {problem}",
                                  expected="a valid LoD (FMT-LOD-002)", found=levels)
        self._lod = levels

    def recursive_sequence_lengths(self) -> list[list[int]]:
        return [[b - a for a, b in zip(level, level[1:], strict=False)] for level in self._lod]

    def set_recursive_sequence_lengths(self, lengths: Sequence[Sequence[int]]) -> None:
        lod = []
        for level in lengths:
            offsets = [0]
            for n in level:
                offsets.append(offsets[-1] + int(n))
            lod.append(offsets)
        self.set_lod(lod)

    def __repr__(self) -> str:
        if self._array is None:
            return "LoDTensor(uninitialized)"
        return f"LoDTensor(dtype={self._array.dtype}, shape={list(self._array.shape)}, lod={self._lod})"


class SelectedRows:
    """A sparse row set: a value tensor, the row indices it holds, and the full height."""

    def __init__(self) -> None:
        self._tensor = LoDTensor()
        self._rows: list[int] = []
        self._height = 0

    def get_tensor(self) -> LoDTensor:
        return self._tensor

    def rows(self) -> list[int]:
        return list(self._rows)

    def set_rows(self, rows: Sequence[int]) -> None:
        self._rows = [int(r) for r in rows]

    def height(self) -> int:
        return self._height

    def set_height(self, height: int) -> None:
        self._height = int(height)

    def _is_initialized(self) -> bool:
        return self._tensor._is_initialized()

    def __repr__(self) -> str:
        return f"SelectedRows(rows={self._rows}, height={self._height}, value={self._tensor!r})"


class ScopeVar:
    """``scope.var(name)``: a named holder that becomes a LoDTensor or a SelectedRows on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._holder: LoDTensor | SelectedRows | None = None

    def _holding(self, cls: type) -> Any:
        if self._holder is None:
            self._holder = cls()
        elif not isinstance(self._holder, cls):
            raise InvalidArgumentError(
                f"variable holds a {type(self._holder).__name__}", var=self.name,
                expected=cls.__name__, found=type(self._holder).__name__,
            )
        return self._holder

    def get_tensor(self) -> LoDTensor:
        return self._holding(LoDTensor)

    def get_selected_rows(self) -> SelectedRows:
        return self._holding(SelectedRows)

    def is_initialized(self) -> bool:
        return self._holder is not None and self._holder._is_initialized()

    def _set_holder(self, holder: LoDTensor | SelectedRows) -> None:
        self._holder = holder

    def __repr__(self) -> str:
        return f"ScopeVar({self.name!r}, {self._holder!r})"


class Scope:
    """Name -> value holders; a child scope falls back to its parent when finding names."""

    def __init__(self, parent: Scope | None = None) -> None:
        self._vars: dict[str, ScopeVar] = {}
        self._parent = parent

    def var(self, name: str) -> ScopeVar:
        """The holder ``name`` of this scope, created empty if absent."""
        if not isinstance(name, str):
            raise InvalidArgumentError("a scope variable name must be a str", expected="str",
                                       found=type(name).__name__)
        if name not in self._vars:
            self._vars[name] = ScopeVar(name)
        return self._vars[name]

    def find_var(self, name: str) -> ScopeVar | None:
        """The holder ``name`` here or in a parent scope; None when there is none."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope._vars:
                return scope._vars[name]
            scope = scope._parent
        return None

    def find_local_var(self, name: str) -> ScopeVar | None:
        return self._vars.get(name)

    def local_var_names(self) -> list[str]:
        return list(self._vars)

    def erase(self, names: Sequence[str]) -> None:
        for name in names:
            self._vars.pop(name, None)

    def new_scope(self) -> Scope:
        return Scope(self)

    def drop_kids(self) -> None:
        """Children are not tracked; kept for Fluid scripts that call it."""


_process_scope = Scope()


class _GuardedScope(threading.local):
    """The scope ``scope_guard`` installed in this thread, if any.

    Per thread on purpose: Paddle 2.6.2's ``scope_guard`` swaps one process-wide global, so two
    threads that each guard their own scope see each other's.  Here each thread sees its own,
    and a thread that guards nothing sees the process's scope, as in Paddle.
    """

    scope: Scope | None = None


_guarded = _GuardedScope()


def global_scope() -> Scope:
    """The scope executors and the save/load APIs use unless told otherwise (API-SCOPE-001)."""
    return _guarded.scope or _process_scope


@contextlib.contextmanager
def scope_guard(scope: Scope) -> Iterator[None]:
    """Make ``scope`` the global scope of this thread inside the ``with``."""
    if not isinstance(scope, Scope):
        raise InvalidArgumentError("scope_guard needs a Scope", expected="Scope",
                                   found=type(scope).__name__)
    previous, _guarded.scope = _guarded.scope, scope
    try:
        yield
    finally:
        _guarded.scope = previous
