"""save_vars / load_vars and their params / persistables wrappers (chapter ``selection``).

The pipeline: ``_select`` plans the selection over a columnar table; values come from the
global scope (API-SCOPE-001); every record is planned and checked by one ``_encode`` call
before the first byte is written (SEL-SAVE-008; what is left, copying payloads into runs, cannot
fail on a checked plan); files go through ``_files`` (one write per file, atomic replace); loads parse whole buffers with the ``_parse`` kernel and check everything before the
first scope value is replaced (SEL-LOAD-003).  Where a bulk step fails, the work is redone one
variable at a time so that the error is the one a variable-by-variable implementation meets
first — same taxonomy id, same variable.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from operator import attrgetter, is_, is_not, methodcaller
from typing import Any

import numpy as np

from fluidspec.numba_kernels import _direct, _files, _fluid, _separate, cpu, cuda
from fluidspec.numba_kernels import _selection as _select
from fluidspec.numba_kernels.arrays import decode_selected_rows, encode_selected_rows
from fluidspec.numba_kernels.cpu import no_gc
from fluidspec.spec import EMPTY_SELECTION_WARNING, VarType, element_type
from fluidspec.spec.errors import (
    DtypeMismatchError,
    FluidSpecError,
    InvalidArgumentError,
    ShapeMismatchError,
    UninitializedVarError,
    UnsupportedVarTypeError,
)


def is_parameter(var: Any) -> bool:
    """True for Parameters (SEL-CAND-003)."""
    return _fluid.kind_of(var, "Parameter")


def is_persistable(var: Any) -> bool:
    """Persistable and not a feed, fetch or reader holder (SEL-CAND-003)."""
    if int(var.type) in _select._NOT_PERSISTABLE_KINDS:
        return False
    return bool(var.persistable)


def _builtin(predicate: Any) -> int | None:
    if predicate is is_parameter:
        return _select.PARAMETERS
    if predicate is is_persistable:
        return _select.PERSISTABLES
    return None


def _scope(*objs: Any) -> Any:
    """The default scope of the Fluid namespace the caller's objects belong to (``_fluid``)."""
    return _fluid.namespace(*objs).global_scope()


# ------------------------------------------------------------------------------------ save


def _value_of(name: str, scope: Any, combined: bool) -> Any:
    """The scope value of variable ``name`` (SEL-SAVE-005): a LoDTensor or SelectedRows holder."""
    holder = scope.find_var(name)
    if holder is None or not holder.is_initialized():  # SEL-SAVE-006
        raise UninitializedVarError(
            "a selected variable has no value in the scope", var=name,
            expected="a value set, computed or loaded before saving", found="none")
    value = holder._holder
    if combined and _fluid.kind_of(value, "SelectedRows"):  # FMT-SR-002
        raise UnsupportedVarTypeError(
            "a SelectedRows value is stored only in separate files (FMT-SR-002)", var=name,
            expected="a dense tensor", found="SelectedRows")
    return value


def _collect(ordered: _select.Selection, combined: bool,
             before: Callable[[int, str], None] | None = None
             ) -> tuple[list[Any], list[Any] | None]:
    """The scope values of ``ordered``, and their arrays when the C-level passes read them
    (else None); on a problem with variable k, first surfaces any encoding error of variables
    before k (their order decides)."""
    scope = _scope(ordered.vars)
    names = ordered.names
    if before is None:  # C-level passes; per variable only when one has a problem
        holders = list(map(scope.find_var, names))
        if None not in holders:
            values = list(map(_HOLDER, holders))
            kinds = set(map(type, values))
            arrays = _tensor_arrays(values, kinds)
            if arrays is not None or (all(map(_INITIALIZED, holders)) and (
                    not combined or not any(_fluid.class_is(t, "SelectedRows") for t in kinds))):
                return values, arrays
    values: list[Any] = []
    for k, name in enumerate(names):
        try:
            if before is not None:
                before(k, name)
            values.append(_value_of(name, scope, combined))
        except FluidSpecError:
            _encode_prefix(names[:k], values)
            raise
    return values, None


_INITIALIZED = methodcaller("is_initialized")
_HOLDER, _ARRAY, _LOD = attrgetter("_holder"), attrgetter("_array"), attrgetter("_lod")


