"""The tensor codec: dense-tensor records, SelectedRows records and combined streams.

Readers and writers are written side by side, one pair per structure of spec/chapters/format.md,
and each quotes the grammar it implements.  Clarity first: ``struct`` for the fixed-width fields,
the protobuf runtime (``spec/framework_pb2.py``) for the TensorDesc, numpy for the payload.

Every reader checks sizes against the bytes it actually has *before* allocating anything
(FMT-SAFE-003), so a lying header costs at most a few small Python objects.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from spec import (
    LOD_TENSOR_VERSION,
    SELECTED_ROWS_VERSION,
    TENSOR_VERSION,
    element_type,
    element_type_for_dtype,
    is_element_type,
)
from spec.errors import (
    BadTensorDescError,
    BadVersionError,
    FluidSpecError,
    InvalidLodError,
    NotATensorFileError,
    SizeOverflowError,
    TrailingBytesError,
    TruncatedError,
    UnsupportedDtypeError,
)
from spec.framework_pb2 import VarType as _VarTypeProto

__all__ = [
    "RecordHeader",
    "DecodedTensor",
    "DecodedSelectedRows",
    "encode_lod_tensor",
    "encode_selected_rows",
    "encode_combined",
    "encode_tensor_desc",
    "read_lod_tensor_header",
    "read_selected_rows_header",
    "decode_lod_tensor",
    "decode_selected_rows",
    "decode_combined",
    "decode_tensor_file",
    "read_records",
    "check_lod",
]

_INT63 = 1 << 63
_LFS_MAGIC = b"version https://git-lfs"


# --------------------------------------------------------------------------------------------
# Values


@dataclass
class RecordHeader:
    """Everything a record's header says, and where its data lies (what ``inspect`` prints)."""

    kind: str  # "LoDTensor" or "SelectedRows"
    offset: int
    version: int
    lod: list[list[int]]
    tensor_version: int
    desc_size: int
    data_type: int
    dims: list[int]
    data_offset: int
    data_nbytes: int
    rows: list[int] | None = None
    height: int | None = None
    desc_offset: int = 0
    lod_offset: int = 0

    @property
    def end(self) -> int:
        """Offset one past the record's last byte."""
        return self.data_offset + self.data_nbytes

    @property
    def data_type_name(self) -> str:
        return element_type(self.data_type).name

    def to_json(self, path: str | None = None) -> dict[str, Any]:
        """The ``fluidspec inspect --json`` object for this record."""
        out: dict[str, Any] = {
            "path": path,
            "offset": self.offset,
            "kind": self.kind,
            "version": self.version,
            "lod": [list(level) for level in self.lod],
            "tensor_version": self.tensor_version,
            "desc_size": self.desc_size,
            "data_type": self.data_type,
            "data_type_name": self.data_type_name,
            "dims": list(self.dims),
            "data_offset": self.data_offset,
            "data_nbytes": self.data_nbytes,
        }
        if self.kind == "SelectedRows":
            out["rows"] = list(self.rows or [])
            out["height"] = self.height
        return out


@dataclass
class DecodedTensor:
    """A dense tensor read from bytes: its array (shape = dims) and its LoD."""

    array: np.ndarray
    lod: list[list[int]] = field(default_factory=list)
    header: RecordHeader | None = None


@dataclass
class DecodedSelectedRows:
    """A SelectedRows read from bytes."""

    array: np.ndarray
    rows: list[int]
    height: int
    header: RecordHeader | None = None


# --------------------------------------------------------------------------------------------
# Low-level cursor: every read names what it reads, so a TRUNCATED error can say so.


class _Cursor:
    def __init__(self, buf: bytes | bytearray | memoryview, offset: int, path: Any, var: Any):
        self.buf = memoryview(buf).cast("B") if not isinstance(buf, memoryview) else buf.cast("B")
        self.pos = offset
        self.path = path
        self.var = var

    @property
    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def need(self, n: int, what: str) -> None:
        if n > self.remaining:
            raise TruncatedError(
                f"input ends inside {what}",
                path=self.path,
                offset=self.pos,
                var=self.var,
                expected=f"{n} bytes",
                found=f"{max(self.remaining, 0)} bytes",
            )

    def unpack(self, fmt: str, what: str) -> int:
        size = struct.calcsize(fmt)
        self.need(size, what)
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def take(self, n: int, what: str) -> memoryview:
        self.need(n, what)
        view = self.buf[self.pos : self.pos + n]
        self.pos += n
        return view

    def error(self, cls: type[FluidSpecError], message: str, at: int, **kw: Any) -> FluidSpecError:
        return cls(message, path=self.path, offset=at, var=self.var, **kw)


