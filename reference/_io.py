"""save_vars / load_vars and the params / persistables wrappers (chapter ``selection``).

The algorithm follows Paddle 2.6.2's ``save_vars``/``load_vars`` (python/paddle/static/io.py): select the variables, drop RAW ones, then
write one file per variable or one combined stream in sorted-name order, taking each value
from the scope.  Where Paddle is unsafe this implementation is stricter, and always in the
same way: *everything is validated and encoded before the first byte is written or the first
scope value is replaced* (SEL-SAVE-008, SEL-LOAD-003).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.reference import _files
from fluidspec.reference._codec import (
    Buffer,
    decode_combined,
    decode_selected_rows,
    decode_tensor_file,
    lod_tensor_parts,
    selected_rows_parts,
)
from fluidspec.reference._framework import Parameter, Program, Variable, default_main_program
from fluidspec.reference._scope import LoDTensor, ScopeVar, SelectedRows, global_scope
from fluidspec.spec import EMPTY_SELECTION_WARNING, VarType, element_type
from fluidspec.spec.errors import (
    DtypeMismatchError,
    FluidSpecError,
    InvalidArgumentError,
    ShapeMismatchError,
    TrailingBytesError,
    UninitializedVarError,
    UnsupportedVarTypeError,
)

__all__ = [
    "EMPTY_SELECTION_WARNING",
    "is_parameter",
    "is_persistable",
    "select_vars",
    "SavePlan",
    "plan_save",
    "save_vars",
    "load_vars",
    "save_params",
    "load_params",
    "save_persistables",
    "load_persistables",
]

#: Variable kinds a save or load can store (SEL-SAVE-007).
_SAVABLE_KINDS = (VarType.LOD_TENSOR, VarType.SELECTED_ROWS)


# --------------------------------------------------------------------------------------------
# Predicates and selection (SEL-CAND-*)


def is_parameter(var: Variable) -> bool:
    """True for Parameters (SEL-CAND-003)."""
    return isinstance(var, Parameter)


def is_persistable(var: Variable) -> bool:
    """Persistable, and not a feed, fetch or reader holder (SEL-CAND-003)."""
    if var.type in (VarType.FEED_MINIBATCH, VarType.FETCH_LIST, VarType.READER):
        return False
    return bool(var.persistable)


def _valid_program(main_program: Any) -> Program:
    if main_program is None:
        return default_main_program()
    if not isinstance(main_program, Program):
        raise InvalidArgumentError(
            "main_program must be a Program or None", expected="Program",
            found=type(main_program).__name__,
        )
    return main_program


def select_vars(
    main_program: Any, vars: Iterable[Variable] | None, predicate: Callable[[Variable], Any] | None
) -> list[Variable]:
    """The selection rule (SEL-CAND-001, SEL-CAND-002).

    An explicit ``vars`` wins and is used as given; otherwise every variable of
    ``main_program.list_vars()`` that ``predicate`` accepts — all of them when it is None.
    """
    program = _valid_program(main_program)  # checked even when vars is given, as in Paddle
    if vars is not None:
        chosen = list(vars)
        for item in chosen:
            if not isinstance(item, Variable):
                raise InvalidArgumentError(
                    "vars must hold Variables", expected="Variable", found=repr(item)[:60],
                )
        return chosen
    return [v for v in program.list_vars() if predicate is None or predicate(v)]


def _check_kinds(selected: list[Variable], combined: bool) -> None:
    """SEL-SAVE-007: only LOD_TENSOR and (separate files only) SELECTED_ROWS are stored."""
    for var in selected:
        if var.type not in _SAVABLE_KINDS:
            raise UnsupportedVarTypeError(
                f"a {var.type.name} variable cannot be saved or loaded", var=var.name,
                expected="LOD_TENSOR or SELECTED_ROWS (RAW is skipped)", found=var.type.name,
            )
        if combined and var.type == VarType.SELECTED_ROWS:
            raise UnsupportedVarTypeError(
                "SelectedRows is stored only in separate files (FMT-SR-002)", var=var.name,
                expected="filename=None", found="a combined file or memory",
            )


def _without_raw(selected: list[Variable]) -> list[Variable]:
    return [v for v in selected if v.type != VarType.RAW]


def _sorted_unique(selected: list[Variable]) -> list[Variable]:
    """Combined streams: one record per name, names in code-point order (FMT-COMB-001)."""
    by_name: dict[str, Variable] = {}
    for var in selected:
        by_name.setdefault(var.name, var)
    return [by_name[name] for name in sorted(by_name)]


def _first_per_name(selected: list[Variable]) -> list[Variable]:
    seen: dict[str, Variable] = {}
    for var in selected:
        seen.setdefault(var.name, var)
    return list(seen.values())


# --------------------------------------------------------------------------------------------
# Save


def _encode_value(var: Variable, holder: ScopeVar | None, combined: bool) -> list[Buffer]:
    """The record of ``var``'s runtime value (SEL-SAVE-005), or UNINITIALIZED (SEL-SAVE-006),
    as its buffers: the payload is a view of the scope's array, written without a copy."""
    if holder is None or not holder.is_initialized():
        raise UninitializedVarError(
            "a selected variable has no value in the scope", var=var.name,
            expected="a value set, computed or loaded before saving", found="none",
        )
    value = holder._holder
    try:
        if isinstance(value, SelectedRows):
            if combined:
                raise UnsupportedVarTypeError(
                    "a SelectedRows value is stored only in separate files (FMT-SR-002)",
                    var=var.name, expected="a dense tensor", found="SelectedRows",
                )
            return selected_rows_parts(value.get_tensor()._value(var.name), value.rows(),
                                       value.height(), var=var.name)
        assert isinstance(value, LoDTensor)
        return lod_tensor_parts(value._value(var.name), value.lod(), var=var.name)
    except FluidSpecError as exc:
        raise exc.with_context(var=var.name) from None


