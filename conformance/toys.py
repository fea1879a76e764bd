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
    "BrokenSwapsInt8Codes",
    "BrokenRowCountInBytes",
    "BrokenVersionLowByte",
    "BrokenShortReadUnclassified",
    "BrokenPredicateOverVars",
    "BrokenPersistableFeeds",
    "BrokenDuplicateRecords",
    "BrokenSilentEmptySave",
    "BrokenFlatFileNames",
    "BrokenShapeChecksEveryVar",
    "BrokenEmptyFilenameCombined",
    "BrokenPartialLoad",
    "BrokenNativeByteOrder",
    "BrokenMemoryOrder",
    "BrokenLfsOnlyAtFileStart",
    "BrokenWritesBeforeChecking",
    "BROKEN_SHOULD",
    "toy",
    "unsorted",
    "BROKEN",
    "ALSO_FAILS",
    "BrokenI32Sizes",
    "BrokenWrappersDropFilename",
    "BrokenDtypeBeforeCount",
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

    def empty_filename(self, call: Call) -> Call:
        """SEL-LOAD-006: load_vars(filename='') reads separate files."""
        return Call(call.api, {**call.args, "filename": None})

    def check_trailing(self) -> bool:
        return True

    def read_hook(self, raw: bytes) -> bytes:
        """The bytes of a file or stream as the decoder gets them."""
        return raw

    def decode_combined(self, raw: bytes, names: list[str]) -> list[Any]:
        from fluidspec.reference import codec

        return codec.decode_combined(raw, len(names), names=names)

    def write_separate(self, blobs: dict[str, bytes], dirname: str) -> None:
        """Every value was checked before this is called (SEL-SAVE-006: nothing written)."""
        for name, blob in blobs.items():
            path = os.path.join(dirname, self.file_name(name))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self.write_file(path, blob)

    def decode_record(self, raw: bytes, path: str, var: str, *, whole: bool) -> Any:
        """One dense-tensor record of a separate file (``whole``: nothing may follow it)."""
        from fluidspec.reference import codec

        if whole:
            return codec.decode_tensor_file(raw, path=path, var=var)
        return codec.decode_lod_tensor(raw, path=path, var=var)

    def file_name(self, name: str) -> str:
        """SEL-FILE-001: the separate file of ``name`` is ``dirname/name``."""
        return name

    def shape_checked(self, v: VarSpec) -> bool:
        """SEL-LOAD-002: only Parameters are shape-checked."""
        return v.is_parameter

    def scope_after_error(self, before: dict[str, Value], partial: dict[str, Value]
                          ) -> dict[str, Value]:
        """SEL-LOAD-003: a failed load leaves the scope as it was."""
        return before

    def write_file(self, path: str, blob: bytes) -> None:
        """Writes in place: simple, safe against other writers of other files (SAFE-CONC-001),
        not atomic (SAFE-ATOMIC-001 is a SHOULD)."""
        with open(path, "wb") as fh:
            fh.write(blob)

    # -- the adapter -------------------------------------------------------------------------

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        values = dict(scope)
        partial: dict[str, Value] = dict(scope)
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
                    call = self.empty_filename(call)
                if call.get("dirname") is None and (
                        call.get("filename") is not None if call.api.startswith("save")
                        else call.get("memory") is None):
                    raise InvalidArgumentError("dirname=None needs filename=None (save) or bytes")
                if not chosen:
                    return Outcome(True, {}, values, [str(w.message) for w in caught])
                if call.api.startswith("save"):
                    result = self._save(chosen, values, call)
                else:
                    values = self._load(chosen, partial, call)
                    result = {}
                return Outcome(True, result, values, [str(w.message) for w in caught])
            except Exception as exc:
                return Outcome(False, error=error_of(exc),
                               scope=self.scope_after_error(dict(scope), partial))

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
            self.write_separate({v.name: self.encode(values[v.name]) for v in chosen}, dirname)
            return {}
        if any(v.kind == "SELECTED_ROWS" for v in chosen):
            raise UnsupportedVarTypeError("SelectedRows cannot be combined (FMT-SR-002)")
        blob = b"".join(self.encode(values[n]) for n in self.combined_order([v.name for v in chosen]))
        if dirname is None:
            return {"memory": blob}
        os.makedirs(dirname, exist_ok=True)
        self.write_file(os.path.join(dirname, filename), blob)
        return {}

    def _load(self, chosen: list[VarSpec], partial: dict[str, Value], call: Call
              ) -> dict[str, Value]:
        """Loads into ``partial`` only once everything is read and checked."""
        from fluidspec.spec.errors import UnsupportedVarTypeError

        for v in chosen:  # SEL-SAVE-007: before anything is read
            if v.kind not in _VALUE_KINDS:
                raise UnsupportedVarTypeError("cannot load this kind", var=v.name, found=v.kind)
        dirname, filename = call.get("dirname"), call.get("filename")
        if dirname is not None and filename is None:
            loaded = self._load_separate(chosen, dirname, partial)
        else:
            loaded = self._load_combined(chosen, dirname, filename, call.get("memory"))
        _check_shapes([v for v in chosen if self.shape_checked(v)], loaded)
        partial.update(loaded)
        return dict(partial)

    def _load_separate(self, chosen: list[VarSpec], dirname: str, partial: dict[str, Value]
                       ) -> dict[str, Value]:
        from fluidspec.reference import codec
        from fluidspec.spec.errors import MissingFileError

        loaded: dict[str, Value] = {}
        for v in chosen:
            path = os.path.join(dirname, self.file_name(v.name))
            if not os.path.isfile(path):
                raise MissingFileError("no file for this variable", path=path, var=v.name)
            with open(path, "rb") as fh:
                raw = self.read_hook(fh.read())
            if v.kind == "SELECTED_ROWS":
                sr = codec.decode_selected_rows(raw, path=path, var=v.name)
                loaded[v.name] = SelectedRowsValue(sr.array, list(sr.rows), sr.height)
            else:
                t = self.decode_record(raw, path, v.name, whole=self.check_trailing())
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
        raw = self.read_hook(raw)
        order = sorted(dict.fromkeys(v.name for v in chosen))
        decoded = self.decode_combined(raw, order) if self.check_trailing() \
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