# --------------------------------------------------------------------------------------------
# TensorDesc (FMT-DESC-001..004)


def encode_tensor_desc(data_type: int, dims: Sequence[int]) -> bytes:
    """``VarType.TensorDesc`` as Paddle writes it: ``08 varint(dtype)`` then ``10 varint(dim)``*.

    The protobuf runtime produces exactly this for a proto2 non-packed repeated int64.
    """
    return _VarTypeProto.TensorDesc(data_type=data_type, dims=list(dims)).SerializeToString()


def _read_tensor_desc(cur: _Cursor) -> tuple[int, int, int, list[int]]:
    """``u32 tensor_version | i32 desc_size | desc`` -> (tensor_version, desc_size, dtype, dims)."""
    at = cur.pos
    tensor_version = cur.unpack("<I", "the tensor version (u32)")
    if tensor_version != TENSOR_VERSION:
        raise cur.error(
            BadVersionError, "unsupported tensor version", at, expected=TENSOR_VERSION,
            found=tensor_version,
        )
    at = cur.pos
    desc_size = cur.unpack("<i", "the TensorDesc size (i32)")
    if desc_size < 0:
        raise cur.error(
            BadTensorDescError, "negative TensorDesc size", at, expected=">= 0", found=desc_size
        )
    at = cur.pos
    raw = cur.take(desc_size, "the TensorDesc")
    try:
        desc = _VarTypeProto.TensorDesc.FromString(bytes(raw))
    except DecodeError as exc:
        raise cur.error(
            BadTensorDescError, f"TensorDesc is not valid protobuf ({exc})", at,
            expected="a VarType.TensorDesc", found=bytes(raw[:16]).hex(),
        ) from None
    # A value outside the enum lands in unknown fields, so "unknown" and "absent" look alike here.
    if not desc.HasField("data_type"):
        raise cur.error(
            BadTensorDescError, "TensorDesc has no known data_type", at,
            expected="data_type set to a VarType.Type value", found=bytes(raw[:16]).hex(),
        )
    data_type = int(desc.data_type)
    if not is_element_type(data_type):
        raise cur.error(
            UnsupportedDtypeError, "data_type is not an element type", at,
            expected="an element type of FMT-DTYPE-001", found=data_type,
        )
    return tensor_version, desc_size, data_type, [int(d) for d in desc.dims]


def _data_nbytes(cur: _Cursor, data_type: int, dims: list[int], at: int) -> int:
    """numel * element size, refusing negative dims and 63-bit overflow (FMT-SAFE-002)."""
    numel = 1
    for d in dims:
        if d < 0:
            raise cur.error(SizeOverflowError, "negative dim", at, expected="dims >= 0", found=dims)
        numel *= d
    nbytes = numel * element_type(data_type).size
    if nbytes >= _INT63:
        raise cur.error(
            SizeOverflowError, "tensor byte size does not fit in 63 bits", at,
            expected="< 2**63 bytes", found=f"{nbytes} bytes (dims {dims})",
        )
    return nbytes


# --------------------------------------------------------------------------------------------
# LoD (FMT-REC-002, FMT-LOD-*)


def check_lod(lod: Sequence[Sequence[int]], dims: Sequence[int]) -> str | None:
    """Paddle's CheckLoD rule (FMT-LOD-002); returns why ``lod`` is invalid, or None."""
    if not lod:
        return None
    if not dims:
        return "a 0-d tensor cannot have a LoD"
    for i, level in enumerate(lod):
        if len(level) < 2:
            return f"level {i} has {len(level)} offsets, needs at least 2"
        if level[0] != 0:
            return f"level {i} starts at {level[0]}, not 0"
        if any(b < a for a, b in zip(level, level[1:], strict=False)):
            return f"level {i} decreases"
        if i + 1 < len(lod) and level[-1] != len(lod[i + 1]) - 1:
            return f"level {i} ends at {level[-1]} but level {i + 1} has {len(lod[i + 1]) - 1} items"
    if lod[-1][-1] != dims[0]:
        return f"last level ends at {lod[-1][-1]} but the tensor has {dims[0]} rows"
    return None


