"""The adapter interface, and the in-process adapter for Fluid-compatible Python implementations.

An adapter is how the suite drives one implementation.  The whole interface is one method,
``run(program, scope, call)``: build the program from its abstract description, make a fresh
scope holding ``scope``'s values, call one of the eight APIs, and report what happened (result or
taxonomy error, warnings, and every value in the scope afterwards).  Nothing carries over between
runs except files on disk — that keeps adapters trivial to write, makes a subprocess adapter
restartable after a crash (PROTO-ERR-003), and lets a check replay any step on any adapter.

``FluidAdapter`` implements it for any module tree shaped like Fluid 1.x (``from fluidspec import reference as
fluid``): the data model (Program, Scope, Executor) from one module, the eight APIs from an ``io``
module that may belong to another implementation (``numba_kernels.io`` works on the reference's
objects).
"""

from __future__ import annotations

import importlib
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from fluidspec.conformance._case import (
    APIS,
    PROTOCOL,
    Call,
    OpSpec,
    Outcome,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    VarSpec,
)

__all__ = ["Adapter", "AdapterUnavailable", "FluidAdapter", "error_of"]


class AdapterUnavailable(Exception):
    """The implementation cannot be used here (not installed, not written yet); checks skip."""


@runtime_checkable
class Adapter(Protocol):
    """What the suite needs from an implementation under test."""

    #: Short name used in reports (``reference``, ``numba``, ``cmd:…``).
    name: str

    def hello(self) -> dict[str, Any]:
        """``{"protocol", "implementation": {"name", "version"}, "apis": [...]}``.

        Raises ``AdapterUnavailable`` when the implementation cannot run here.
        """
        ...

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        """Build ``program`` and a fresh scope with ``scope``'s values, call the API once."""
        ...

    def close(self) -> None:
        """Release processes or other resources."""
        ...


def error_of(exc: BaseException) -> dict[str, Any]:
    """The protocol error object for an exception (PROTO-ERR-001)."""
    to_dict = getattr(exc, "to_dict", None)
    if callable(to_dict) and isinstance(getattr(exc, "id", None), str):
        return dict(to_dict())
    return {
        "error": "UNCLASSIFIED",
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)[-6:]),
    }