def _tensor_arrays(values: list[Any], kinds: set[type]) -> list[Any] | None:
    """Every value's array when every value is a LoDTensor holding one (initialized,
    SEL-SAVE-006), read in C-level passes instead of an ``is_initialized()`` call (two Python
    frames) per holder and a ``_value()`` call per tensor; None otherwise, also for an object
    model whose tensors keep their array elsewhere."""
    if not all(_fluid.class_is(t, "LoDTensor") for t in kinds):
        return None
    try:
        arrays = list(map(_ARRAY, values))
    except AttributeError:
        return None
    return arrays if all(map(is_not, arrays, repeat(None))) else None


def _encode_prefix(names: list[str], values: list[Any]) -> None:
    """Encode (and discard) the values before a failing variable: their errors come first."""
    for name, value in zip(names, values, strict=False):
        if _fluid.kind_of(value, "SelectedRows"):
            encode_selected_rows(value.get_tensor()._value(name), value.rows(),
                                 value.height(), name=name)
        else:
            cpu.plan([value._value(name)], [value.lod()], None, [name])


def _dense_inputs(names: list[str], values: list[Any], arrays: list[Any] | None = None
                  ) -> tuple[list[Any], list[Any]]:
    """The dense values' arrays (``arrays`` when ``_collect`` has read them) and LoDs."""
    if arrays is None:
        arrays = [value._value(name) for name, value in zip(names, values, strict=True)]
    return arrays, list(map(_LOD, values))


def save_vars(executor: Any, dirname: Any, main_program: Any = None,
              vars: Iterable[Any] | None = None, predicate: Callable[[Any], Any] | None = None,
              filename: str | None = None) -> bytes | None:
    """Save the selected variables' scope values (chapter ``selection``).

    ``filename=None`` writes one file per variable under ``dirname`` (SEL-FILE-001); a
    ``filename`` writes one combined stream there (SEL-FILE-002); ``dirname=None`` and
    ``filename=None`` return the stream as ``bytes`` (SEL-FILE-003).
    """
    return _save(dirname, main_program, vars, predicate, filename)


def _save(dirname: Any, main_program: Any, vars: Any, predicate: Any, filename: Any
          ) -> bytes | None:
    if dirname is None and filename is not None:  # SEL-SAVE-001
        raise InvalidArgumentError(
            "filename needs a dirname; for memory mode leave both None (API-ARG-001)",
            expected="dirname given, or filename=None", found=f"filename={filename!r}")
    combined = dirname is None or filename is not None
    selected = _select.select(main_program, vars, predicate, _builtin(predicate))
    if not selected:  # SEL-SAVE-002
        warnings.warn(EMPTY_SELECTION_WARNING, UserWarning, stacklevel=3)
        return None
    selected = _select.check_kinds(selected, combined)  # SEL-SAVE-003, SEL-SAVE-007
    if not selected:
        return None
    if combined:
        ordered = _select.sorted_unique(selected)  # SEL-SAVE-004
        values, arrays = _collect(ordered, True)
        names = ordered.names
        arrays, lods = _dense_inputs(names, values, arrays)
        on_device = cuda.any_on_device(arrays)
        if on_device:  # packed on the GPU, one copy to the host
            packed, _ = cuda.pack_to_host(arrays, lods, names=names)
        else:
            with no_gc():
                arrs, meta, uniform = cpu.plan(arrays, lods, None, names)
        if dirname is None:
            if on_device:
                return packed.tobytes()
            with no_gc():
                return cpu.encode_to_bytes(arrs, meta, uniform)
        root = _files.checked_dirname(dirname)
        target = os.path.join(root, *_files.safe_components(filename, "filename"))
        _check_target(root, target, None)
        if on_device:
            _files.write_file(target, packed)
        else:  # headers and the arrays themselves, one writev: no copy of the payload
            with no_gc():
                parts = cpu.encode_runs(arrs, meta, uniform)
            _files.write_chunks([target], [parts])
        return None
    root = _files.checked_dirname(dirname)
    unique = _select.first_per_name(selected)
    _check_prefixes(unique.names)
    plain = _files.plain_targets(root, unique.names)
    if plain is not None:  # every name one plain component: checked at once
        paths = plain
        values, arrays = _collect(unique, False)
    else:  # names checked in variable order, each before its value (the first error wins)
        paths = []
        checker = _files.TargetChecker(root)

        def path_of(_: int, name: str) -> None:
            target = os.path.join(root, *_files.safe_components(name))
            checker.check(target, name)
            paths.append(target)

        values, arrays = _collect(unique, False, path_of)
    chunks = _separate_records(unique.names, values, arrays)
    _files.write_chunks(paths, chunks)
    return None