def _encode_lod(lod: Sequence[Sequence[int]]) -> bytes:
    """``u64 L | (u64 nbytes | u64 offsets[n])*``."""
    parts = [struct.pack("<Q", len(lod))]
    for level in lod:
        parts.append(struct.pack("<Q", 8 * len(level)))
        parts.append(np.asarray(level, dtype="<u8").tobytes())
    return b"".join(parts)


def _read_lod(cur: _Cursor) -> list[list[int]]:
    at = cur.pos
    levels = cur.unpack("<Q", "the LoD level count (u64)")
    # Each level takes at least its 8-byte size field: refuse counts the input cannot hold
    # before building anything (FMT-LOD-004).
    if levels * 8 > cur.remaining:
        raise cur.error(
            TruncatedError, "LoD level count exceeds the input", at,
            expected=f"room for {levels} levels", found=f"{cur.remaining} bytes",
        )
    lod: list[list[int]] = []
    for i in range(levels):
        at = cur.pos
        nbytes = cur.unpack("<Q", f"the byte size of LoD level {i} (u64)")
        if nbytes % 8:
            raise cur.error(
                InvalidLodError, f"LoD level {i} byte size is not a multiple of 8", at,
                expected="a multiple of 8", found=nbytes,
            )
        raw = cur.take(nbytes, f"the offsets of LoD level {i}")
        lod.append(np.frombuffer(raw, dtype="<u8").tolist())
    return lod


# --------------------------------------------------------------------------------------------
# Dense-tensor record (FMT-REC-001..007)


def _as_little_endian(array: np.ndarray, var: Any) -> tuple[np.ndarray, int]:
    """The array in its on-disk byte order, and its element-type code (FMT-DTYPE-002/006)."""
    try:
        row = element_type_for_dtype(array.dtype)
    except (KeyError, TypeError):
        raise UnsupportedDtypeError(
            "no element type for this dtype", var=var, expected="a dtype of FMT-DTYPE-001",
            found=str(array.dtype),
        ) from None
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return array, row.code


def _encode_tensor_part(array: np.ndarray, data_type: int) -> list[bytes]:
    desc = encode_tensor_desc(data_type, array.shape)
    # tobytes(order="C") keeps 0-d arrays 0-d (FMT-REC-005) and copes with any strides.
    return [struct.pack("<Ii", TENSOR_VERSION, len(desc)), desc, array.tobytes(order="C")]


def encode_lod_tensor(
    array: Any, lod: Sequence[Sequence[int]] | None = None, *, var: str | None = None,
    data_type: int | None = None,
) -> bytes:
    """One dense-tensor record for ``array`` with ``lod``.

    ``data_type`` overrides the code taken from the dtype (only a same-size code makes sense:
    it is how a true UINT16 tensor, code 36, is written — FMT-DTYPE-003).
    """
    array = np.asarray(array)
    lod = [list(map(int, level)) for level in (lod or [])]
    problem = check_lod(lod, array.shape)
    if problem:
        raise InvalidLodError(problem, var=var, expected="a valid LoD (FMT-LOD-002)", found=lod)
    array, code = _as_little_endian(array, var)
    if data_type is not None:
        if element_type(data_type).size != array.dtype.itemsize:
            raise UnsupportedDtypeError(
                "requested data_type has another element size", var=var,
                expected=f"{array.dtype.itemsize}-byte type", found=data_type,
            )
        code = data_type
    head = struct.pack("<I", LOD_TENSOR_VERSION) + _encode_lod(lod)
    return b"".join([head, *_encode_tensor_part(array, code)])


def _check_lfs(cur: _Cursor) -> None:
    start = bytes(cur.buf[cur.pos : cur.pos + len(_LFS_MAGIC)])
    if start and _LFS_MAGIC.startswith(start) and len(start) >= 4:
        raise cur.error(
            NotATensorFileError, "this is a Git LFS pointer, not tensor data (fetch it with "
            "`git lfs pull`)", cur.pos, expected="a tensor record", found="a Git LFS pointer",
        )