def _with_data(value: TensorValue, data: bytes) -> bytes:
    """The oracle's record of ``value`` with its data bytes replaced."""
    rec = record_bytes(value.array, value.lod)
    return rec[: len(rec) - len(data)] + data


class BrokenNativeByteOrder(ToyAdapter):
    """Writes an array's elements in the byte order they have in memory, so a big-endian array
    is written big-endian (breaks FMT-REC-007)."""

    name = "toy-native-byte-order"

    def encode(self, value: Value) -> bytes:
        if isinstance(value, TensorValue):
            array = np.asarray(value.array)
            return _with_data(value, np.ascontiguousarray(array).tobytes() if array.ndim
                              else array.tobytes())
        return super().encode(value)


class BrokenMemoryOrder(ToyAdapter):
    """Writes an array's memory in the order it is laid out (``tobytes(order="A")``), so a
    transposed or Fortran-ordered array is written column by column (breaks FMT-REC-005)."""

    name = "toy-memory-order"

    def encode(self, value: Value) -> bytes:
        if isinstance(value, TensorValue):
            array = np.asarray(value.array)
            little = array.astype(array.dtype.newbyteorder("<"), order="K")
            return _with_data(value, little.tobytes(order="A"))
        return super().encode(value)


# -- broken on a SHOULD clause (the meta-test checks the clause fails and no MUST clause does) --


class BrokenLfsOnlyAtFileStart(ToyAdapter):
    """Recognises a Git LFS pointer only at the start of a stream; one where a later record of a
    combined stream starts is reported BAD_VERSION (breaks FMT-SAFE-004)."""

    name = "toy-lfs-only-at-start"

    def decode_combined(self, raw: bytes, names: list[str]) -> list[Any]:
        from fluidspec.spec.errors import BadVersionError, NotATensorFileError

        try:
            return super().decode_combined(raw, names)
        except NotATensorFileError:
            if raw.startswith(b"vers"):
                raise
            raise BadVersionError("LoD-tensor version is not 0") from None


