# ruff: noqa: ANN001, ANN201, ANN202  (numba kernels: argument types come from numba, not hints)
"""Selection, planned over a columnar table of the candidate variables (chapter ``selection``).

The Program's variables become three columns — kind code, persistable flag, Parameter flag —
and one kernel evaluates the two built-in predicates (SEL-CAND-003) and the kind rules
(SEL-SAVE-003 RAW dropped, SEL-SAVE-007 only LOD_TENSOR / SELECTED_ROWS, SelectedRows only in
separate files) for all of them at once.  A user predicate is a Python callable and is called in
Python, once per candidate (SEL-CAND-002).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from fluidspec.numba_kernels import _fluid
from fluidspec.numba_kernels.cpu import kernel
from fluidspec.spec import VarType
from fluidspec.spec.errors import InvalidArgumentError, UnsupportedVarTypeError

ALL, PARAMETERS, PERSISTABLES = 0, 1, 2
_LOD_TENSOR = int(VarType.LOD_TENSOR)
_SELECTED_ROWS = int(VarType.SELECTED_ROWS)
_RAW = int(VarType.RAW)
_NOT_PERSISTABLE_KINDS = (int(VarType.FEED_MINIBATCH), int(VarType.FETCH_LIST),
                          int(VarType.READER))


def _mask(kinds, persistable, parameter, mode, out):
    """``out[i]`` = candidate i passes the built-in predicate ``mode`` (SEL-CAND-003)."""
    for i in range(kinds.shape[0]):
        if mode == 0:
            out[i] = 1
        elif mode == 1:
            out[i] = parameter[i]
        else:
            k = kinds[i]
            holder = k == 9 or k == 10 or k == 15  # FEED_MINIBATCH, FETCH_LIST, READER
            out[i] = 0 if holder else persistable[i]


_mask_k = kernel(_mask)


def _first_bad_kind(kinds, combined):
    """Index of the first kind SEL-SAVE-007 refuses (RAW is skipped, SEL-SAVE-003), or -1."""
    for i in range(kinds.shape[0]):
        k = kinds[i]
        if k == 17:
            continue
        if k != 7 and k != 8:
            return i
        if combined and k == 8:
            return i
    return -1


_first_bad_kind_k = kernel(_first_bad_kind)


def columns(variables: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kinds = np.fromiter((int(v.type) for v in variables), np.int64, len(variables))
    persistable = np.fromiter((bool(v.persistable) for v in variables), np.uint8, len(variables))
    parameter = np.fromiter((_fluid.kind_of(v, "Parameter") for v in variables), np.uint8,
                            len(variables))
    return kinds, persistable, parameter


def select(program: Any, vars: Iterable[Any] | None, predicate: Callable[[Any], Any] | None,
           builtin: int | None) -> list[Any]:
    """The selection (SEL-CAND-001/002): explicit ``vars`` as given, else the candidates that
    pass ``predicate`` (``builtin`` names it when it is one of ours; None selects all)."""
    if program is None:
        program = _fluid.namespace().default_main_program()
    elif not _fluid.kind_of(program, "Program"):  # also when vars is given, as Paddle checks it first
        raise InvalidArgumentError("main_program must be a Program or None", expected="Program",
                                   found=type(program).__name__)
    if vars is not None:
        chosen = list(vars)
        for item in chosen:
            if not _fluid.kind_of(item, "Variable"):
                raise InvalidArgumentError("vars must hold Variables", expected="Variable",
                                           found=repr(item)[:60])
        return chosen
    candidates = list(program.list_vars())
    if predicate is not None and builtin is None:
        return [v for v in candidates if predicate(v)]
    kinds, persistable, parameter = columns(candidates)
    mask = np.empty(len(candidates), np.uint8)
    _mask_k(kinds, persistable, parameter, ALL if predicate is None else builtin, mask)
    return [candidates[i] for i in np.flatnonzero(mask).tolist()]


def check_kinds(selected: list[Any], combined: bool) -> list[Any]:
    """Drop RAW (SEL-SAVE-003) and refuse other kinds (SEL-SAVE-007); returns the rest."""
    kinds = np.fromiter((int(v.type) for v in selected), np.int64, len(selected))
    bad = _first_bad_kind_k(kinds, combined)
    if bad >= 0:
        var = selected[bad]
        if int(var.type) == _SELECTED_ROWS:
            raise UnsupportedVarTypeError(
                "SelectedRows is stored only in separate files (FMT-SR-002)", var=var.name,
                expected="filename=None", found="a combined file or memory")
        raise UnsupportedVarTypeError(
            f"a {VarType(int(var.type)).name} variable cannot be saved or loaded", var=var.name,
            expected="LOD_TENSOR or SELECTED_ROWS (RAW is skipped)",
            found=VarType(int(var.type)).name)
    return [v for v, k in zip(selected, kinds.tolist(), strict=True) if k != _RAW]


def first_per_name(selected: list[Any]) -> list[Any]:
    """Each name once, first occurrence, selection order (separate files, SEL-SAVE-004)."""
    first: dict[str, Any] = {}
    for v in selected:
        first.setdefault(v.name, v)
    return list(first.values())


def sorted_unique(selected: list[Any]) -> list[Any]:
    """Each name once (first occurrence), in code-point order (FMT-COMB-001, SEL-SAVE-004)."""
    first: dict[str, Any] = {}
    for v in selected:
        first.setdefault(v.name, v)
    return [first[name] for name in sorted(first)]