class FluidAdapter:
    """Drives a Fluid-1.x-shaped Python implementation in this process.

    ``model`` is the module with ``Program``, ``Scope``, ``Executor``, ``CPUPlace`` and
    ``scope_guard`` (e.g. ``reference``); ``io`` has the eight APIs (e.g. ``numba_kernels.io``).
    Both are given as import paths and imported on first use, so a missing implementation shows
    up as ``AdapterUnavailable`` rather than an import error at discovery.
    """

    def __init__(self, name: str, model: str, io: str, *, place: str = "cpu") -> None:
        self.name = name
        self._model_path = model
        self._io_path = io
        self._place = place
        self._fluid: Any = None
        self._io: Any = None

    # -- the Adapter protocol -------------------------------------------------------------

    def hello(self) -> dict[str, Any]:
        self._load()
        version = getattr(self._fluid, "__version__", None) or _dist_version("fluidspec")
        apis = [api for api in APIS if callable(getattr(self._io, api, None))]
        return {
            "protocol": PROTOCOL,
            "implementation": {"name": self.name, "version": version},
            "apis": apis,
            "capabilities": ["selected_rows", "fluid_objects", "protocol_server",
                             "fluid_1_inference_options"],
        }

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        self._load()
        fluid = self._fluid
        the_scope = fluid.Scope()
        warned: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                prog, pvars = self._build(program)
                for name, value in scope.items():
                    self._set_value(the_scope, name, value, pvars.get(name))
                with fluid.scope_guard(the_scope):
                    result = self._call(prog, pvars, call)
                ok, error = True, None
            except Exception as exc:  # every failure is reported, never raised (PROTO-ERR-001)
                ok, error, result = False, error_of(exc), {}
            warned = [str(w.message) for w in caught]
        after = self._read_scope(the_scope, program, scope)
        return Outcome(ok=ok, result=result, scope=after, warnings=warned, error=error)

    def close(self) -> None:
        pass

    # -- loading ----------------------------------------------------------------------------

    def _load(self) -> None:
        if self._io is not None:
            return
        try:
            fluid = importlib.import_module(self._model_path)
            io = importlib.import_module(self._io_path)
        except ImportError as exc:
            raise AdapterUnavailable(f"{self.name}: cannot import ({exc})") from None
        missing = [n for n in ("Program", "Scope", "Executor", "scope_guard") if not hasattr(fluid, n)]
        if missing:
            raise AdapterUnavailable(f"{self.name}: {self._model_path} lacks {missing}")
        if not any(callable(getattr(io, api, None)) for api in APIS):
            raise AdapterUnavailable(f"{self.name}: {self._io_path} has none of the eight APIs")
        self._fluid, self._io = fluid, io

    def _place_obj(self) -> Any:
        if self._place == "cuda":
            return self._fluid.CUDAPlace(0)
        return self._fluid.CPUPlace()

    # -- building programs (PROTO-PROG-001) -------------------------------------------------

    def _build(self, spec: ProgramSpec) -> tuple[Any, dict[str, Any]]:
        fluid = self._fluid
        prog = fluid.Program()
        for parent in spec.blocks[1:]:
            _create_block(prog, parent)
        pvars: dict[str, Any] = {}
        for v in spec.vars:
            block = prog.block(v.block)
            pvars[v.name] = self._create_var(block, v)
        for op in spec.ops:
            self._append_op(prog, op, pvars)
        return prog, pvars

    def _vartype(self, kind: str) -> Any:
        return getattr(self._fluid.core.VarDesc.VarType, kind)

    def _create_var(self, block: Any, v: VarSpec) -> Any:
        kw: dict[str, Any] = {"name": v.name}
        if v.shape is not None:
            kw["shape"] = list(v.shape)
        if v.dtype is not None:
            kw["dtype"] = v.dtype
        if v.is_parameter:
            return block.create_parameter(**kw)
        kw.update(type=self._vartype(v.kind), persistable=v.persistable)
        if v.kind in ("LOD_TENSOR", "LOD_TENSOR_ARRAY"):
            kw["lod_level"] = v.lod_level
        return block.create_var(**kw)

    def _append_op(self, prog: Any, op: OpSpec, pvars: dict[str, Any]) -> None:
        block = prog.block(op.block)

        def var_for(name: str) -> Any:
            if name not in pvars:
                pvars[name] = block.create_var(name=name, dtype="float32", shape=[-1])
            return pvars[name]

        attrs = {
            k: (prog.block(v["block"]) if isinstance(v, dict) and "block" in v else v)
            for k, v in op.attrs.items()
        }
        block.append_op(
            type=op.type,
            inputs={slot: [var_for(n) for n in names] for slot, names in op.inputs.items()},
            outputs={slot: [var_for(n) for n in names] for slot, names in op.outputs.items()},
            attrs=attrs,
        )

    # -- values ----------------------------------------------------------------------------

    def _set_value(self, scope: Any, name: str, value: Value, var: Any) -> None:
        holder = scope.var(name)
        place = self._place_obj()
        if isinstance(value, SelectedRowsValue):
            sr = holder.get_selected_rows()
            sr.set_rows([int(r) for r in value.rows])
            sr.set_height(int(value.height))
            sr.get_tensor().set(np.asarray(value.array), place)
            return
        tensor = holder.get_tensor()
        tensor.set(np.asarray(value.array), place)
        if value.lod:
            tensor.set_lod([list(level) for level in value.lod])

    def _read_scope(
        self, scope: Any, program: ProgramSpec, initial: Mapping[str, Value]
    ) -> dict[str, Value]:
        kinds = {v.name: v.kind for v in program.vars}
        names = list(dict.fromkeys([*initial, *(v.name for v in program.vars), *_scope_names(scope)]))
        out: dict[str, Value] = {}
        for name in names:
            try:
                value = self._get_value(scope, name, kinds.get(name), initial.get(name))
            except Exception:  # a holder of another kind, or nothing there
                value = None
            if value is not None:
                out[name] = value
        return out

    def _get_value(self, scope: Any, name: str, kind: str | None, before: Value | None) -> Value | None:
        holder = scope.find_var(name)
        if holder is None:
            return None
        if kind == "SELECTED_ROWS" or isinstance(before, SelectedRowsValue):
            sr = holder.get_selected_rows()
            tensor = sr.get_tensor()
            if not _initialized(tensor):
                return None
            return SelectedRowsValue(_to_numpy(tensor), list(map(int, sr.rows())), int(sr.height()))
        if kind not in (None, "LOD_TENSOR"):
            return None
        tensor = holder.get_tensor()
        if not _initialized(tensor):
            return None
        lod = [list(map(int, level)) for level in (tensor.lod() or [])]
        return TensorValue(_to_numpy(tensor), lod)

    # -- calls (PROTO-RUN-002, PROTO-RUN-003) -----------------------------------------------

    def _call(self, prog: Any, pvars: dict[str, Any], call: Call) -> dict[str, Any]:
        io = self._io
        fn: Callable[..., Any] | None = getattr(io, call.api, None)
        if call.api not in APIS or fn is None:
            raise _Unsupported(f"{self.name} does not implement {call.api}")
        exe = self._fluid.Executor(self._place_obj())
        dirname = call.get("dirname")
        if call.api in ("save_vars", "load_vars"):
            names = call.get("vars")
            chosen = None if names is None else [pvars[n] for n in names]
            filename = call.get("filename")
            if call.api == "load_vars" and dirname is None and call.get("memory") is not None:
                filename = bytes(call.get("memory"))
            out = fn(
                exe, dirname, main_program=prog, vars=chosen,
                predicate=self._predicate(call.get("predicate")), filename=filename,
            )
        elif call.api in ("save_params", "save_persistables", "load_params", "load_persistables"):
            filename = call.get("filename")
            if call.api.startswith("load") and dirname is None and call.get("memory") is not None:
                filename = bytes(call.get("memory"))
            out = fn(exe, dirname, main_program=prog, filename=filename)
        elif call.api == "save_inference_model":
            out = fn(
                dirname, list(call.get("feeded_var_names") or []),
                [pvars[n] for n in call.get("target_vars") or []], exe, main_program=prog,
                model_filename=call.get("model_filename"),
                params_filename=call.get("params_filename"),
                export_for_deployment=call.get("export_for_deployment", True),
                program_only=call.get("program_only", False),
            )
            return {"fetch_names": None if out is None else [str(n) for n in out]}
        else:  # load_inference_model
            model_filename = call.get("model_filename")
            params_filename = call.get("params_filename")
            if dirname is None:
                model_filename = call.get("model_memory")
                params_filename = call.get("params_memory")
            program, feeds, fetches = fn(
                dirname, exe, model_filename=model_filename, params_filename=params_filename
            )
            return {
                "program": program_spec_of(program),
                "feed_target_names": [str(n) for n in feeds],
                "fetch_target_names": [str(getattr(v, "name", v)) for v in fetches],
            }
        if call.api.startswith("save") and out is not None:
            return {"memory": bytes(out)}
        return {}

    def _predicate(self, spec: Any) -> Callable[[Any], bool] | None:
        if spec is None:
            return None
        if spec == "all":
            return lambda v: True
        if spec in ("is_parameter", "is_persistable"):
            return getattr(self._io, spec)
        if isinstance(spec, Mapping) and "names" in spec:
            wanted = set(spec["names"])
            return lambda v: v.name in wanted
        raise _Unsupported(f"unknown predicate {spec!r}")


