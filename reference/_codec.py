"""The tensor codec: dense-tensor records, SelectedRows records and combined streams.

Readers and writers are written side by side, one pair per structure of spec/chapters/format.md,
and each quotes the grammar it implements.  Clarity first: ``struct`` for the fixed-width fields,
the protobuf runtime (``spec/framework_pb2.py``) for the TensorDesc, numpy for the payload.

Every reader checks sizes against the bytes it actually has *before* allocating anything
(FMT-SAFE-003), so a lying header costs at most a few small Python objects, and every problem
with the input is reported as a ``spec.errors`` taxonomy error (ERR-001).
"""

from __future__ import annotations

import operator
import struct
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from fluidspec.spec import (
    LFS_POINTER_PREFIX,
    LOD_TENSOR_VERSION,
    MAX_RANK,
    SELECTED_ROWS_VERSION,
    TENSOR_VERSION,
    VarType,
    element_type,
    element_type_for_dtype,
    is_element_type,
)
from fluidspec.spec.errors import (
    BadTensorDescError,
    BadVersionError,
    FluidSpecError,
    InvalidArgumentError,
    InvalidLodError,
    NotATensorFileError,
    RecordCountMismatchError,
    SizeOverflowError,
    TrailingBytesError,
    TruncatedError,
    UnsupportedDtypeError,
)
from fluidspec.spec.framework_pb2 import VarType as _VarTypeProto

__all__ = [
    "MAX_RANK",
    "RecordHeader",
    "DecodedTensor",
    "DecodedSelectedRows",
    "encode_lod_tensor",
    "lod_tensor_parts",
    "encode_selected_rows",
    "selected_rows_parts",
    "encode_combined",
    "encode_tensor_desc",
    "read_lod_tensor_header",
    "read_selected_rows_header",
    "decode_lod_tensor",
    "decode_selected_rows",
    "decode_combined",
    "combined_record_headers",
    "decode_tensor_file",
    "read_records",
    "check_lod",
]

_INT63 = 1 << 63
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

Buffer = bytes | bytearray | memoryview


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
    desc_offset: int = 0  # where the u32 tensor version starts
    lod_offset: int = 0  # where the u64 LoD level count starts (dense records only)

    @property
    def end(self) -> int:
        """Offset one past the record's last byte."""
        return self.data_offset + self.data_nbytes

    @property
    def data_type_name(self) -> str:
        """The element type's name in the table of FMT-DTYPE-001 ("FP32", "BF16", ...)."""
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
# Input buffers and the cursor: every read names what it reads, so a TRUNCATED error can say so.


def _byte_view(buf: Any) -> memoryview:
    """A flat, contiguous view of ``buf``'s bytes, whatever buffer it is (ERR-001).

    A memoryview of a float array or of a non-contiguous slice is still bytes to us; only a
    non-contiguous one is copied (at most the input's size, FMT-SAFE-003).
    """
    try:
        view = memoryview(buf)
    except TypeError:
        raise InvalidArgumentError(
            "input is not a bytes-like object", expected="bytes, bytearray or another buffer",
            found=type(buf).__name__,
        ) from None
    if view.c_contiguous and view.ndim == 1 and view.format == "B":
        return view
    if view.c_contiguous:
        try:
            return view.cast("B")
        except TypeError:  # formats memoryview cannot cast (structured dtypes, ...)
            pass
    return memoryview(view.tobytes())


