"""Toy implementations for testing the suite itself.

``ToyAdapter`` implements save/load of vars, params and persistables directly on the abstract
case (``ProgramSpec`` + values), from the spec text: it is small enough to read at a glance and
independent of ``reference.io``.  Each ``Broken*`` subclass breaks exactly one MUST clause; the
meta-tests check that the suite fails each on that clause and passes the toy itself.  They are
importable as implementations too: ``fluidspec conformance --impl conformance.toys:unsorted``.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from fluidspec.conformance._adapter import error_of
from fluidspec.conformance._case import (
    PROTOCOL,
    Call,
    Outcome,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    VarSpec,
    dtype_from_name,
)
from fluidspec.conformance._oracle import record_bytes, selected_rows_bytes, selected_vars

__all__ = [
    "ToyAdapter",
    "BrokenUnsortedCombined",
    "BrokenVersionField",
    "BrokenZeroDimAsOneDim",
    "BrokenDropsLod",
    "BrokenPackedDims",
    "BrokenIgnoresTrailingBytes",
    "BrokenOnlyBlockZero",
    "BrokenKeepsRaw",
    "BrokenSharedTemporary",
    "toy",
    "unsorted",
    "BROKEN",
]

_VALUE_KINDS = ("LOD_TENSOR", "SELECTED_ROWS")


class ToyAdapter:
    """A direct, minimal implementation of the six var/param/persistable APIs."""

    name = "toy"
    apis = ("save_vars", "load_vars", "save_params", "load_params", "save_persistables",
            "load_persistables")

    def hello(self) -> dict[str, Any]:
        return {"protocol": PROTOCOL, "implementation": {"name": self.name, "version": "0"},
                "apis": list(self.apis)}

    def close(self) -> None:
        pass

    # -- hooks the broken variants override ---------------------------------------------------

    def validate(self, value: Value) -> None:
        """FMT-DTYPE-006, FMT-LOD-002, FMT-SR-004: refuse before anything is written."""
        from fluidspec.conformance._oracle import element_code
        from fluidspec.reference.codec import check_lod
        from fluidspec.spec.errors import (
            InvalidArgumentError,
            InvalidLodError,
            UnsupportedDtypeError,
        )

        try:
            element_code(np.asarray(value.array).dtype)
        except KeyError:
            raise UnsupportedDtypeError("no element type", found=str(value.array.dtype)) from None
        if isinstance(value, SelectedRowsValue):
            if not all(-(1 << 63) <= int(x) < (1 << 63) for x in [*value.rows, value.height]):
                raise InvalidArgumentError("rows and height are i64", found=value.height)
            return
        problem = check_lod(value.lod, np.asarray(value.array).shape)
        if problem:
            raise InvalidLodError(problem, found=value.lod)

    def encode(self, value: Value) -> bytes:
        if isinstance(value, SelectedRowsValue):
            return selected_rows_bytes(value)
        return record_bytes(value.array, value.lod)

    def combined_order(self, names: list[str]) -> list[str]:
        return sorted(dict.fromkeys(names))  # FMT-COMB-001

    def select(self, program: ProgramSpec, call: Call) -> list[VarSpec]:
        return selected_vars(program, call, keep_raw=True)

    def check_trailing(self) -> bool:
        return True

    def write_file(self, path: str, blob: bytes) -> None:
        """Writes in place: simple, safe against other writers of other files (SAFE-CONC-001),
        not atomic (SAFE-ATOMIC-001 is a SHOULD)."""
        with open(path, "wb") as fh:
            fh.write(blob)

    # -- the adapter -------------------------------------------------------------------------

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        values = dict(scope)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if call.api not in self.apis:
                    return Outcome(False, error={"error": "UNSUPPORTED_REQUEST",
                                                 "message": call.api}, scope=values)
                from fluidspec.spec.errors import InvalidArgumentError

                chosen = self.select(program, call)
                if not chosen:  # SEL-SAVE-002: the emptiness check comes before RAW is dropped
                    warnings.warn("no variable in your model, please ensure there are any "
                                  "variables in your model to save", stacklevel=1)
                    return Outcome(True, {}, values, [str(w.message) for w in caught])
                chosen = [v for v in chosen if v.kind != "RAW"]  # SEL-SAVE-003
                if call.get("filename") == "" and call.api.startswith("load"):
                    call = Call(call.api, {**call.args, "filename": None})  # SEL-LOAD-006
                if call.get("dirname") is None and (
                        call.get("filename") is not None if call.api.startswith("save")
                        else call.get("memory") is None):
                    raise InvalidArgumentError("dirname=None needs filename=None (save) or bytes")
                if not chosen:
                    return Outcome(True, {}, values, [str(w.message) for w in caught])
                if call.api.startswith("save"):
                    result = self._save(chosen, values, call)
                else:
                    values = self._load(chosen, values, call)
                    result = {}
                return Outcome(True, result, values, [str(w.message) for w in caught])
            except Exception as exc:
                return Outcome(False, error=error_of(exc), scope=dict(scope))

    def _save(self, chosen: list[VarSpec], values: dict[str, Value], call: Call) -> dict[str, Any]:
        from fluidspec.spec.errors import UninitializedVarError, UnsupportedVarTypeError

        dirname, filename = call.get("dirname"), call.get("filename")
        for v in chosen:
            if v.kind not in _VALUE_KINDS:
                raise UnsupportedVarTypeError("cannot save this kind", var=v.name, found=v.kind)
            if v.name not in values:
                raise UninitializedVarError("no value", var=v.name)
            self.validate(values[v.name])
        if dirname is not None and filename is None:
            blobs = {v.name: self.encode(values[v.name]) for v in chosen}
            for name, blob in blobs.items():
                path = os.path.join(dirname, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                self.write_file(path, blob)
            return {}
        if any(v.kind == "SELECTED_ROWS" for v in chosen):
            raise UnsupportedVarTypeError("SelectedRows cannot be combined (FMT-SR-002)")
        blob = b"".join(self.encode(values[n]) for n in self.combined_order([v.name for v in chosen]))
        if dirname is None:
            return {"memory": blob}
        os.makedirs(dirname, exist_ok=True)
        self.write_file(os.path.join(dirname, filename), blob)
        return {}

    def _load(self, chosen: list[VarSpec], values: dict[str, Value], call: Call) -> dict[str, Value]:
        dirname, filename = call.get("dirname"), call.get("filename")
        if dirname is not None and filename is None:
            loaded = self._load_separate(chosen, dirname)
        else:
            loaded = self._load_combined(chosen, dirname, filename, call.get("memory"))
        _check_parameter_shapes(chosen, loaded)
        out = dict(values)
        out.update(loaded)
        return out

    def _load_separate(self, chosen: list[VarSpec], dirname: str) -> dict[str, Value]:
        from fluidspec.reference import codec
        from fluidspec.spec.errors import MissingFileError

        loaded: dict[str, Value] = {}
        for v in chosen:
            path = os.path.join(dirname, v.name)
            if not os.path.isfile(path):
                raise MissingFileError("no file for this variable", path=path, var=v.name)
            with open(path, "rb") as fh:
                raw = fh.read()
            if v.kind == "SELECTED_ROWS":
                sr = codec.decode_selected_rows(raw, path=path, var=v.name)
                loaded[v.name] = SelectedRowsValue(sr.array, list(sr.rows), sr.height)
            else:
                t = codec.decode_tensor_file(raw, path=path, var=v.name) if self.check_trailing() \
                    else codec.decode_lod_tensor(raw, path=path, var=v.name)
                loaded[v.name] = TensorValue(t.array, t.lod)
        return loaded

    def _load_combined(self, chosen: list[VarSpec], dirname: str | None, filename: str | None,
                       memory: bytes | None) -> dict[str, Value]:
        from fluidspec.reference import codec
        from fluidspec.spec.errors import (
            DtypeMismatchError,
            MissingFileError,
            UnsupportedVarTypeError,
        )

        if any(v.kind == "SELECTED_ROWS" for v in chosen):
            raise UnsupportedVarTypeError("SelectedRows cannot be combined (FMT-SR-002)")
        if dirname is None:
            raw = memory
        else:
            path = os.path.join(dirname, filename)
            if not os.path.isfile(path):
                raise MissingFileError("no combined file", path=path)
            with open(path, "rb") as fh:
                raw = fh.read()
        order = sorted(dict.fromkeys(v.name for v in chosen))
        decoded = codec.decode_combined(raw, len(order), names=order) if self.check_trailing() \
            else [codec.decode_lod_tensor(raw, 0)]
        pos_vals = {}
        offset = 0
        for name, d in zip(order, decoded, strict=False):
            pos_vals[name] = d
        if not self.check_trailing():  # read record after record, ignoring what is left
            pos_vals = {}
            for name in order:
                d = codec.decode_lod_tensor(raw, offset)
                pos_vals[name] = d
                offset = d.header.end
        by_name = {v.name: v for v in chosen}
        loaded: dict[str, Value] = {}
        for name, d in pos_vals.items():
            declared = by_name[name].dtype
            if declared is not None and dtype_from_name(declared) != d.array.dtype and not (
                    declared in ("bfloat16", "uint16") and d.array.dtype.name == "bfloat16"):
                raise DtypeMismatchError("record dtype differs", var=name, expected=declared,
                                         found=d.array.dtype.name)
            loaded[name] = TensorValue(d.array, d.lod)
        return loaded


class BrokenUnsortedCombined(ToyAdapter):
    """Writes combined records in selection order (breaks FMT-COMB-001)."""

    name = "toy-unsorted-combined"

    def combined_order(self, names: list[str]) -> list[str]:
        return list(dict.fromkeys(names))[::-1]


class BrokenVersionField(ToyAdapter):
    """Writes LoD-tensor version 1 (breaks FMT-REC-001)."""

    name = "toy-version-1"

    def encode(self, value: Value) -> bytes:
        raw = super().encode(value)
        if isinstance(value, SelectedRowsValue):
            return raw
        return struct.pack("<I", 1) + raw[4:]


class BrokenZeroDimAsOneDim(ToyAdapter):
    """Writes a 0-d tensor as dims [1], like np.ascontiguousarray (breaks FMT-REC-005)."""

    name = "toy-0d-as-1d"

    def encode(self, value: Value) -> bytes:
        if isinstance(value, TensorValue) and np.asarray(value.array).ndim == 0:
            return record_bytes(np.asarray(value.array).reshape(1), value.lod)
        return super().encode(value)


class BrokenDropsLod(ToyAdapter):
    """Writes tensors without their LoD (breaks FMT-LOD-001)."""

    name = "toy-drops-lod"

    def encode(self, value: Value) -> bytes:
        if isinstance(value, TensorValue):
            return record_bytes(value.array, [])
        return super().encode(value)


class BrokenPackedDims(ToyAdapter):
    """Writes TensorDesc dims packed (``12 len …``), valid protobuf but not Paddle's (FMT-DESC-001)."""

    name = "toy-packed-dims"

    def encode(self, value: Value) -> bytes:
        from fluidspec.conformance._oracle import element_code, varint

        if not isinstance(value, TensorValue) or np.asarray(value.array).ndim == 0:
            return super().encode(value)
        array = np.asarray(value.array)
        dims = b"".join(varint(d) for d in array.shape)
        desc = b"\x08" + varint(element_code(array.dtype)) + b"\x12" + varint(len(dims)) + dims
        head = record_bytes(np.zeros((0,), dtype=array.dtype), value.lod)
        lod_end = 12 + sum(8 + 8 * len(level) for level in value.lod)
        return head[:lod_end] + struct.pack("<Ii", 0, len(desc)) + desc + array.astype(
            array.dtype.newbyteorder("<")).tobytes()