class BrokenWritesBeforeChecking(ToyAdapter):
    """Writes each separate file as soon as its own value is checked, so a save refused for a
    later variable leaves the earlier files behind (breaks SEL-SAVE-006)."""

    name = "toy-writes-before-checking"

    def _save(self, chosen: list[VarSpec], values: dict[str, Value], call: Call) -> dict[str, Any]:
        dirname = call.get("dirname")
        if dirname is not None and call.get("filename") is None:
            for v in chosen:
                if v.kind in _VALUE_KINDS and v.name in values:
                    self.validate(values[v.name])
                    self.write_separate({v.name: self.encode(values[v.name])}, dirname)
        return super()._save(chosen, values, call)


class BrokenSwapsInt8Codes(ToyAdapter):
    """Writes int8 under UINT8's code and uint8 under INT8's, the two neighbours of the table
    (breaks FMT-DTYPE-001)."""

    name = "toy-swapped-int8-codes"

    def encode(self, value: Value) -> bytes:
        raw = super().encode(value)
        if not isinstance(value, TensorValue) or np.asarray(value.array).dtype.name not in (
                "int8", "uint8"):
            return raw
        # The desc's dtype byte: after the LoD, the tensor version, the desc size and tag 08.
        at = 12 + sum(8 + 8 * len(level) for level in value.lod) + 4 + 4 + 1
        return raw[:at] + bytes([41 - raw[at]]) + raw[at + 1:]


class BrokenRowCountInBytes(ToyAdapter):
    """Writes a SelectedRows row count as the byte size of the rows, as the LoD levels do
    (breaks FMT-SR-001)."""

    name = "toy-sr-rows-in-bytes"

    def encode(self, value: Value) -> bytes:
        raw = super().encode(value)
        if isinstance(value, SelectedRowsValue):
            return raw[:4] + struct.pack("<Q", 8 * len(value.rows)) + raw[12:]
        return raw


class BrokenVersionLowByte(ToyAdapter):
    """Reads the u32 LoD-tensor version by its first byte only, so 0x00000100 passes for 0
    (breaks FMT-REC-001 on the reading side)."""

    name = "toy-version-low-byte"

    def decode_record(self, raw: bytes, path: str, var: str, *, whole: bool) -> Any:
        if raw[:1] == b"\0":
            raw = b"\0\0\0\0" + raw[4:]
        return super().decode_record(raw, path, var, whole=whole)


class BrokenShortReadUnclassified(ToyAdapter):
    """Reads data with ``np.frombuffer`` before checking the length, so input that ends inside
    the data is a ValueError rather than TRUNCATED (breaks FMT-SAFE-001)."""

    name = "toy-short-read-valueerror"

    def decode_record(self, raw: bytes, path: str, var: str, *, whole: bool) -> Any:
        from fluidspec.spec.errors import TruncatedError

        try:
            return super().decode_record(raw, path, var, whole=whole)
        except TruncatedError:
            raise ValueError("buffer is smaller than requested size") from None


class BrokenPredicateOverVars(ToyAdapter):
    """Applies the predicate to an explicit ``vars`` too (breaks SEL-CAND-002)."""

    name = "toy-predicate-over-vars"

    def select(self, program: ProgramSpec, call: Call) -> list[VarSpec]:
        chosen = super().select(program, call)
        if call.get("vars") is None or call.get("predicate") is None:
            return chosen
        everything = selected_vars(program, Call(call.api, {**call.args, "vars": None}),
                                   keep_raw=True)
        allowed = {v.name for v in everything}
        return [v for v in chosen if v.name in allowed]