class _Cursor:
    def __init__(self, buf: Any, offset: int, path: Any, var: Any) -> None:
        self.buf = _byte_view(buf)
        if not isinstance(offset, int) or offset < 0:
            raise InvalidArgumentError(
                "offset must be a non-negative int", path=path, var=var, expected=">= 0",
                found=offset,
            )
        self.pos = offset
        self.path = path
        self.var = var

    @property
    def remaining(self) -> int:
        return max(len(self.buf) - self.pos, 0)

    def need(self, n: int, what: str) -> None:
        """FMT-SAFE-001: TRUNCATED, naming what was being read and how short the input is."""
        if n > self.remaining:
            raise TruncatedError(
                f"input ends inside {what}", path=self.path, offset=self.pos, var=self.var,
                expected=f"{n} bytes", found=f"{self.remaining} bytes",
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


def _int64(value: Any, what: str, var: Any) -> int:
    """A writer's integer argument, checked to fit the i64 field it goes into."""
    try:
        number = operator.index(value)  # ints and numpy integers; never a silently cut float
    except TypeError:
        raise InvalidArgumentError(
            f"{what} is not an integer", var=var, expected="an int", found=repr(value)
        ) from None
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise InvalidArgumentError(
            f"{what} does not fit in an i64", var=var, expected="-2**63 .. 2**63-1", found=number
        )
    return number


# --------------------------------------------------------------------------------------------
# TensorDesc (FMT-REC-003/004, FMT-DESC-001..005)
#
#   tensor   := u32 tensor_version              ; = 0                      FMT-REC-003
#               i32 desc_size                   ; D, 0 <= D <= remaining   FMT-REC-004, FMT-DESC-004
#               byte desc[D]                    ; VarType.TensorDesc       FMT-DESC-001..003
#               byte data[numel * element_size] ; C order, little-endian   FMT-REC-005/007
#   desc     := 08 varint(data_type) (10 varint(dim))*   ; as written; readers take any
#                                                        ; valid protobuf (FMT-DESC-002)


def encode_tensor_desc(data_type: int, dims: Sequence[int]) -> bytes:
    """``VarType.TensorDesc`` as Paddle writes it: ``08 varint(dtype)`` then ``10 varint(dim)``*.

    The protobuf runtime produces exactly this for a proto2 non-packed repeated int64
    (FMT-DESC-001); the byte dumps Paddle 2.6.2 wrote (spec/chapters/format.md) are the test.
    """
    return _VarTypeProto.TensorDesc(data_type=data_type, dims=list(dims)).SerializeToString()


def _read_tensor_desc(cur: _Cursor) -> tuple[int, int, int, list[int]]:
    """``u32 tensor_version | i32 desc_size | desc`` -> (tensor_version, desc_size, dtype, dims)."""
    at = cur.pos
    tensor_version = cur.unpack("<I", "the tensor version (u32)")
    if tensor_version != TENSOR_VERSION:  # FMT-REC-003
        raise cur.error(
            BadVersionError, "unsupported tensor version", at, expected=TENSOR_VERSION,
            found=tensor_version,
        )
    at = cur.pos
    desc_size = cur.unpack("<i", "the TensorDesc size (i32)")
    if desc_size < 0:  # FMT-DESC-004
        raise cur.error(
            BadTensorDescError, "negative TensorDesc size", at, expected=">= 0", found=desc_size
        )
    at = cur.pos
    raw = bytes(cur.take(desc_size, "the TensorDesc"))  # FMT-DESC-004: size checked first
    try:
        desc = _VarTypeProto.TensorDesc.FromString(raw)
    except DecodeError as exc:  # FMT-DESC-003
        raise cur.error(
            BadTensorDescError, f"TensorDesc is not valid protobuf ({exc})", at,
            expected="a VarType.TensorDesc", found=raw[:16].hex(),
        ) from None
    # proto2 closed enum: a value the schema does not define lands in the unknown fields, so
    # "unknown" and "absent" look alike here, and both are BAD_TENSOR_DESC (FMT-DESC-003).
    if not desc.HasField("data_type"):
        raise cur.error(
            BadTensorDescError, "TensorDesc has no known data_type", at,
            expected="data_type set to a VarType.Type value", found=raw[:16].hex(),
        )
    data_type = int(desc.data_type)
    if not is_element_type(data_type):  # FMT-DTYPE-005
        raise cur.error(
            UnsupportedDtypeError, "data_type is not an element type", at,
            expected="an element type of FMT-DTYPE-001", found=data_type,
        )
    if len(desc.dims) > MAX_RANK:  # FMT-DESC-005
        raise cur.error(
            BadTensorDescError, "TensorDesc has too many dims", at,
            expected=f"at most {MAX_RANK} dims", found=f"{len(desc.dims)} dims",
        )
    return tensor_version, desc_size, data_type, [int(d) for d in desc.dims]


def _data_nbytes(cur: _Cursor, data_type: int, dims: list[int], at: int) -> int:
    """numel * element size, refusing negative dims and 63-bit overflow (FMT-SAFE-002).

    ``numel`` of ``[]`` is 1 (FMT-REC-005).  The 63-bit bound applies to the product of the
    non-zero dims, so ``[0, 2**62]`` is refused like ``[1, 2**62]`` (no array library can
    describe either).  The product is abandoned as soon as it passes the bound, so the work
    stays linear in the number of dims however large they claim to be.
    """
    if any(d < 0 for d in dims):
        raise cur.error(SizeOverflowError, "negative dim", at, expected="dims >= 0", found=dims)
    nbytes = element_type(data_type).size
    for d in dims:
        nbytes *= d or 1
        if nbytes >= _INT63:
            raise cur.error(
                SizeOverflowError, "tensor byte size does not fit in 63 bits", at,
                expected="product of non-zero dims * element size < 2**63", found=f"dims {dims}",
            )
    return 0 if 0 in dims else nbytes


# --------------------------------------------------------------------------------------------
# LoD (FMT-REC-002, FMT-LOD-001..004)
#
#   lod      := u64 lod_level_count             ; L                        FMT-REC-002
#               level{L}                        ; outermost first
#   level    := u64 level_nbytes                ; = 8 * n                  FMT-LOD-003
#               u64 offset[n]                   ; valid per FMT-LOD-002


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


def _normalise_lod(lod: Any, var: Any) -> list[list[int]]:
    """A caller's LoD as lists of ints, or INVALID_LOD when it is not one."""
    try:
        return [[operator.index(offset) for offset in level] for level in (lod or [])]
    except TypeError:
        raise InvalidLodError(
            "the LoD is not a list of lists of integers", var=var,
            expected="a list of lists of offsets", found=repr(lod)[:200],
        ) from None


def _encode_lod(lod: Sequence[Sequence[int]]) -> bytes:
    parts = [struct.pack("<Q", len(lod))]
    for level in lod:
        parts.append(struct.pack("<Q", 8 * len(level)))
        parts.append(np.asarray(level, dtype="<u8").tobytes())
    return b"".join(parts)


class _LodLevels(Sequence[np.ndarray]):
    """The LoD levels of a record being read, as places in the input rather than as objects.

    Only the start of each level's offsets is stored (8 bytes per level, and every level takes
    at least 8 input bytes), and a level becomes a numpy view only while it is looked at.  So a
    header of millions of tiny levels that turns out to be bad costs at most about the input's
    size (FMT-SAFE-003, SAFE-MEM-001); lists are built only once the whole header is good.
    """

    def __init__(self, buf: memoryview) -> None:
        self._buf = buf
        self._starts = array("Q")  # where each level's offsets begin in the input
        self._end = 0  # where the last level ends

    def append(self, start: int, end: int) -> None:
        self._starts.append(start)
        self._end = end

    def __len__(self) -> int:
        return len(self._starts)

    def _level(self, i: int) -> np.ndarray:
        start = self._starts[i]
        stop = self._starts[i + 1] - 8 if i + 1 < len(self._starts) else self._end
        return np.frombuffer(self._buf, dtype="<u8", count=(stop - start) // 8, offset=start)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._level(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._level(index)


def _read_lod(cur: _Cursor) -> _LodLevels:
    at = cur.pos
    levels = cur.unpack("<Q", "the LoD level count (u64)")
    # Each level takes at least its 8-byte size field: refuse counts the input cannot hold
    # before building anything (FMT-LOD-004).
    if levels > cur.remaining // 8:
        raise cur.error(
            TruncatedError, "LoD level count exceeds the input", at,
            expected=f"at least {levels} * 8 bytes of levels", found=f"{cur.remaining} bytes",
        )
    lod = _LodLevels(cur.buf)
    for i in range(levels):
        at = cur.pos
        nbytes = cur.unpack("<Q", f"the byte size of LoD level {i} (u64)")
        if nbytes % 8:  # FMT-LOD-003
            raise cur.error(
                InvalidLodError, f"LoD level {i} byte size is not a multiple of 8", at,
                expected="a multiple of 8", found=nbytes,
            )
        start = cur.pos
        cur.take(nbytes, f"the offsets of LoD level {i}")  # FMT-LOD-004: checked first
        lod.append(start, cur.pos)
    return lod


# --------------------------------------------------------------------------------------------
# Dense-tensor record (FMT-REC-001..007)
#
#   record   := u32 lod_tensor_version          ; = 0                      FMT-REC-001
#               lod                             ;                          FMT-REC-002
#               tensor                          ;                          FMT-REC-003..005
#                                               ; and nothing else         FMT-REC-006


def _as_little_endian(array: np.ndarray, var: Any) -> tuple[np.ndarray, int]:
    """The array in its on-disk byte order, and its element-type code.

    The code comes from the runtime dtype (FMT-DTYPE-002; numpy uint16 is BF16, FMT-DTYPE-003;
    fp8, uint32 and uint64 get their Paddle 3.x codes, FMT-DTYPE-004); dtypes outside the table
    are refused (FMT-DTYPE-006); big-endian becomes little (FMT-REC-007).
    """
    try:
        row = element_type_for_dtype(array.dtype)
    except (KeyError, TypeError):
        raise UnsupportedDtypeError(
            "no element type for this dtype", var=var, expected="a dtype of FMT-DTYPE-001",
            found=str(array.dtype),
        ) from None
    little = array.dtype.newbyteorder("<")
    if array.dtype != little:
        array = array.astype(little)
    return array, row.code


def _payload(array: np.ndarray) -> memoryview:
    """The array's elements in C order (FMT-REC-005), as a view of the array itself: no copy
    unless the array is not C-contiguous.  Viewed as uint8 because memoryview cannot describe
    every dtype (bfloat16, float8); ``reshape(-1)`` keeps a 0-d array's one element."""
    contiguous = array if array.flags.c_contiguous else np.ascontiguousarray(array)
    return memoryview(contiguous.reshape(-1).view(np.uint8))


def _encode_tensor_part(array: np.ndarray, data_type: int) -> list[Buffer]:
    desc = encode_tensor_desc(data_type, array.shape)
    return [struct.pack("<Ii", TENSOR_VERSION, len(desc)), desc, _payload(array)]


def encode_lod_tensor(
    array: Any, lod: Sequence[Sequence[int]] | None = None, *, var: str | None = None,
    data_type: int | None = None,
) -> bytes:
    """One dense-tensor record for ``array`` with ``lod``.

    ``data_type`` overrides the code taken from the dtype.  Only an element type of the same
    size is accepted: it is how a true UINT16 tensor (code 36) is written (FMT-DTYPE-003).
    """
    return b"".join(lod_tensor_parts(array, lod, var=var, data_type=data_type))


def lod_tensor_parts(
    array: Any, lod: Sequence[Sequence[int]] | None = None, *, var: str | None = None,
    data_type: int | None = None,
) -> list[Buffer]:
    """The record of ``encode_lod_tensor`` as the buffers that make it, in order: the header
    pieces, then a view of the array's own memory, so that a file writer sends the payload
    without copying it."""
    array = np.asarray(array)
    lod = _normalise_lod(lod, var)
    problem = check_lod(lod, array.shape)  # FMT-LOD-002: writers refuse invalid LoDs
    if problem:
        raise InvalidLodError(problem, var=var, expected="a valid LoD (FMT-LOD-002)", found=lod)
    array, code = _as_little_endian(array, var)
    if data_type is not None:
        if not is_element_type(data_type):
            raise UnsupportedDtypeError(
                "requested data_type is not an element type", var=var,
                expected="an element type of FMT-DTYPE-001", found=data_type,
            )
        if element_type(data_type).size != array.dtype.itemsize:
            raise UnsupportedDtypeError(
                "requested data_type has another element size", var=var,
                expected=f"a {array.dtype.itemsize}-byte type", found=data_type,
            )
        code = int(data_type)
    head = struct.pack("<I", LOD_TENSOR_VERSION) + _encode_lod(lod)
    return [head, *_encode_tensor_part(array, code)]


def _check_lfs(cur: _Cursor) -> None:
    """FMT-SAFE-004: a Git LFS pointer gets its own error, not BAD_VERSION.

    Checked where every record starts, so a pointer named in a combined stream's place (or
    concatenated into one) is recognised wherever it sits.
    """
    start = bytes(cur.buf[cur.pos : cur.pos + len(LFS_POINTER_PREFIX)])
    if len(start) >= 4 and LFS_POINTER_PREFIX.startswith(start):
        raise cur.error(
            NotATensorFileError, "this is a Git LFS pointer, not tensor data (fetch it with "
            "`git lfs pull`)", cur.pos, expected="a tensor record", found="a Git LFS pointer",
        )


def read_lod_tensor_header(
    buf: Buffer, offset: int = 0, *, path: Any = None, var: Any = None
) -> RecordHeader:
    """Parse the header of the dense-tensor record at ``offset``, checking that its data fits."""
    return _read_lod_tensor_header(_Cursor(buf, offset, path, var))


def _read_lod_tensor_header(cur: _Cursor) -> RecordHeader:
    start = cur.pos
    _check_lfs(cur)
    version = cur.unpack("<I", "the LoD-tensor version (u32)")
    if version != LOD_TENSOR_VERSION:  # FMT-REC-001
        raise cur.error(
            BadVersionError, "unsupported LoD-tensor version", start,
            expected=LOD_TENSOR_VERSION, found=version,
        )
    lod_offset = cur.pos
    lod_views = _read_lod(cur)
    desc_offset = cur.pos
    tensor_version, desc_size, data_type, dims = _read_tensor_desc(cur)
    nbytes = _data_nbytes(cur, data_type, dims, desc_offset + 8)
    problem = check_lod(lod_views, dims)  # FMT-LOD-003
    if problem:
        raise cur.error(
            InvalidLodError, problem, lod_offset, expected="a valid LoD",
            found=_short_lod(lod_views),
        )
    data_offset = cur.pos
    cur.need(nbytes, f"the tensor data ({element_type(data_type).name} {dims})")  # FMT-SAFE-002
    lod = [level.tolist() for level in lod_views]
    return RecordHeader(
        "LoDTensor", start, version, lod, tensor_version, desc_size, data_type, dims,
        data_offset, nbytes, desc_offset=desc_offset, lod_offset=lod_offset,
    )


def _short_lod(levels: Sequence[np.ndarray]) -> str:
    """The LoD for an error message, elided so a hostile 1 GB LoD makes a short message."""
    shown = [
        level.tolist() if len(level) <= 8 else [*level[:4].tolist(), "...", *level[-2:].tolist()]
        for level in levels[:4]
    ]
    return repr(shown if len(levels) <= 4 else [*shown, f"... {len(levels)} levels"])


def _array_from(buf: memoryview, header: RecordHeader, copy: bool) -> np.ndarray:
    """The payload as an array of the table's dtype (FMT-DTYPE-001), shape = dims."""
    dtype = element_type(header.data_type).dtype
    count = header.data_nbytes // dtype.itemsize
    flat = np.frombuffer(buf, dtype=dtype, count=count, offset=header.data_offset)
    array = flat.reshape(header.dims)  # dims [] gives shape () (FMT-REC-005)
    return array.copy() if copy else array


def decode_lod_tensor(
    buf: Buffer, offset: int = 0, *, path: Any = None, var: Any = None, copy: bool = True
) -> DecodedTensor:
    """Decode the dense-tensor record at ``offset``.

    With ``copy=False`` the array is a view into ``buf`` (read-only when ``buf`` is ``bytes``):
    it stays valid as long as ``buf`` is alive and unchanged.
    """
    cur = _Cursor(buf, offset, path, var)
    header = _read_lod_tensor_header(cur)
    return DecodedTensor(_array_from(cur.buf, header, copy), header.lod, header)


# --------------------------------------------------------------------------------------------
# SelectedRows record (FMT-SR-001..003)
#
#   selected_rows := u32 version                ; = 0                      FMT-SR-001
#                    u64 row_count              ; R, 8R <= remaining       FMT-SR-003
#                    i64 rows[R]
#                    i64 height
#                    tensor                     ; no LoD section


def encode_selected_rows(
    array: Any, rows: Sequence[int], height: int, *, var: str | None = None
) -> bytes:
    """One SelectedRows record: the value ``array`` of the ``rows`` of a ``height``-row table.

    Row ids and the height must fit in an i64 (FMT-SR-004).
    """
    return b"".join(selected_rows_parts(array, rows, height, var=var))


def selected_rows_parts(
    array: Any, rows: Sequence[int], height: int, *, var: str | None = None
) -> list[Buffer]:
    """The record of ``encode_selected_rows`` as its buffers, the payload a view of the array
    (see ``lod_tensor_parts``)."""
    rows = [_int64(r, "a row id", var) for r in rows]
    height = _int64(height, "the height", var)
    array, code = _as_little_endian(np.asarray(array), var)
    head = struct.pack("<IQ", SELECTED_ROWS_VERSION, len(rows))
    body = np.asarray(rows, dtype="<i8").tobytes() + struct.pack("<q", height)
    return [head, body, *_encode_tensor_part(array, code)]


def read_selected_rows_header(
    buf: Buffer, offset: int = 0, *, path: Any = None, var: Any = None
) -> RecordHeader:
    """Parse the header of the SelectedRows record at ``offset``, checking that its data fits."""
    return _read_selected_rows_header(_Cursor(buf, offset, path, var))


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
    if count > cur.remaining // 8:  # FMT-SR-003: before allocating the rows
        raise cur.error(
            TruncatedError, "row count exceeds the input", at,
            expected=f"{count} * 8 bytes of rows", found=f"{cur.remaining} bytes",
        )
    # A view, not a copy, until the rest of the header is checked (SAFE-MEM-001), as in _read_lod.
    row_view = np.frombuffer(cur.take(count * 8, "the rows"), dtype="<i8")
    height = cur.unpack("<q", "the SelectedRows height (i64)")
    desc_offset = cur.pos
    tensor_version, desc_size, data_type, dims = _read_tensor_desc(cur)
    nbytes = _data_nbytes(cur, data_type, dims, desc_offset + 8)
    data_offset = cur.pos
    cur.need(nbytes, "the SelectedRows value data")
    return RecordHeader(
        "SelectedRows", start, version, [], tensor_version, desc_size, data_type, dims,
        data_offset, nbytes, rows=row_view.tolist(), height=height, desc_offset=desc_offset,
    )


def decode_selected_rows(
    buf: Buffer, offset: int = 0, *, path: Any = None, var: Any = None, copy: bool = True
) -> DecodedSelectedRows:
    """Decode the SelectedRows record at ``offset`` (``copy`` as for ``decode_lod_tensor``)."""
    cur = _Cursor(buf, offset, path, var)
    header = _read_selected_rows_header(cur)
    assert header.rows is not None and header.height is not None
    return DecodedSelectedRows(_array_from(cur.buf, header, copy), header.rows, header.height, header)


# --------------------------------------------------------------------------------------------
# Whole files and combined streams (FMT-COMB-001..003, FMT-SNIFF-001)
#
#   combined := record*                         ; sorted by var name, no header   FMT-COMB-001


def encode_combined(items: Iterable[tuple[Any, Sequence[Sequence[int]] | None]]) -> bytes:
    """Concatenate dense-tensor records, in the order given (callers sort by name, FMT-COMB-001)."""
    return b"".join(part for array, lod in items for part in lod_tensor_parts(array, lod))


def combined_record_headers(
    buf: Buffer, count: int, *, path: Any = None, names: Sequence[str] | None = None,
    declared_types: Sequence[int | None] | None = None,
) -> list[RecordHeader]:
    """The headers of the ``count`` records a combined stream must hold, or the one error that
    format.md §1.6 gives its mismatch: a record cut short within the first ``count`` is TRUNCATED
    (FMT-SAFE-001), more or fewer whole records RECORD_COUNT_MISMATCH (SEL-LOAD-004), bytes after
    the last expected record that are not whole records TRAILING_BYTES (FMT-COMB-002).

    Every reader of a combined stream that knows its count (``decode_combined`` and ``load_vars``)
    decides through here, so they report the same error for the same bytes.  ``names`` and
    ``declared_types`` (element-type codes, None where undeclared) only improve the messages.
    """
    view = _byte_view(buf)
    headers: list[RecordHeader] = []
    pos = 0
    while pos < len(view) and len(headers) < count:
        var = names[len(headers)] if names is not None and len(headers) < len(names) else None
        header = read_lod_tensor_header(view, pos, path=path, var=var)
        headers.append(header)
        pos = header.end
    found = len(headers)
    extra_at = pos
    try:
        while pos < len(view):
            pos = read_lod_tensor_header(view, pos, path=path).end
            found += 1
    except FluidSpecError:
        raise TrailingBytesError(
            f"bytes after the {count} expected records are not whole records",
            path=path, offset=extra_at, expected=f"end of stream at byte {extra_at}",
            found=f"{len(view) - extra_at} more bytes",
        ) from None
    if found != count:
        raise RecordCountMismatchError(
            f"the combined stream holds {found} records for {count} selected variables; "
            f"{_first_type_difference(headers, names, declared_types)}", path=path,
            expected=f"{count} records", found=f"{found} records",
        )
    return headers


def _first_type_difference(
    headers: Sequence[RecordHeader], names: Sequence[str] | None,
    declared_types: Sequence[int | None] | None,
) -> str:
    """Where a shifted selection most likely starts: the first record whose element type is not
    its variable's declared one."""
    for i, (header, declared) in enumerate(zip(headers, declared_types or (), strict=False)):
        if declared is not None and declared != header.data_type:
            name = names[i] if names is not None and i < len(names) else f"#{i}"
            return (f"first dtype mismatch at position {i}: {name!r} declared "
                    f"{VarType(declared).name}, record {VarType(header.data_type).name}")
    return "no dtype differs in the overlapping positions"


def decode_combined(
    buf: Buffer, count: int | None = None, *, path: Any = None,
    names: Sequence[str] | None = None, copy: bool = True,
    declared_types: Sequence[int | None] | None = None,
) -> list[DecodedTensor]:
    """Decode a combined stream, each record's header parsed once.

    With ``count`` (or ``names``) exactly that many records are expected, and a mismatch is the
    error ``combined_record_headers`` decides.  Without, records are read until the input ends.
    ``names`` and ``declared_types`` only improve error messages.
    """
    if names is not None and count is None:
        count = len(names)
    view = _byte_view(buf)
    if count is not None:
        headers = combined_record_headers(view, count, path=path, names=names,
                                          declared_types=declared_types)
        return [DecodedTensor(_array_from(view, h, copy), h.lod, h) for h in headers]
    out: list[DecodedTensor] = []
    pos = 0
    while pos < len(view):
        decoded = decode_lod_tensor(view, pos, path=path, copy=copy)
        assert decoded.header is not None
        out.append(decoded)
        pos = decoded.header.end
    return out


def read_records(buf: Buffer, *, path: Any = None) -> list[RecordHeader]:
    """The headers of every record in ``buf``, detecting SelectedRows (FMT-SNIFF-001).

    Read as a stream of dense-tensor records; if that fails and the bytes are exactly one valid
    SelectedRows record, that is the answer; otherwise the dense-tensor error is.
    """
    view = _byte_view(buf)
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
    buf: Buffer, *, path: Any = None, var: Any = None, copy: bool = True
) -> DecodedTensor:
    """A separate file holding exactly one dense-tensor record (FMT-COMB-003)."""
    view = _byte_view(buf)
    decoded = decode_lod_tensor(view, 0, path=path, var=var, copy=copy)
    assert decoded.header is not None
    if decoded.header.end != len(view):
        raise TrailingBytesError(
            "bytes after the tensor record", path=path, offset=decoded.header.end, var=var,
            expected=f"end of file at byte {decoded.header.end}",
            found=f"{len(view) - decoded.header.end} more bytes",
        )
    return decoded