class _Unsupported(Exception):
    """Becomes UNSUPPORTED_REQUEST in the protocol (PROTO-ERR-002)."""

    id = "UNSUPPORTED_REQUEST"

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.id, "message": str(self)}


def _create_block(prog: Any, parent: int) -> None:
    """Fluid makes a block with ``_create_block`` (which also makes it current) and ``_rollback``."""
    create = getattr(prog, "_create_block", None)
    if create is None:
        raise AdapterUnavailable("the Program has no _create_block(parent_idx=...)")
    create(parent_idx=parent)
    rollback = getattr(prog, "_rollback", None)
    if callable(rollback):
        rollback()


def _scope_names(scope: Any) -> list[str]:
    for attr in ("local_var_names", "var_names"):
        fn = getattr(scope, attr, None)
        if callable(fn):
            try:
                return [str(n) for n in fn()]
            except Exception:
                return []
    return []


def _initialized(tensor: Any) -> bool:
    for attr in ("_is_initialized", "is_initialized"):
        fn = getattr(tensor, attr, None)
        if callable(fn):
            return bool(fn())
    return True


def _to_numpy(tensor: Any) -> np.ndarray:
    array = getattr(tensor, "numpy", None)
    if callable(array):
        return np.array(array(), copy=True)
    return np.array(tensor, copy=True)


def program_spec_of(program: Any) -> ProgramSpec:
    """The abstract form of a loaded Fluid-style Program (PROTO-PROG-002)."""
    blocks = [int(getattr(b, "parent_idx", -1)) for b in program.blocks]
    vars_: list[VarSpec] = []
    ops: list[OpSpec] = []
    for bi, block in enumerate(program.blocks):
        for v in block.vars.values():
            kind = _enum_name(getattr(v, "type", None)) or "LOD_TENSOR"
            try:
                shape = tuple(int(d) for d in v.shape)
            except Exception:
                shape = None
            try:
                dtype = _dtype_name(v.dtype)
            except Exception:
                dtype = None
            vars_.append(
                VarSpec(
                    name=v.name, block=bi, kind=kind, dtype=dtype, shape=shape,
                    lod_level=int(getattr(v, "lod_level", 0) or 0) if kind == "LOD_TENSOR" else 0,
                    persistable=bool(getattr(v, "persistable", False)),
                    is_parameter=type(v).__name__ == "Parameter",
                )
            )
        for op in block.ops:
            ops.append(
                OpSpec(
                    type=op.type, block=bi,
                    inputs={s: tuple(op.input(s)) for s in op.input_names},
                    outputs={s: tuple(op.output(s)) for s in op.output_names},
                    attrs={
                        k: op.attr(k) for k in getattr(op, "attr_names", ())
                        if k == "col" and isinstance(op.attr(k), (int, float, str, bool))
                    },
                )
            )
    return ProgramSpec(vars=tuple(vars_), ops=tuple(ops), blocks=tuple(blocks))


def _enum_name(value: Any) -> str | None:
    if value is None:
        return None
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    from fluidspec.spec import VarType

    try:
        return VarType(int(value)).name
    except (ValueError, TypeError):
        return str(value)


def _dtype_name(dtype: Any) -> str | None:
    if dtype is None:
        return None
    from fluidspec.spec import element_type_for_name

    try:
        row = element_type_for_name(dtype)
    except (KeyError, TypeError):
        return str(dtype)
    return row.dtype.name if row.name != "BF16" else "bfloat16"


def _dist_version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return "unknown"