class BrokenPersistableFeeds(ToyAdapter):
    """is_persistable accepts persistable feed, fetch and reader holders (breaks SEL-CAND-003)."""

    name = "toy-persistable-feeds"

    def select(self, program: ProgramSpec, call: Call) -> list[VarSpec]:
        chosen = super().select(program, call)
        if call.get("vars") is not None or call.get("predicate") != "is_persistable" and \
                call.api not in ("save_persistables", "load_persistables"):
            return chosen
        extra = [v for v in program.list_vars() if v.persistable and v not in chosen
                 and v.kind in ("FEED_MINIBATCH", "FETCH_LIST", "READER")]
        return chosen + extra


class BrokenDuplicateRecords(ToyAdapter):
    """Writes a name selected twice twice in a combined stream (breaks SEL-SAVE-004)."""

    name = "toy-duplicate-records"

    def combined_order(self, names: list[str]) -> list[str]:
        return sorted(names)


class BrokenSilentEmptySave(ToyAdapter):
    """Returns on an empty selection without the warning (breaks SEL-SAVE-002)."""

    name = "toy-silent-empty-save"

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        out = super().run(program, scope, call)
        return Outcome(out.ok, out.result, out.scope, [], out.error)


class BrokenFlatFileNames(ToyAdapter):
    """Names the separate file of ``a/b`` ``a_b`` instead of making a sub-directory
    (breaks SEL-FILE-001)."""

    name = "toy-flat-file-names"

    def file_name(self, name: str) -> str:
        return name.replace("/", "_")


class BrokenShapeChecksEveryVar(ToyAdapter):
    """Shape-checks every loaded variable, not only Parameters (breaks SEL-LOAD-002)."""

    name = "toy-shape-checks-all"

    def shape_checked(self, v: VarSpec) -> bool:
        return True


class BrokenEmptyFilenameCombined(ToyAdapter):
    """Takes load_vars(filename='') as a combined file named '' (breaks SEL-LOAD-006)."""

    name = "toy-empty-filename-combined"

    def empty_filename(self, call: Call) -> Call:
        return call


class BrokenPartialLoad(ToyAdapter):
    """Puts each separate file's value into the scope as soon as it is read, so a load that
    fails on a later file leaves the earlier ones changed (breaks SEL-LOAD-003)."""

    name = "toy-partial-load"

    def decode_record(self, raw: bytes, path: str, var: str, *, whole: bool) -> Any:
        decoded = super().decode_record(raw, path, var, whole=whole)
        self._partial[var] = TensorValue(decoded.array, decoded.lod)
        return decoded

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        self._partial: dict[str, Value] = {}
        return super().run(program, scope, call)

    def scope_after_error(self, before: dict[str, Value], partial: dict[str, Value]
                          ) -> dict[str, Value]:
        return {**before, **self._partial}


class BrokenI32Sizes(ToyAdapter):
    """Holds dims and LoD offsets in i32, so a save of one past 2**31 - 1 is refused
    (breaks SAFE-LARGE-001)."""

    name = "toy-i32-sizes"

    def validate(self, value: Value) -> None:
        from fluidspec.spec.errors import SizeOverflowError

        super().validate(value)
        sizes = [*np.asarray(value.array).shape,
                 *(x for level in getattr(value, "lod", ()) for x in level)]
        if any(int(x) >= 1 << 31 for x in sizes):
            raise SizeOverflowError("a dim or LoD offset does not fit an i32", found=max(sizes))


class BrokenWrappersDropFilename(ToyAdapter):
    """save_params / save_persistables / load_params / load_persistables do not pass
    ``filename`` on to save_vars / load_vars, so they always use separate files
    (breaks SEL-FILE-002 for the wrappers, which are save_vars/load_vars with the same
    arguments, SEL-CAND-003)."""

    name = "toy-wrappers-drop-filename"

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        if call.api.endswith(("_params", "_persistables")) and call.get("dirname") is not None:
            call = Call(call.api, {**call.args, "filename": None})
        return super().run(program, scope, call)