class BrokenIgnoresTrailingBytes(ToyAdapter):
    """Loads a combined stream without checking for bytes after the last record (FMT-COMB-002)."""

    name = "toy-ignores-trailing"

    def check_trailing(self) -> bool:
        return False


class BrokenOnlyBlockZero(ToyAdapter):
    """Takes predicate candidates from block 0 only, like the C++ loader (selection rule)."""

    name = "toy-block-zero"

    def select(self, program: ProgramSpec, call: Call) -> list[VarSpec]:
        return [v for v in super().select(program, call)
                if v.block == 0 or call.get("vars") is not None]


class BrokenKeepsRaw(ToyAdapter):
    """Fails on RAW variables instead of skipping them."""

    name = "toy-keeps-raw"

    def select(self, program: ProgramSpec, call: Call) -> list[VarSpec]:
        from fluidspec.conformance._oracle import selected_vars as sv

        chosen = sv(program, call)
        raw = [v for v in program.list_vars() if v.kind == "RAW" and (
            call.api in ("save_persistables", "load_persistables") and v.persistable)]
        return chosen + raw


class BrokenSharedTemporary(ToyAdapter):
    """Writes aside and renames, but under a temporary name every writer of the process computes
    alike (the pid), so concurrent saves overwrite each other's temporaries (SAFE-CONC-001)."""

    name = "toy-shared-temporary"

    def write_file(self, path: str, blob: bytes) -> None:
        temporary = os.path.join(os.path.dirname(path), f".toy-{os.getpid()}.tmp")
        with open(temporary, "wb") as fh:
            fh.write(blob)
        os.replace(temporary, path)