def read_lod_tensor_header(
    buf: bytes | bytearray | memoryview, offset: int = 0, *, path: Any = None, var: Any = None
) -> RecordHeader:
    """Parse the header of the dense-tensor record at ``offset``, checking that its data fits."""
    cur = _Cursor(buf, offset, path, var)
    return _read_lod_tensor_header(cur)


def _read_lod_tensor_header(cur: _Cursor) -> RecordHeader:
    start = cur.pos
    _check_lfs(cur)
    version = cur.unpack("<I", "the LoD-tensor version (u32)")
    if version != LOD_TENSOR_VERSION:
        raise cur.error(
            BadVersionError, "unsupported LoD-tensor version", start,
            expected=LOD_TENSOR_VERSION, found=version,
        )
    lod_offset = cur.pos
    lod = _read_lod(cur)
    desc_offset = cur.pos
    tensor_version, desc_size, data_type, dims = _read_tensor_desc(cur)
    nbytes = _data_nbytes(cur, data_type, dims, desc_offset + 8)
    problem = check_lod(lod, dims)
    if problem:
        raise cur.error(InvalidLodError, problem, lod_offset, expected="a valid LoD", found=lod)
    data_offset = cur.pos
    cur.need(nbytes, f"the tensor data ({data_type_label(data_type)} {dims})")
    return RecordHeader(
        "LoDTensor", start, version, lod, tensor_version, desc_size, data_type, dims,
        data_offset, nbytes, desc_offset=desc_offset, lod_offset=lod_offset,
    )


def data_type_label(code: int) -> str:
    return element_type(code).name


def _array_from(buf: memoryview, header: RecordHeader, copy: bool) -> np.ndarray:
    dtype = element_type(header.data_type).dtype
    count = header.data_nbytes // dtype.itemsize if dtype.itemsize else 0
    flat = np.frombuffer(buf, dtype=dtype, count=count, offset=header.data_offset)
    array = flat.reshape(header.dims)
    return array.copy() if copy else array


def decode_lod_tensor(
    buf: bytes | bytearray | memoryview, offset: int = 0, *, path: Any = None, var: Any = None,
    copy: bool = True,
) -> DecodedTensor:
    """Decode the dense-tensor record at ``offset``.

    With ``copy=False`` the array is a view into ``buf`` (read-only when ``buf`` is ``bytes``):
    it stays valid as long as ``buf`` is alive and unchanged.
    """
    cur = _Cursor(buf, offset, path, var)
    header = _read_lod_tensor_header(cur)
    return DecodedTensor(_array_from(cur.buf, header, copy), header.lod, header)


# --------------------------------------------------------------------------------------------
# SelectedRows record (FMT-SR-001)


def encode_selected_rows(
    array: Any, rows: Sequence[int], height: int, *, var: str | None = None
) -> bytes:
    """``u32 version | u64 R | i64 rows[R] | i64 height | tensor part without LoD``."""
    array, code = _as_little_endian(np.asarray(array), var)
    head = struct.pack("<IQ", SELECTED_ROWS_VERSION, len(rows))
    body = np.asarray(list(rows), dtype="<i8").tobytes() + struct.pack("<q", int(height))
    return b"".join([head, body, *_encode_tensor_part(array, code)])


def read_selected_rows_header(
    buf: bytes | bytearray | memoryview, offset: int = 0, *, path: Any = None, var: Any = None
) -> RecordHeader:
    cur = _Cursor(buf, offset, path, var)
    return _read_selected_rows_header(cur)