def _separate_records(names: list[str], values: list[Any], arrays: list[Any] | None
                      ) -> Sequence[Any]:
    """One record per variable: dense ones in one encoder call, SelectedRows one by one
    (``arrays``: the values' arrays, when ``_collect`` has read them)."""
    dense = [i for i, v in enumerate(values) if not _fluid.kind_of(v, "SelectedRows")]
    chunks: list[Any] = [None] * len(values)
    if len(dense) == len(values):
        arrays, lods = _dense_inputs(names, values, arrays)
        if cuda.any_on_device(arrays):  # packed on the GPU, one copy to the host
            data, bounds = cuda.pack_to_host(arrays, lods, names=names)
            bounds = bounds.tolist()
            mv = memoryview(data)
            return [mv[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        return _separate.record_parts(arrays, lods, names)
    for i, (name, value) in enumerate(zip(names, values, strict=True)):  # var order decides
        if _fluid.kind_of(value, "SelectedRows"):
            chunks[i] = encode_selected_rows(value.get_tensor()._value(name), value.rows(),
                                             value.height(), name=name)
        else:
            data, _ = _separate.encode_records([value._value(name)], [value._lod], [name])
            chunks[i] = data
    return chunks


def _check_prefixes(names: list[str]) -> None:
    """SEL-PATH-002: no name may be a directory prefix of another."""
    seen = set(names)
    for name in names:
        _files.refuse_prefix_clash(name, name.split("/"), seen)


def _check_target(root: str, target: str, var: str | None) -> None:
    """SEL-PATH-002 for one target (combined files)."""
    _files.TargetChecker(root).check(target, var)


# ------------------------------------------------------------------------------------ load


class _Loaded:
    __slots__ = ("var", "name", "array", "lod", "path", "rows", "height", "owned")

    def __init__(self, var: Any, name: str, array: np.ndarray, lod: list[list[int]], path: Any,
                 rows: list[int] | None = None, height: int | None = None,
                 owned: bool = False) -> None:
        self.var, self.name, self.array, self.lod, self.path = var, name, array, lod, path
        self.rows, self.height, self.owned = rows, height, owned


def load_vars(executor: Any, dirname: Any, main_program: Any = None,
              vars: Iterable[Any] | None = None, predicate: Callable[[Any], Any] | None = None,
              filename: Any = None) -> None:
    """Load the selected variables into the global scope (chapter ``selection``).

    ``filename=None`` or ``''`` reads one file per variable (SEL-LOAD-006); a ``filename``
    reads ``dirname/filename``; ``dirname=None`` takes the stream's bytes as ``filename``.
    Nothing in the scope changes unless the whole load succeeds (SEL-LOAD-003).
    """
    if filename == "":
        filename = None
    from_memory = dirname is None
    if from_memory and not isinstance(filename, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError(
            "without a dirname, filename must hold the bytes of a combined stream",
            expected="bytes", found=type(filename).__name__)
    combined = from_memory or filename is not None
    selected = _select.select(main_program, vars, predicate, _builtin(predicate))
    selected = _select.check_kinds(selected, combined)
    if combined:
        ordered = _select.sorted_unique(selected)
        data = filename if from_memory else None  # None: _parse_combined reads the file
        path = direct = None
        if not from_memory:
            root = _files.checked_dirname(dirname)
            path = os.path.join(root, *_files.safe_components(filename, "filename"))
            if not ordered and not os.path.exists(path):  # SEL-LOAD-007: nothing was saved
                return None
        to_device = cuda.loads_to_device(executor)
        if not from_memory and len(ordered) == 1:
            direct = _read_direct(ordered, [path], True, to_device)
        if direct is not None:
            loaded, bulk = direct, None
        else:
            u8, parsed = _parse_combined(ordered, data, path, in_place=not to_device)
            loaded, bulk = None, _Bulk(ordered, u8, parsed, [path] * len(ordered),
                                       private=not from_memory)
    else:
        if not selected:
            return None
        to_device = cuda.loads_to_device(executor)
        root = _files.checked_dirname(dirname)
        unique = _select.first_per_name(selected)
        paths = [os.path.join(root, *_files.safe_components(name, "variable name"))
                 for name in unique.names]  # SEL-PATH-001 before any file is opened
        direct = _read_direct(unique, paths, False, to_device
                              ) if len(unique) <= _DIRECT_MAX_VARS else None
        loaded, bulk = (direct, None) if direct is not None else _read_separate(unique, paths)
    if bulk is not None and not to_device:
        _load_bulk(bulk)
        return None
    if bulk is not None:
        loaded = bulk.items()
    _check_shapes(loaded)
    if to_device:  # a CUDAPlace load puts values on the GPU
        cuda.move_to_device(loaded)
    if loaded:
        fluid = _fluid.namespace(loaded[0].var)  # one namespace and scope for the whole load
        scope = fluid.global_scope()
        with no_gc():
            _assign_all(loaded, fluid, scope)
    return None


class _Bulk:
    """Dense records of the chosen variables, parsed (``cpu.parse``) and type-checked but not
    yet made into arrays: ``chosen`` in record order, the file of each, and whether the buffer is
    this load's own (a file just read), so that the payloads may be moved inside it."""

    __slots__ = ("chosen", "u8", "parsed", "paths", "private")

    def __init__(self, chosen: _select.Selection, u8: np.ndarray, parsed: Any,
                 paths: list[Any], private: bool) -> None:
        self.chosen, self.u8, self.parsed, self.paths = chosen, u8, parsed, paths
        self.private = private

    def items(self) -> list[_Loaded]:
        """One ``_Loaded`` per variable, its array a view into the buffer (not owned)."""
        with no_gc():
            arrays = cpu.arrays_of(self.u8, self.parsed, False)
            lods = cpu.lods_of(self.u8, self.parsed)
            return [_Loaded(v, name, a, lod, p) for v, name, a, lod, p in
                    zip(self.chosen.vars, self.chosen.names, arrays, lods, self.paths,
                        strict=True)]


def _load_bulk(bulk: _Bulk) -> None:
    """A host load of parsed dense records with no object per variable: the arrays are made
    once, as aligned arrays the load owns (the payloads moved inside a private buffer, else one
    copy per run of records), the Parameters' shapes are checked against them (SEL-LOAD-002),
    and only then is any scope value replaced (SEL-LOAD-003)."""
    chosen, u8 = bulk.chosen, bulk.u8
    if bulk.private:
        u8.flags.writeable = True  # a view of the fresh array this load read the files into
    with no_gc():
        lods = cpu.lods_of(u8, bulk.parsed)  # before the payloads move over the LoDs
        arrays = cpu.arrays_of(u8, bulk.parsed, True, bulk.private)
    _check_parameter_shapes(chosen.vars, chosen.names, arrays, bulk.paths)
    if not arrays:
        return
    fluid = _fluid.namespace(chosen.vars[0])
    with no_gc():
        _assign_dense(chosen.names, arrays, lods, fluid, fluid.global_scope())


def _parse_combined(ordered: _select.Selection, data: Any, path: Any, in_place: bool
                    ) -> tuple[np.ndarray, Any]:
    """SEL-LOAD-005: records matched to the sorted names by position, once ``cpu.parse``
    has found exactly one per name (format.md §1.6), each of its variable's declared element
    type (SEL-LOAD-002).  ``data`` None: the file at ``path``, read here for this load alone;
    with ``in_place`` the parse then moves its payloads as it goes (``cpu.parse_in_place``)."""
    names = ordered.names
    as_declared = list(map(_DTYPE, ordered.vars))  # VarType members, or another model's enums
    parsed = None
    if data is None and in_place:
        data, parsed = _files.read_file_parsed_in_place(path, len(ordered))
    elif data is None:
        data = _files.read_file(path)
    if parsed is not None:
        u8 = data
    else:
        u8, parsed = cpu.parse(data, len(ordered), path=path, names=names,
                               declared_types=as_declared)
    codes = parsed.codes.tolist()
    if codes == as_declared:  # every type declared and equal (an IntEnum equals its code)
        return u8, parsed
    declared = [None if d is None else int(d) for d in as_declared]
    for i, code in enumerate(codes):
        if declared[i] is not None and declared[i] != code:
            raise DtypeMismatchError(
                f"record {i} of {parsed.n} (for {len(ordered)} variables) has another element "
                "type than its variable declares — records are matched to sorted names by "
                "position", path=path, offset=int(parsed.rec_off[i]), var=names[i],
                expected=VarType(declared[i]).name, found=element_type(code).name)
    return u8, parsed


_DTYPE = attrgetter("dtype")


def _read_separate(unique: _select.Selection, paths: list[str]
                   ) -> tuple[list[_Loaded] | None, _Bulk | None]:
    """SEL-LOAD-007: each file read as its variable's declared kind; bulk when all dense."""
    if _select._SELECTED_ROWS not in unique.kinds:
        try:
            u8, parsed = _separate.index_dense(paths, unique.names)
        except FluidSpecError:
            pass  # redo one by one: the first variable's error in order is the answer
        else:
            return None, _Bulk(unique, u8, parsed, paths, private=True)
    return [_read_one_separate(var, name, kind, path) for var, name, kind, path in
            zip(unique.vars, unique.names, unique.kinds, paths, strict=True)], None


def _read_one_separate(var: Any, name: str, kind: int, path: str) -> _Loaded:
    data = _files.read_file(path, name)
    if kind == _select._SELECTED_ROWS:
        array, rows, height = decode_selected_rows(data, path=path, name=name)
        return _Loaded(var, name, array, [], path, rows, height)
    array, lod = cpu.decode(data, False, 1, path=path, names=[name], whole_file=True)[0]
    return _Loaded(var, name, array, lod, path)


# Above this many variables one arena read of every file beats a stat per file first.
_DIRECT_MAX_VARS = 64
_READ_WORKERS = 4


def _read_direct(variables: _select.Selection, paths: list[str], combined: bool,
                 to_device: bool) -> list[_Loaded] | None:
    """Loads where some file is big (``_direct``): every header read and every check made
    (SEL-LOAD-002/005) before the first payload byte lands — possibly in the scope's own
    tensor — so a failing load still leaves the scope unchanged (SEL-LOAD-003).  None when no
    file is big.  Small files (and big ones ``_direct`` declines) take the whole-file path,
    in variable order, so the first variable's error wins."""
    fds: list[int] = []
    try:
        sizes = []
        try:
            for name, path in zip(variables.names, paths, strict=True):
                fds.append(_files.open_for_read(path, name))
                sizes.append(_files.regular_size(fds[-1], path, name))
        except FluidSpecError:  # a missing file: the error of a variable before it may win,
            return None  # which the variable-by-variable path finds
        if max(sizes, default=0) < _direct.DIRECT_MIN:
            return None
        items: list[_Loaded] = []
        plans: list[tuple[_Loaded, _direct.Planned]] = []
        for var, name, kind, path, fd, size in zip(variables.vars, variables.names,
                                                   variables.kinds, paths, fds, sizes,
                                                   strict=True):
            planned = _plan_direct(var, name, kind, path, fd, size, combined)
            if planned is None:
                items.append(_read_one_combined(var, name, kind, path) if combined
                             else _read_one_separate(var, name, kind, path))
                item = items[-1]
                _check_shape(item.var, item.name, item.array, item.path)
            else:
                items.append(_Loaded(var, name, None, planned.lod, path, owned=True))
                plans.append((items[-1], planned))
        _fill_direct(plans, to_device)
        return items
    finally:
        for fd in fds:
            os.close(fd)


def _plan_direct(var: Any, name: str, kind: int, path: str, fd: int, size: int, combined: bool
                 ) -> _direct.Planned | None:
    """The header of a big dense file whose every check passes, else None (whole-file path)."""
    if size < _direct.DIRECT_MIN or kind != _select._LOD_TENSOR:
        return None
    planned = _direct.plan_read(fd, path, name, size)
    if planned is None or (combined and var.dtype is not None and int(var.dtype) != planned.code):
        return None
    return planned if _shape_problem(var, planned.shape) is None else None


def _read_one_combined(var: Any, name: str, kind: int, path: str) -> _Loaded:
    chosen = _select.Selection([var], [kind], [name])
    u8, parsed = _parse_combined(chosen, _files.read_file(path), path, in_place=False)
    return _Bulk(chosen, u8, parsed, [path], private=False).items()[0]


def _fill_direct(plans: list[tuple[_Loaded, _direct.Planned]], to_device: bool) -> None:
    """Each payload into the scope's tensor when it matches, else into a fresh array.

    The fresh arrays are filled first: a read failing there (the only failures left after every
    check: an I/O error, or a file truncated in place by another program — this package's saves
    never truncate, they rename) leaves the scope untouched.  Only then are the in-place
    tensors filled; a read error among those is the one case that can leave a tensor partly
    overwritten."""
    fresh, in_place = [], []
    for item, planned in plans:
        existing = None if to_device else _fluid.existing_array(item.var, planned.dtype,
                                                                  planned.shape)
        if existing is None:
            item.array = np.empty(planned.shape, planned.dtype)
            fresh.append((item, planned))
        else:
            item.array = existing
            in_place.append((item, planned))
    _read_all(fresh)
    _read_all(in_place)


def _read_all(plans: list[tuple[_Loaded, _direct.Planned]]) -> None:
    """Several files by a few threads (``preadv`` releases the GIL); every read finishes
    before the first failure in variable order is raised."""
    if len(plans) < 2:
        for item, planned in plans:
            _direct.read_into(planned, item.array)
        return
    with ThreadPoolExecutor(min(_READ_WORKERS, len(plans))) as pool:
        futures = [pool.submit(_direct.read_into, planned, item.array, False)
                   for item, planned in plans]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


_VAR, _ITEM_NAME, _ROWS = attrgetter("var"), attrgetter("name"), attrgetter("rows")
_ITEM_ARRAY, _ITEM_PATH, _SHAPE = attrgetter("array"), attrgetter("path"), attrgetter("shape")


def _check_shapes(loaded: list[_Loaded]) -> None:
    """SEL-LOAD-002 for every item, in order (``_check_parameter_shapes``)."""
    _check_parameter_shapes(list(map(_VAR, loaded)), list(map(_ITEM_NAME, loaded)),
                            list(map(_ITEM_ARRAY, loaded)), list(map(_ITEM_PATH, loaded)))


def _check_parameter_shapes(variables: list[Any], names: list[str], arrays: list[Any],
                            paths: list[Any]) -> None:
    """SEL-LOAD-002 for every variable, in order: the declared and loaded shapes of all
    Parameters compared at once (C-level passes), and one by one only when they differ
    somewhere (a ``-1`` dim, or the first mismatch to raise)."""
    kinds = set(map(type, variables))
    parameters = {t for t in kinds if _fluid.class_is(t, "Parameter")}
    if not parameters:
        return
    if parameters == kinds:
        at: Iterable[int] = range(len(variables))
        declared, found = variables, arrays
    else:
        at = [i for i, v in enumerate(variables) if type(v) in parameters]
        declared, found = [variables[i] for i in at], [arrays[i] for i in at]
    declared_shapes, found_shapes = list(map(_SHAPE, declared)), list(map(_SHAPE, found))
    try:
        same = declared_shapes == found_shapes
    except ValueError:  # a model that declares shapes as numpy arrays
        same = False
    if same or list(map(tuple, declared_shapes)) == found_shapes:
        return  # (a model that declares shapes as lists or arrays pays for the tuples)
    for i in at:
        _check_shape(variables[i], names[i], arrays[i], paths[i])


def _check_shape(var: Any, name: str, array: Any, path: Any) -> None:
    """SEL-LOAD-002: Parameters' loaded dims equal the declared ones (-1 matches anything)."""
    declared = _shape_problem(var, tuple(array.shape))
    if declared is not None:
        raise ShapeMismatchError(
            "a loaded Parameter's shape differs from its declared shape", path=path,
            var=name, expected=declared, found=tuple(array.shape))


def _shape_problem(var: Any, found: tuple[int, ...]) -> tuple[int, ...] | None:
    """The declared shape of a Parameter that ``found`` does not match, else None."""
    if not _fluid.kind_of(var, "Parameter"):
        return None
    declared = tuple(var.shape)
    if declared == found:
        return None
    if len(declared) != len(found) or any(d not in (-1, f) for d, f in
                                          zip(declared, found, strict=True)):
        return declared
    return None


def _assign_all(loaded: list[_Loaded], fluid: Any, scope: Any) -> None:
    """``_assign`` for every item; all dense ones go through ``_assign_dense``."""
    if all(map(is_, map(_ROWS, loaded), repeat(None))):
        arrays = [item.array if item.owned else item.array.copy() for item in loaded]
        _assign_dense(list(map(_ITEM_NAME, loaded)), arrays, [item.lod for item in loaded],
                      fluid, scope)
        return
    for item in loaded:
        _assign(item, fluid, scope)


def _assign_dense(names: list[str], arrays: list[Any], lods: list[list[list[int]]],
                  fluid: Any, scope: Any) -> None:
    """Arrays the load owns into the scope's holders (SEL-LOAD-003).  When every holder already
    holds a LoDTensor (a load after the startup program, or a second load), the holders are
    found in C-level passes and only the two fields are set per variable; else ``_set_dense``
    one by one."""
    holders = list(map(scope.var, names))
    tensors = list(map(_HOLDER, holders))
    if all(_fluid.class_is(t, "LoDTensor") for t in set(map(type, tensors))):
        for tensor, array, lod in zip(tensors, arrays, lods, strict=True):
            tensor._array = array
            tensor._lod = lod  # validated by the parse kernel (FMT-LOD-003)
        return
    for holder, array, lod in zip(holders, arrays, lods, strict=True):
        _set_dense(holder, array, lod, fluid)


def _assign(item: _Loaded, fluid: Any, scope: Any) -> None:
    """SEL-LOAD-003: the value goes into the existing holder object."""
    holder = scope.var(item.name)
    array = item.array if item.owned else item.array.copy()
    if item.rows is not None:
        if not _fluid.kind_of(holder._holder, "SelectedRows"):
            holder._set_holder(fluid.core.SelectedRows())
        rows = holder.get_selected_rows()
        rows.get_tensor()._array = array
        rows.set_rows(item.rows)
        rows.set_height(item.height or 0)
        return
    _set_dense(holder, array, item.lod, fluid)


def _set_dense(holder: Any, array: Any, lod: list[list[int]], fluid: Any) -> None:
    """A dense value into ``holder``, which becomes a LoDTensor if it held something else."""
    if not _fluid.kind_of(holder._holder, "LoDTensor"):
        holder._set_holder(fluid.core.LoDTensor())
    tensor = holder.get_tensor()
    tensor._array = array  # an aligned array this load made: no second copy
    tensor._lod = lod  # validated by the parse kernel (FMT-LOD-003)


# ------------------------------------------------------------------------------- wrappers


def save_params(executor: Any, dirname: Any, main_program: Any = None,
                filename: str | None = None) -> bytes | None:
    """``save_vars`` with ``predicate=is_parameter`` (SEL-CAND-003)."""
    return _save(dirname, main_program, None, is_parameter, filename)


def load_params(executor: Any, dirname: Any, main_program: Any = None,
                filename: Any = None) -> None:
    """``load_vars`` with ``predicate=is_parameter`` (SEL-CAND-003)."""
    return load_vars(executor, dirname, main_program, None, is_parameter, filename)


def save_persistables(executor: Any, dirname: Any, main_program: Any = None,
                      filename: str | None = None) -> bytes | None:
    """``save_vars`` with ``predicate=is_persistable`` (SEL-CAND-003)."""
    return _save(dirname, main_program, None, is_persistable, filename)


def load_persistables(executor: Any, dirname: Any, main_program: Any = None,
                      filename: Any = None) -> None:
    """``load_vars`` with ``predicate=is_persistable`` (SEL-CAND-003)."""
    return load_vars(executor, dirname, main_program, None, is_persistable, filename)