@dataclass
class SavePlan:
    """What a save will write, fully checked and encoded (SEL-SAVE-008).

    ``stream`` is the memory-mode result; otherwise ``files`` lists (path, buffers) to write,
    each file the concatenation of its buffers.
    """

    files: list[tuple[Path, list[Buffer]]]
    stream: bytes | None = None

    def write(self) -> bytes | None:
        for target, data in self.files:
            _files.atomic_write(target, data)
        return self.stream


def plan_save(
    dirname: Any, main_program: Program | None, vars: Iterable[Variable] | None,
    predicate: Callable[[Variable], Any] | None, filename: str | None, *, stacklevel: int = 3,
) -> SavePlan | None:
    """Select, check and encode a save without writing anything; None when nothing to save."""
    if dirname is None and filename is not None:
        raise InvalidArgumentError(
            "filename needs a dirname; for memory mode leave both None (API-ARG-001)",
            expected="dirname given, or filename=None", found=f"filename={filename!r}",
        )
    to_memory = dirname is None
    combined = to_memory or filename is not None
    selected = select_vars(main_program, vars, predicate)
    if not selected:  # SEL-SAVE-002
        warnings.warn(EMPTY_SELECTION_WARNING, UserWarning, stacklevel=stacklevel)
        return None
    selected = _without_raw(selected)  # SEL-SAVE-003
    if not selected:
        return None
    _check_kinds(selected, combined)
    scope = global_scope()
    if combined:
        ordered = _sorted_unique(selected)
        parts = [part for v in ordered for part in _encode_value(v, scope.find_var(v.name), True)]
        if to_memory:
            return SavePlan([], b"".join(parts))
        root = _files.checked_dirname(dirname)
        target = _files.resolve(root, filename, what="filename")
        _files.check_writable_target(root, target)
        return SavePlan([(target, parts)])
    root = _files.checked_dirname(dirname)
    unique = _first_per_name(selected)
    _files.check_no_prefix_collisions(v.name for v in unique)
    planned: list[tuple[Path, list[Buffer]]] = []
    for var in unique:  # SEL-FILE-001
        target = _files.resolve(root, var.name, var=var.name)
        _files.check_writable_target(root, target, var=var.name)
        planned.append((target, _encode_value(var, scope.find_var(var.name), False)))
    return SavePlan(planned)


