"""The abstract test case: programs, values, calls and outcomes, and their JSON form.

These are the nouns of the adapter interface (``conformance._adapter``) and of the subprocess
protocol (``spec/chapters/protocol.md``, PROTO-VALUE-*, PROTO-PROG-*, PROTO-RUN-*).  Everything
here is plain data: an adapter turns it into calls on a real implementation.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import ml_dtypes
import numpy as np

__all__ = [
    "PROTOCOL",
    "APIS",
    "SAVE_APIS",
    "LOAD_APIS",
    "VarSpec",
    "OpSpec",
    "ProgramSpec",
    "TensorValue",
    "SelectedRowsValue",
    "Value",
    "Call",
    "Outcome",
    "dtype_from_name",
    "value_to_json",
    "value_from_json",
    "values_equal",
]

#: The protocol version string (PROTO-HELLO-001).
PROTOCOL = "fluidspec-conformance/1"

SAVE_APIS = ("save_vars", "save_params", "save_persistables", "save_inference_model")
LOAD_APIS = ("load_vars", "load_params", "load_persistables", "load_inference_model")
APIS = SAVE_APIS + LOAD_APIS

_ML_DTYPES = {
    "bfloat16": ml_dtypes.bfloat16,
    "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
    "float8_e5m2": ml_dtypes.float8_e5m2,
}
_INLINE_LIMIT = 1 << 20  # PROTO-VALUE-001: larger payloads may travel as files


def dtype_from_name(name: str) -> np.dtype:
    """The numpy dtype of a protocol dtype name (PROTO-VALUE-001)."""
    if name in _ML_DTYPES:
        return np.dtype(_ML_DTYPES[name])
    return np.dtype(name)


# --------------------------------------------------------------------------------------------
# Programs (PROTO-PROG-001)


@dataclass(frozen=True)
class VarSpec:
    """One variable as declared in a program."""

    name: str
    block: int = 0
    kind: str = "LOD_TENSOR"
    dtype: str | None = "float32"
    shape: tuple[int, ...] | None = ()
    lod_level: int = 0
    persistable: bool = False
    is_parameter: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "block": self.block,
            "kind": self.kind,
            "dtype": self.dtype,
            "shape": None if self.shape is None else list(self.shape),
            "lod_level": self.lod_level,
            "persistable": self.persistable or self.is_parameter,
            "is_parameter": self.is_parameter,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> VarSpec:
        shape = obj.get("shape")
        return cls(
            name=obj["name"],
            block=int(obj.get("block", 0)),
            kind=obj.get("kind", "LOD_TENSOR"),
            dtype=obj.get("dtype"),
            shape=None if shape is None else tuple(int(d) for d in shape),
            lod_level=int(obj.get("lod_level") or 0),
            persistable=bool(obj.get("persistable", False)),
            is_parameter=bool(obj.get("is_parameter", False)),
        )


@dataclass(frozen=True)
class OpSpec:
    """One operator: its type and the variable names in each input/output slot."""

    type: str
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    outputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)
    block: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "type": self.type,
            "inputs": {k: list(v) for k, v in self.inputs.items()},
            "outputs": {k: list(v) for k, v in self.outputs.items()},
            "attrs": dict(self.attrs),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> OpSpec:
        return cls(
            type=obj["type"],
            inputs={k: tuple(v) for k, v in (obj.get("inputs") or {}).items()},
            outputs={k: tuple(v) for k, v in (obj.get("outputs") or {}).items()},
            attrs=dict(obj.get("attrs") or {}),
            block=int(obj.get("block", 0)),
        )


@dataclass(frozen=True)
class ProgramSpec:
    """A program: block parents (``blocks[0] == -1``), variables and ops, in creation order."""

    vars: tuple[VarSpec, ...] = ()
    ops: tuple[OpSpec, ...] = ()
    blocks: tuple[int, ...] = (-1,)

    def var(self, name: str) -> VarSpec:
        for v in self.vars:
            if v.name == name:
                return v
        raise KeyError(name)

    def list_vars(self) -> list[VarSpec]:
        """Every variable, block by block, in creation order (Fluid's ``Program.list_vars``)."""
        return [v for b in range(len(self.blocks)) for v in self.vars if v.block == b]

    def with_vars(self, *extra: VarSpec) -> ProgramSpec:
        return replace(self, vars=self.vars + tuple(extra))

    def to_json(self) -> dict[str, Any]:
        return {
            "blocks": [{"parent": p} for p in self.blocks],
            "vars": [v.to_json() for v in self.vars],
            "ops": [o.to_json() for o in self.ops],
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ProgramSpec:
        return cls(
            vars=tuple(VarSpec.from_json(v) for v in obj.get("vars", [])),
            ops=tuple(OpSpec.from_json(o) for o in obj.get("ops", [])),
            blocks=tuple(int(b.get("parent", -1)) for b in obj.get("blocks", [{"parent": -1}])),
        )


# --------------------------------------------------------------------------------------------
# Values (PROTO-VALUE-001, PROTO-VALUE-002)


@dataclass
class TensorValue:
    """A dense tensor in a scope: its array and its LoD."""

    array: np.ndarray
    lod: list[list[int]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"TensorValue({_short(self.array)}, lod={self.lod})"


@dataclass
class SelectedRowsValue:
    """A SelectedRows in a scope: value tensor, rows and height."""

    array: np.ndarray
    rows: list[int] = field(default_factory=list)
    height: int = 0

    def __repr__(self) -> str:
        return f"SelectedRowsValue({_short(self.array)}, rows={self.rows}, height={self.height})"


Value = TensorValue | SelectedRowsValue


def _short(a: np.ndarray) -> str:
    flat = a.reshape(-1)
    body = np.array2string(flat[:8], threshold=8) + ("…" if flat.size > 8 else "")
    return f"{a.dtype.name}{list(a.shape)} {body}"


def _payload_to_json(array: np.ndarray, spill_dir: str | None) -> dict[str, Any]:
    array = np.asarray(array)
    if array.dtype.itemsize > 1 and array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    raw = array.tobytes(order="C")
    if spill_dir is not None and len(raw) > _INLINE_LIMIT:
        import tempfile

        with tempfile.NamedTemporaryFile(dir=spill_dir, delete=False, suffix=".raw") as fh:
            fh.write(raw)
        return {"file": fh.name}
    return {"data": base64.b64encode(raw).decode("ascii")}


def _payload_from_json(obj: Mapping[str, Any]) -> np.ndarray:
    dtype = dtype_from_name(obj["dtype"])
    shape = tuple(int(d) for d in obj.get("shape", []))
    if obj.get("file"):
        with open(obj["file"], "rb") as fh:
            raw = fh.read()
    else:
        raw = base64.b64decode(obj.get("data", ""))
    le = dtype.newbyteorder("<") if dtype.itemsize > 1 and dtype.byteorder != "|" else dtype
    return np.frombuffer(raw, dtype=le).astype(dtype, copy=True).reshape(shape)


def value_to_json(value: Value, spill_dir: str | None = None) -> dict[str, Any]:
    """The protocol form of a value."""
    array = np.asarray(value.array)
    out: dict[str, Any] = {"dtype": array.dtype.name, "shape": list(array.shape)}
    if isinstance(value, SelectedRowsValue):
        out.update(kind="SELECTED_ROWS", rows=[int(r) for r in value.rows], height=int(value.height))
    else:
        out.update(kind="LOD_TENSOR", lod=[[int(o) for o in level] for level in value.lod])
    out.update(_payload_to_json(array, spill_dir))
    return out


def value_from_json(obj: Mapping[str, Any]) -> Value:
    array = _payload_from_json(obj)
    if obj.get("kind") == "SELECTED_ROWS":
        return SelectedRowsValue(array, [int(r) for r in obj.get("rows", [])], int(obj["height"]))
    return TensorValue(array, [[int(o) for o in level] for level in obj.get("lod") or []])


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    # Bit equality: NaNs with the same payload are equal, -0.0 differs from 0.0.
    return a.tobytes() == b.tobytes()


def values_equal(a: Value | None, b: Value | None) -> bool:
    """Exact equality: kind, dtype, shape, bits, and LoD or rows/height."""
    if a is None or b is None:
        return a is b
    if type(a) is not type(b) or not _same_array(a.array, b.array):
        return False
    if isinstance(a, SelectedRowsValue):
        assert isinstance(b, SelectedRowsValue)
        return list(a.rows) == list(b.rows) and int(a.height) == int(b.height)
    assert isinstance(b, TensorValue)
    return [list(x) for x in a.lod] == [list(x) for x in b.lod]


# --------------------------------------------------------------------------------------------
# Calls and outcomes (PROTO-RUN-*, PROTO-ERR-*)

_BYTES_FIELDS = ("memory", "model_memory", "params_memory")


@dataclass(frozen=True)
class Call:
    """One API call: ``api`` and its protocol fields (PROTO-RUN-002)."""

    api: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api": self.api}
        for key, val in self.args.items():
            if key in _BYTES_FIELDS and val is not None:
                val = base64.b64encode(bytes(val)).decode("ascii")
            elif isinstance(val, tuple):
                val = list(val)
            out[key] = val
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Call:
        args = {k: v for k, v in obj.items() if k != "api"}
        for key in _BYTES_FIELDS:
            if args.get(key) is not None:
                args[key] = base64.b64decode(args[key])
        return cls(obj["api"], args)

    def __repr__(self) -> str:
        shown = {
            k: (f"<{len(v)} bytes>" if isinstance(v, (bytes, bytearray)) else v)
            for k, v in self.args.items()
        }
        return f"Call({self.api!r}, {shown})"


@dataclass
class Outcome:
    """What one ``run`` did: its result or error, warnings, and the scope afterwards."""

    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, Value] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None

    @property
    def error_id(self) -> str | None:
        return None if self.error is None else self.error.get("error")

    @property
    def memory(self) -> bytes:
        return bytes(self.result.get("memory") or b"")

    def describe(self) -> str:
        if self.ok:
            return f"ok (result keys {sorted(self.result)}, warnings {self.warnings})"
        err = self.error or {}
        return f"error {err.get('error')}: {err.get('message')}"

    def to_json(self, spill_dir: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok}
        if self.ok:
            result = dict(self.result)
            if result.get("memory") is not None:
                result["memory"] = base64.b64encode(bytes(result["memory"])).decode("ascii")
            if isinstance(result.get("program"), ProgramSpec):
                result["program"] = result["program"].to_json()
            out["result"] = result
            out["warnings"] = list(self.warnings)
        else:
            out["error"] = dict(self.error or {})
        out["scope"] = {k: value_to_json(v, spill_dir) for k, v in self.scope.items()}
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Outcome:
        result = dict(obj.get("result") or {})
        if result.get("memory") is not None:
            result["memory"] = base64.b64decode(result["memory"])
        if isinstance(result.get("program"), dict):
            result["program"] = ProgramSpec.from_json(result["program"])
        scope = {k: value_from_json(v) for k, v in (obj.get("scope") or {}).items()}
        return cls(
            ok=bool(obj.get("ok")),
            result=result,
            scope=scope,
            warnings=list(obj.get("warnings") or []),
            error=None if obj.get("ok") else dict(obj.get("error") or {"error": "BAD_RESPONSE"}),
        )