class BrokenDtypeBeforeCount(ToyAdapter):
    """Checks each combined record's dtype as it reads it, and the record count only at the
    end, so a stream both short and shifted is DTYPE_MISMATCH (breaks SAFE-MISMATCH-001)."""

    name = "toy-dtype-before-count"

    def _load_combined(self, chosen: list[VarSpec], dirname: str | None, filename: str | None,
                       memory: bytes | None) -> dict[str, Value]:
        from fluidspec.reference import codec
        from fluidspec.spec.errors import DtypeMismatchError

        raw = memory
        if dirname is not None:
            if not os.path.isfile(os.path.join(dirname, filename or "")):
                return super()._load_combined(chosen, dirname, filename, memory)
            with open(os.path.join(dirname, filename), "rb") as fh:
                raw = fh.read()
        by_name = {v.name: v for v in chosen}
        offset = 0
        for name in sorted(by_name):
            if offset >= len(raw):
                break
            record = codec.decode_lod_tensor(raw, offset)
            declared = by_name[name].dtype
            if declared is not None and dtype_from_name(declared) != record.array.dtype:
                raise DtypeMismatchError("record dtype differs", var=name, expected=declared,
                                         found=record.array.dtype.name)
            offset = record.header.end
        return super()._load_combined(chosen, dirname, filename, memory)


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
    BrokenNativeByteOrder: "FMT-REC-007",
    BrokenMemoryOrder: "FMT-REC-005",
    BrokenSwapsInt8Codes: "FMT-DTYPE-001",
    BrokenRowCountInBytes: "FMT-SR-001",
    BrokenVersionLowByte: "FMT-REC-001",
    BrokenPredicateOverVars: "SEL-CAND-002",
    BrokenPersistableFeeds: "SEL-CAND-003",
    BrokenKeepsRaw: "SEL-SAVE-003",
    BrokenDuplicateRecords: "SEL-SAVE-004",
    BrokenSilentEmptySave: "SEL-SAVE-002",
    BrokenFlatFileNames: "SEL-FILE-001",
    BrokenShapeChecksEveryVar: "SEL-LOAD-002",
    BrokenEmptyFilenameCombined: "SEL-LOAD-006",
    BrokenWrappersDropFilename: "SEL-FILE-002",
}

#: MUST clauses a broken toy may fail besides its own: the same slip seen by the checks of
#: neighbouring rules (a shape check on every variable refuses loads those checks make).
ALSO_FAILS: dict[type[ToyAdapter], frozenset[str]] = {
    BrokenSwapsInt8Codes: frozenset({"FMT-DTYPE-002"}),
    BrokenRowCountInBytes: frozenset({"FMT-LOD-001"}),
    BrokenPersistableFeeds: frozenset({"SEL-SAVE-001"}),
    BrokenFlatFileNames: frozenset({"FMT-REC-005"}),
    BrokenShapeChecksEveryVar: frozenset({"FMT-REC-001", "FMT-SR-001", "SEL-FILE-002",
                                          "SEL-FILE-003", "SEL-LOAD-007"}),
}

#: Toys broken on a SHOULD clause: the suite must fail that clause and no MUST clause.
BROKEN_SHOULD: dict[type[ToyAdapter], str] = {
    BrokenLfsOnlyAtFileStart: "FMT-SAFE-004",
    BrokenWritesBeforeChecking: "SEL-SAVE-006",
    BrokenShortReadUnclassified: "FMT-SAFE-001",
    BrokenPartialLoad: "SEL-LOAD-003",
    BrokenI32Sizes: "SAFE-LARGE-001",
    BrokenDtypeBeforeCount: "SAFE-MISMATCH-001",
}


def _check_shapes(chosen: list[VarSpec], loaded: dict[str, Value]) -> None:
    """``chosen`` must load with their declared shape (-1 matches any extent)."""
    from fluidspec.spec.errors import ShapeMismatchError

    for v in chosen:
        if v.shape is not None and v.name in loaded:
            got = np.asarray(loaded[v.name].array).shape
            want = tuple(v.shape)
            if len(got) != len(want) or any(w != -1 and w != g for w, g in zip(want, got,
                                                                                strict=False)):
                raise ShapeMismatchError("loaded shape differs", var=v.name,
                                         expected=list(want), found=list(got))