def save_vars(
    executor: Any, dirname: Any, main_program: Program | None = None,
    vars: Iterable[Variable] | None = None, predicate: Callable[[Variable], Any] | None = None,
    filename: str | None = None,
) -> bytes | None:
    """Save the selected variables' scope values (chapter ``selection``).

    ``filename=None`` writes one file per variable under ``dirname``; a ``filename`` writes
    one combined stream ``dirname/filename``; ``dirname=None`` and ``filename=None`` return
    the combined stream as bytes (SEL-FILE-003).  Returns None otherwise.  Everything is
    checked and encoded before the first byte is written (SEL-SAVE-008).
    """
    plan = plan_save(dirname, main_program, vars, predicate, filename, stacklevel=4)
    return None if plan is None else plan.write()


# --------------------------------------------------------------------------------------------
# Load


@dataclass
class _Loaded:
    var: Variable
    array: np.ndarray
    lod: list[list[int]]
    path: Any
    rows: list[int] | None = None
    height: int | None = None


def _check_shape(item: _Loaded) -> None:
    """SEL-LOAD-002: a Parameter's loaded dims match its declared dims (-1 matches any)."""
    if not isinstance(item.var, Parameter):
        return
    declared = tuple(item.var.shape)
    found = tuple(item.array.shape)
    matches = len(declared) == len(found) and all(
        d == -1 or d == f for d, f in zip(declared, found, strict=True)
    )
    if not matches:
        raise ShapeMismatchError(
            "a loaded Parameter's shape differs from its declared shape", path=item.path,
            var=item.var.name, expected=declared, found=found,
        )


def _reads_selected_rows(var: Variable) -> bool:
    """SEL-LOAD-007: the declared kind, or a SelectedRows value already in the scope (as Paddle's
    load op goes by the runtime variable)."""
    holder = global_scope().find_var(var.name)
    return var.type == VarType.SELECTED_ROWS or (
        holder is not None and isinstance(holder._holder, SelectedRows))


def _read_separate(var: Variable, path: Path) -> _Loaded:
    data = _files.read_bytes(path, var=var.name)
    if _reads_selected_rows(var):
        # Views into the bytes read; _assign copies once, so a load costs the bytes read plus the
        # values, not twice the values (SAFE-MEM-001).
        decoded = decode_selected_rows(data, path=path, var=var.name, copy=False)
        assert decoded.header is not None
        if decoded.header.end != len(data):  # FMT-COMB-003 for SelectedRows files too
            raise TrailingBytesError(
                "bytes after the SelectedRows record", path=path, offset=decoded.header.end,
                var=var.name, expected=f"end of file at byte {decoded.header.end}",
                found=f"{len(data) - decoded.header.end} more bytes",
            )
        return _Loaded(var, decoded.array, [], path, decoded.rows, decoded.height)
    tensor = decode_tensor_file(data, path=path, var=var.name, copy=False)  # see above
    return _Loaded(var, tensor.array, tensor.lod, path)


def _read_combined(ordered: list[Variable], data: Any, path: Any) -> list[_Loaded]:
    """Decode a combined stream against the sorted selection (format.md §1.6, SEL-LOAD-005)."""
    view = memoryview(data).cast("B")
    names = [v.name for v in ordered]
    declared = [None if v.dtype is None else int(v.dtype) for v in ordered]
    # Views into the bytes read, not copies: _assign copies once after every check, so a load
    # costs the bytes read plus the values (SAFE-MEM-001).
    records = decode_combined(view, len(ordered), path=path, names=names, copy=False,
                              declared_types=declared)
    for i, (var, record) in enumerate(zip(ordered, records, strict=True)):
        header = record.header
        assert header is not None
        if declared[i] is not None and declared[i] != header.data_type:
            raise DtypeMismatchError(
                f"record {i} of {len(records)} (for {len(ordered)} variables) has another element "
                f"type than its variable declares — records are matched to sorted names by position",
                path=path, offset=header.offset, var=var.name,
                expected=VarType(int(var.dtype)).name, found=element_type(header.data_type).name,
            )
    return [_Loaded(v, r.array, r.lod, path) for v, r in zip(ordered, records, strict=True)]