def _read_selected_rows_header(cur: _Cursor) -> RecordHeader:
    start = cur.pos
    _check_lfs(cur)
    version = cur.unpack("<I", "the SelectedRows version (u32)")
    if version != SELECTED_ROWS_VERSION:
        raise cur.error(
            BadVersionError, "unsupported SelectedRows version", start,
            expected=SELECTED_ROWS_VERSION, found=version,
        )
    at = cur.pos
    count = cur.unpack("<Q", "the SelectedRows row count (u64)")
    if count * 8 > cur.remaining:  # FMT-SR-003: before allocating the rows
        raise cur.error(
            TruncatedError, "row count exceeds the input", at,
            expected=f"{count * 8} bytes of rows", found=f"{cur.remaining} bytes",
        )
    rows = np.frombuffer(cur.take(count * 8, "the rows"), dtype="<i8").tolist()
    height = cur.unpack("<q", "the SelectedRows height (i64)")
    desc_offset = cur.pos
    tensor_version, desc_size, data_type, dims = _read_tensor_desc(cur)
    nbytes = _data_nbytes(cur, data_type, dims, desc_offset + 8)
    data_offset = cur.pos
    cur.need(nbytes, "the SelectedRows value data")
    return RecordHeader(
        "SelectedRows", start, version, [], tensor_version, desc_size, data_type, dims,
        data_offset, nbytes, rows=rows, height=height, desc_offset=desc_offset,
    )


def decode_selected_rows(
    buf: bytes | bytearray | memoryview, offset: int = 0, *, path: Any = None, var: Any = None,
    copy: bool = True,
) -> DecodedSelectedRows:
    cur = _Cursor(buf, offset, path, var)
    header = _read_selected_rows_header(cur)
    assert header.rows is not None and header.height is not None
    return DecodedSelectedRows(_array_from(cur.buf, header, copy), header.rows, header.height, header)


# --------------------------------------------------------------------------------------------
# Whole files and combined streams (FMT-COMB-*, FMT-SNIFF-001)


def encode_combined(items: Iterable[tuple[Any, Sequence[Sequence[int]] | None]]) -> bytes:
    """Concatenate dense-tensor records, in the order given (callers sort by name)."""
    return b"".join(encode_lod_tensor(array, lod) for array, lod in items)


def decode_combined(
    buf: bytes | bytearray | memoryview, count: int | None = None, *, path: Any = None,
    names: Sequence[str] | None = None, copy: bool = True,
) -> list[DecodedTensor]:
    """Decode a combined stream.

    With ``count`` (or ``names``) exactly that many records are expected: fewer is TRUNCATED
    and bytes after the last one are TRAILING_BYTES (FMT-COMB-002).  Without, records are read
    until the input ends.  ``names`` only improves error messages.
    """
    if names is not None and count is None:
        count = len(names)
    view = memoryview(buf).cast("B")
    out: list[DecodedTensor] = []
    pos = 0
    while (count is None and pos < len(view)) or (count is not None and len(out) < count):
        var = names[len(out)] if names is not None and len(out) < len(names) else None
        decoded = decode_lod_tensor(view, pos, path=path, var=var, copy=copy)
        assert decoded.header is not None
        out.append(decoded)
        pos = decoded.header.end
    if pos != len(view):
        raise TrailingBytesError(
            "bytes left after the last expected record", path=path, offset=pos,
            expected=f"{count} records ending at byte {pos}", found=f"{len(view) - pos} more bytes",
        )
    return out


def read_records(
    buf: bytes | bytearray | memoryview, *, path: Any = None
) -> list[RecordHeader]:
    """The headers of every record in ``buf``, detecting SelectedRows (FMT-SNIFF-001)."""
    view = memoryview(buf).cast("B")
    headers: list[RecordHeader] = []
    pos = 0
    try:
        while pos < len(view) or not headers:
            header = read_lod_tensor_header(view, pos, path=path)
            headers.append(header)
            pos = header.end
        return headers
    except FluidSpecError as dense_error:
        try:
            sr = read_selected_rows_header(view, 0, path=path)
        except FluidSpecError:
            raise dense_error from None
        if sr.end != len(view):
            raise dense_error from None
        return [sr]


def decode_tensor_file(
    buf: bytes | bytearray | memoryview, *, path: Any = None, var: Any = None, copy: bool = True
) -> DecodedTensor:
    """A separate file holding exactly one dense-tensor record (FMT-COMB-003)."""
    decoded = decode_lod_tensor(buf, 0, path=path, var=var, copy=copy)
    assert decoded.header is not None
    size = memoryview(buf).nbytes
    if decoded.header.end != size:
        raise TrailingBytesError(
            "bytes after the tensor record", path=path, offset=decoded.header.end, var=var,
            expected=f"end of file at byte {decoded.header.end}",
            found=f"{size - decoded.header.end} more bytes",
        )
    return decoded
