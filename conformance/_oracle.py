"""The suite's own statement of what correct output is, written from the spec text alone.

It shares nothing with ``reference`` or ``numba_kernels`` except ``spec`` (tables, the generated
protobuf bindings): a record is laid out here straight from the grammar of spec/chapters/format.md,
and the selection rule straight from the selection chapter, so that byte-equality and
files-written checks judge the reference too instead of comparing it with itself.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from fluidspec.conformance._case import (
    Call,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    VarSpec,
)

__all__ = [
    "record_bytes",
    "selected_rows_bytes",
    "combined_bytes",
    "element_code",
    "varint",
    "selected_vars",
    "is_persistable",
    "split_records",
]

_CODES = {  # FMT-DTYPE-001 / FMT-DTYPE-003: numpy dtype name -> element type code
    "bool": 0, "int16": 1, "int32": 2, "int64": 3, "float16": 4, "float32": 5, "float64": 6,
    "uint8": 20, "int8": 21, "bfloat16": 22, "uint16": 22, "complex64": 23, "complex128": 24,
    "float8_e4m3fn": 32, "float8_e5m2": 33, "uint32": 37, "uint64": 38,
}


def element_code(dtype: np.dtype) -> int:
    return _CODES[np.dtype(dtype).name]


def varint(n: int) -> bytes:
    """Protobuf base-128 varint; negative int64 as its 64-bit two's complement (FMT-DESC-001)."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _tensor_part(array: np.ndarray) -> bytes:
    desc = b"\x08" + varint(element_code(array.dtype))
    desc += b"".join(b"\x10" + varint(d) for d in array.shape)
    le = array.astype(array.dtype.newbyteorder("<")) if array.dtype.byteorder == ">" else array
    return struct.pack("<Ii", 0, len(desc)) + desc + np.ascontiguousarray(le).tobytes()


def record_bytes(array: np.ndarray, lod: Sequence[Sequence[int]] = ()) -> bytes:
    """The dense-tensor record (FMT-REC-001..007) — 0-d arrays keep ``dims = []``."""
    array = np.asarray(array)
    if array.dtype.byteorder == ">":  # the 0-d branch below writes the elements as they are
        array = array.astype(array.dtype.newbyteorder("<"))
    head = struct.pack("<IQ", 0, len(lod))
    for level in lod:
        head += struct.pack("<Q", 8 * len(level)) + struct.pack(f"<{len(level)}Q", *level)
    # np.ascontiguousarray would turn 0-d into 1-d; tobytes keeps the element (FMT-REC-005).
    if array.ndim == 0:
        desc = b"\x08" + varint(element_code(array.dtype))
        return head + struct.pack("<Ii", 0, len(desc)) + desc + array.tobytes()
    return head + _tensor_part(array)


def selected_rows_bytes(value: SelectedRowsValue) -> bytes:
    """The SelectedRows record (FMT-SR-001)."""
    rows = struct.pack(f"<{len(value.rows)}q", *value.rows)
    head = struct.pack("<IQ", 0, len(value.rows)) + rows + struct.pack("<q", value.height)
    return head + _tensor_part(np.asarray(value.array))


def value_bytes(value: Value) -> bytes:
    if isinstance(value, SelectedRowsValue):
        return selected_rows_bytes(value)
    return record_bytes(value.array, value.lod)


def combined_bytes(values: dict[str, TensorValue]) -> bytes:
    """Records in code-point order of the names (FMT-COMB-001)."""
    return b"".join(record_bytes(values[n].array, values[n].lod) for n in sorted(values))


def split_records(buf: bytes) -> list[tuple[int, int]]:
    """(start, end) of each dense-tensor record of a well-formed combined stream."""
    from fluidspec.spec.framework_pb2 import VarType as _VT

    out = []
    pos = 0
    while pos < len(buf):
        start = pos
        _, levels = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        for _ in range(levels):
            (nbytes,) = struct.unpack_from("<Q", buf, pos)
            pos += 8 + nbytes
        _, dsize = struct.unpack_from("<Ii", buf, pos)
        pos += 8
        desc = _VT.TensorDesc.FromString(buf[pos : pos + dsize])
        pos += dsize
        from fluidspec.spec import element_type

        numel = int(np.prod(list(desc.dims), dtype=np.int64)) if desc.dims else 1
        pos += numel * element_type(desc.data_type).size
        out.append((start, pos))
    return out


# --------------------------------------------------------------------------------------------
# Selection (the selection chapter; Fluid's io.py semantics)

_NOT_PERSISTABLE_KINDS = {"FEED_MINIBATCH", "FETCH_LIST", "READER"}


def is_persistable(v: VarSpec) -> bool:
    """Fluid's ``is_persistable``: persistable, and not a feed/fetch holder or a reader."""
    return (v.persistable or v.is_parameter) and v.kind not in _NOT_PERSISTABLE_KINDS


def selected_vars(program: ProgramSpec, call: Call, keep_raw: bool = False) -> list[VarSpec]:
    """The variables an API call selects, in selection order, RAW removed.

    An explicit ``vars`` list wins over ``predicate``; otherwise every variable of every block
    (``list_vars`` order) that the predicate accepts.
    """
    api = call.api
    if api in ("save_params", "load_params"):
        chosen = [v for v in program.list_vars() if v.is_parameter]
    elif api in ("save_persistables", "load_persistables"):
        chosen = [v for v in program.list_vars() if is_persistable(v)]
    elif call.get("vars") is not None:
        by_name = {v.name: v for v in program.vars}
        chosen = [by_name[n] for n in call.get("vars")]
    else:
        pred = call.get("predicate")
        if pred == "is_parameter":
            chosen = [v for v in program.list_vars() if v.is_parameter]
        elif pred == "is_persistable":
            chosen = [v for v in program.list_vars() if is_persistable(v)]
        elif isinstance(pred, dict):
            names = set(pred["names"])
            chosen = [v for v in program.list_vars() if v.name in names]
        else:
            chosen = list(program.list_vars())
    return chosen if keep_raw else [v for v in chosen if v.kind != "RAW"]