def toy() -> ToyAdapter:
    return ToyAdapter()


def unsorted() -> ToyAdapter:
    return BrokenUnsortedCombined()


#: Every broken toy and the clause the suite must fail it on.
BROKEN: dict[type[ToyAdapter], str] = {
    BrokenUnsortedCombined: "FMT-COMB-001",
    BrokenVersionField: "FMT-REC-001",
    BrokenZeroDimAsOneDim: "FMT-REC-005",
    BrokenDropsLod: "FMT-LOD-001",
    BrokenPackedDims: "FMT-DESC-001",
    BrokenIgnoresTrailingBytes: "FMT-COMB-002",
    BrokenSharedTemporary: "SAFE-CONC-001",
}


def _check_parameter_shapes(chosen: list[VarSpec], loaded: dict[str, Value]) -> None:
    """Parameters must load with their declared shape (-1 matches any extent)."""
    from fluidspec.spec.errors import ShapeMismatchError

    for v in chosen:
        if v.is_parameter and v.shape is not None and v.name in loaded:
            got = np.asarray(loaded[v.name].array).shape
            want = tuple(v.shape)
            if len(got) != len(want) or any(w != -1 and w != g for w, g in zip(want, got,
                                                                                strict=False)):
                raise ShapeMismatchError("loaded shape differs", var=v.name,
                                         expected=list(want), found=list(got))