def _assign(item: _Loaded) -> None:
    """Put a loaded value into the global scope, reusing the holder's value object."""
    holder = global_scope().var(item.var.name)
    if item.rows is not None:
        if not isinstance(holder._holder, SelectedRows):
            holder._set_holder(SelectedRows())
        rows = holder.get_selected_rows()
        rows.get_tensor().set(item.array)
        rows.set_rows(item.rows)
        rows.set_height(item.height or 0)
        return
    if not isinstance(holder._holder, LoDTensor):
        holder._set_holder(LoDTensor())
    tensor = holder.get_tensor()
    tensor.set(item.array)
    tensor._lod = [list(level) for level in item.lod]  # validated by the decoder (FMT-LOD-003)


def load_vars(
    executor: Any, dirname: Any, main_program: Program | None = None,
    vars: Iterable[Variable] | None = None, predicate: Callable[[Variable], Any] | None = None,
    filename: Any = None,
) -> None:
    """Load the selected variables into the global scope (chapter ``selection``).

    ``filename=None`` (or ``''``, SEL-LOAD-006) reads one file per variable; a ``filename``
    reads the combined stream ``dirname/filename``; ``dirname=None`` takes the combined
    stream's bytes as ``filename``.  Nothing in the scope changes unless every selected
    variable loads and checks out (SEL-LOAD-003).
    """
    if filename == "":
        filename = None
    from_memory = dirname is None
    if from_memory and not isinstance(filename, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError(
            "without a dirname, filename must hold the bytes of a combined stream",
            expected="bytes", found=type(filename).__name__,
        )
    combined = from_memory or filename is not None
    selected = _without_raw(select_vars(main_program, vars, predicate))
    _check_kinds(selected, combined)
    if combined:
        ordered = _sorted_unique(selected)
        if not ordered and not from_memory:
            # SEL-LOAD-007: an empty save writes no file, so loading nothing needs none
            path = _files.resolve(_files.checked_dirname(dirname), filename, what="filename")
            if not path.exists():
                return None
        if from_memory:
            data, path = filename, None
        else:
            root = _files.checked_dirname(dirname)
            path = _files.resolve(root, filename, what="filename")
            data = _files.read_bytes(path)
        loaded = _read_combined(ordered, data, path)
    else:
        if not selected:
            return None
        root = _files.checked_dirname(dirname)
        unique = _first_per_name(selected)
        # SEL-PATH-001: every name is checked before the first file is opened
        paths = [_files.resolve(root, v.name, var=v.name) for v in unique]
        loaded = [_read_separate(v, path) for v, path in zip(unique, paths, strict=True)]
    for item in loaded:
        _check_shape(item)
    for item in loaded:
        _assign(item)
    return None


# --------------------------------------------------------------------------------------------
# The wrappers (SEL-CAND-003)


def save_params(executor: Any, dirname: Any, main_program: Program | None = None,
                filename: str | None = None) -> bytes | None:
    """``save_vars`` with ``predicate=is_parameter``."""
    return save_vars(executor, dirname, main_program, None, is_parameter, filename)


def load_params(executor: Any, dirname: Any, main_program: Program | None = None,
                filename: Any = None) -> None:
    """``load_vars`` with ``predicate=is_parameter``."""
    return load_vars(executor, dirname, main_program, None, is_parameter, filename)


def save_persistables(executor: Any, dirname: Any, main_program: Program | None = None,
                      filename: str | None = None) -> bytes | None:
    """``save_vars`` with ``predicate=is_persistable``."""
    return save_vars(executor, dirname, main_program, None, is_persistable, filename)


def load_persistables(executor: Any, dirname: Any, main_program: Program | None = None,
                      filename: Any = None) -> None:
    """``load_vars`` with ``predicate=is_persistable``."""
    return load_vars(executor, dirname, main_program, None, is_persistable, filename)
