# ruff: noqa: ANN001, ANN201, ANN202  (numba kernels: argument types come from numba, not hints)
"""Selection, planned over a columnar table of the candidate variables (chapter ``selection``).

The Program's variables become columns — kind code and persistable flag, each read once per
Variable — and kernels evaluate ``is_persistable`` (SEL-CAND-003) and the kind rules (SEL-SAVE-003
RAW dropped, SEL-SAVE-007 only LOD_TENSOR / SELECTED_ROWS, SelectedRows only in separate files)
for all of them at once.  ``is_parameter`` is the Variable's class, told in Python; a user
predicate is a Python callable and is called in Python, once per candidate (SEL-CAND-002).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import compress, islice
from operator import attrgetter, lt
from typing import Any

import numpy as np

from fluidspec.numba_kernels import _fluid
from fluidspec.numba_kernels.cpu import kernel
from fluidspec.spec import VarType
from fluidspec.spec.errors import InvalidArgumentError, UnsupportedVarTypeError

PARAMETERS, PERSISTABLES = 1, 2  # the built-in predicates of ``io``
_LOD_TENSOR = int(VarType.LOD_TENSOR)
_SELECTED_ROWS = int(VarType.SELECTED_ROWS)
_RAW = int(VarType.RAW)
_NOT_PERSISTABLE_KINDS = (int(VarType.FEED_MINIBATCH), int(VarType.FETCH_LIST),
                          int(VarType.READER))


def _mask(kinds, persistable, out):
    """``out[i]`` = candidate i passes ``is_persistable`` (SEL-CAND-003): persistable and not
    a feed, fetch or reader holder."""
    for i in range(kinds.shape[0]):
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


class Selection:
    """Selected variables in selection order, with what is read from each Variable once: its
    kind code, and (after ``sorted_unique`` / ``first_per_name``) its name.  Reading a Fluid
    Variable's attribute costs a property call into its VarDesc; a load of 10,000 variables
    would otherwise read each kind three times."""

    __slots__ = ("vars", "kinds", "names")

    def __init__(self, vars: list[Any], kinds: list[int], names: list[str] | None = None
                 ) -> None:
        self.vars, self.kinds, self.names = vars, kinds, names

    def __len__(self) -> int:
        return len(self.vars)

    def take(self, at: list[int], names: list[str] | None = None) -> Selection:
        """The variables at positions ``at``, in that order, with their kinds."""
        return Selection(list(map(self.vars.__getitem__, at)),
                         list(map(self.kinds.__getitem__, at)), names)


_TYPE, _NAME = attrgetter("type"), attrgetter("name")


def _kinds(variables: list[Any]) -> list[int]:
    return list(map(int, map(_TYPE, variables)))


def select(program: Any, vars: Iterable[Any] | None, predicate: Callable[[Any], Any] | None,
           builtin: int | None) -> Selection:
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
        return Selection(chosen, _kinds(chosen))
    candidates = list(program.list_vars())
    if predicate is not None and builtin is None:
        chosen = [v for v in candidates if predicate(v)]
        return Selection(chosen, _kinds(chosen))
    if builtin == PARAMETERS:  # the kinds of the Parameters only
        classes = set(map(type, candidates))
        parameters = {t for t in classes if _fluid.class_is(t, "Parameter")}
        chosen = candidates if parameters == classes else list(
            compress(candidates, map(parameters.__contains__, map(type, candidates))))
        return Selection(chosen, _kinds(chosen))
    every = Selection(candidates, _kinds(candidates))
    if predicate is None:
        return every
    n = len(candidates)
    persistable = np.fromiter((bool(v.persistable) for v in candidates), np.uint8, n)
    mask = np.empty(n, np.uint8)
    _mask_k(np.array(every.kinds, np.int64), persistable, mask)
    keep = np.flatnonzero(mask).tolist()
    return every if len(keep) == n else every.take(keep)


def check_kinds(selected: Selection, combined: bool) -> Selection:
    """Drop RAW (SEL-SAVE-003) and refuse other kinds (SEL-SAVE-007); returns the rest."""
    kinds = selected.kinds
    bad = _first_bad_kind_k(np.array(kinds, np.int64), combined)
    if bad >= 0:
        var, kind = selected.vars[bad], kinds[bad]
        if kind == _SELECTED_ROWS:
            raise UnsupportedVarTypeError(
                "SelectedRows is stored only in separate files (FMT-SR-002)", var=var.name,
                expected="filename=None", found="a combined file or memory")
        raise UnsupportedVarTypeError(
            f"a {VarType(kind).name} variable cannot be saved or loaded", var=var.name,
            expected="LOD_TENSOR or SELECTED_ROWS (RAW is skipped)", found=VarType(kind).name)
    if _RAW not in kinds:
        return selected
    return selected.take([i for i, k in enumerate(kinds) if k != _RAW])


def _first_of_each_name(names: list[str]) -> dict[str, int]:
    """Each name's first position in ``names``."""
    first = dict(zip(names, range(len(names)), strict=True))  # each name's last position
    if len(first) < len(names):  # a name selected twice: its first position instead
        first = {}
        for i, name in enumerate(names):
            first.setdefault(name, i)
    return first


def first_per_name(selected: Selection) -> Selection:
    """Each name once, first occurrence, selection order (separate files, SEL-SAVE-004)."""
    names = list(map(_NAME, selected.vars))
    first = _first_of_each_name(names)
    if len(first) == len(names):  # no name twice: the selection as it is
        return Selection(selected.vars, selected.kinds, names)
    return selected.take(list(first.values()), list(first))


def sorted_unique(selected: Selection) -> Selection:
    """Each name once (first occurrence), in code-point order (FMT-COMB-001, SEL-SAVE-004)."""
    names = list(map(_NAME, selected.vars))
    if all(map(lt, names, islice(names, 1, None))):  # strictly rising: unique and in order
        return Selection(selected.vars, selected.kinds, names)
    first = _first_of_each_name(names)
    order = sorted(first)
    return selected.take(list(map(first.__getitem__, order)), order)
