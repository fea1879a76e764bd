"""Decoding: the parse pass (``_parse``), then zero-copy views or owned copies.

Lifetime rule of zero-copy views (``copy=False``): each array is a view into the buffer that
was decoded and keeps a reference to it, so the buffer cannot be freed under it; but the views
see any later change to that buffer (a ``bytearray`` or a writable ``mmap``), they are read-only
when the buffer is ``bytes``, and an ``mmap`` cannot be closed while one of them is alive
(``BufferError``).  Views may be unaligned (records are packed with no padding, FMT-REC-005):
numpy handles that on every CPU.  ``copy=True`` returns arrays that own aligned memory and no
longer depend on the buffer — except that a buffer the caller declares ``private`` (a file just
read into a fresh array) is reused: the payloads are moved to aligned places inside it and the
arrays are views of it, since nobody else can see it change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fluidspec.numba_kernels.cpu import _parse
from fluidspec.numba_kernels.cpu._dtypes import DTYPE_BY_CODE, SIZES
from fluidspec.numba_kernels.cpu._gc import no_gc
from fluidspec.spec import MAX_RANK, VarType, is_element_type
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

_EMPTY_I = np.zeros(0, np.int64)

_WHAT = {
    _parse.W_VERSION: "the LoD-tensor version (u32)",
    _parse.W_LEVELS: "the LoD level count (u64)",
    _parse.W_LEVEL_SIZE: "a LoD level byte size (u64)",
    _parse.W_LEVEL_DATA: "the offsets of a LoD level",
    _parse.W_TVERSION: "the tensor version (u32)",
    _parse.W_DESC_SIZE: "the TensorDesc size (i32)",
    _parse.W_DESC: "the TensorDesc",
    _parse.W_DATA: "the tensor data",
    _parse.W_ROW_COUNT: "the SelectedRows row count (u64)",
    _parse.W_HEIGHT: "the SelectedRows height (i64)",
}


class Parsed:
    """Per-record offset arrays of a parsed buffer (all int64).

    After ``parse_in_place`` the payloads have moved: ``run_starts`` / ``run_at`` say where
    (the runs of ``_parse.runs`` and each one's new offset), and ``lvl_pos`` indexes
    ``lod_vals`` instead of the buffer.  Otherwise those three are None."""

    __slots__ = ("n", "rec_off", "data_off", "codes", "nbytes", "dims_off", "dims", "lvl_off",
                 "lvl_pos", "lvl_len", "end", "run_starts", "run_at", "lod_vals")

    def __init__(self, **kw: Any) -> None:
        self.run_starts = self.run_at = self.lod_vals = None
        for k, v in kw.items():
            setattr(self, k, v)

    def shape(self, i: int) -> tuple[int, ...]:
        return tuple(self.dims[self.dims_off[i]:self.dims_off[i + 1]].tolist())


def as_u8(buf: Any) -> np.ndarray:
    """A read-only flat ``uint8`` array over ``buf`` (one numba type for every input)."""
    if isinstance(buf, np.ndarray) and buf.dtype == np.uint8 and buf.ndim == 1 and (
            buf.flags.c_contiguous):
        u8 = buf.view()
    else:
        try:
            view = memoryview(buf)
        except TypeError:
            raise InvalidArgumentError(
                "input is not a bytes-like object", expected="bytes, bytearray or another buffer",
                found=type(buf).__name__,
            ) from None
        if not view.c_contiguous:  # copied once; at most the input's size (FMT-SAFE-003)
            view = memoryview(view.tobytes())
        u8 = np.frombuffer(view, np.uint8) if view.nbytes else np.zeros(0, np.uint8)
    u8.flags.writeable = False
    return u8


def _slow_desc(u8: np.ndarray, at: int, size: int, path: Any, var: Any) -> tuple[int, list[int]]:
    """A non-canonical TensorDesc, judged by the protobuf runtime (FMT-DESC-002/003, DTYPE-005)."""
    from google.protobuf.message import DecodeError  # only non-canonical descs need it

    from fluidspec.spec.framework_pb2 import VarType as _VarTypeProto

    raw = u8[at:at + size].tobytes()
    try:
        desc = _VarTypeProto.TensorDesc.FromString(raw)
    except DecodeError as exc:
        raise BadTensorDescError(
            f"TensorDesc is not valid protobuf ({exc})", path=path, offset=at, var=var,
            expected="a VarType.TensorDesc", found=raw[:16].hex(),
        ) from None
    if not desc.HasField("data_type"):  # absent, or a value outside the enum
        raise BadTensorDescError(
            "TensorDesc has no known data_type", path=path, offset=at, var=var,
            expected="data_type set to a VarType.Type value", found=raw[:16].hex(),
        )
    code = int(desc.data_type)
    if not is_element_type(code):
        raise UnsupportedDtypeError(
            "data_type is not an element type", path=path, offset=at, var=var,
            expected="an element type of FMT-DTYPE-001", found=code,
        )
    if len(desc.dims) > MAX_RANK:  # FMT-DESC-005
        raise BadTensorDescError(
            "TensorDesc has too many dims", path=path, offset=at, var=var,
            expected=f"at most {MAX_RANK} dims", found=f"{len(desc.dims)} dims",
        )
    return code, [int(d) for d in desc.dims]


def _raise(status: tuple[int, ...], path: Any, var: Any) -> None:
    code, _, off, expected, found, what = status
    kw = {"path": path, "offset": off, "var": var}
    if code == _parse.TRUNCATED:
        raise TruncatedError(f"input ends inside {_WHAT[what]}", expected=f"{expected} bytes",
                             found=f"{max(found, 0)} bytes", **kw)
    if code == _parse.LOD_COUNT:
        raise TruncatedError("LoD level count exceeds the input",
                             expected=f"room for {expected} levels", found=f"{found} bytes", **kw)
    if code == _parse.ROW_COUNT:
        raise TruncatedError("row count exceeds the input",
                             expected=f"{expected} * 8 bytes of rows", found=f"{found} bytes", **kw)
    if code == _parse.BAD_LOD_TENSOR_VERSION:
        raise BadVersionError("unsupported LoD-tensor version", expected=0, found=found, **kw)
    if code == _parse.BAD_TENSOR_VERSION:
        raise BadVersionError("unsupported tensor version", expected=0, found=found, **kw)
    if code == _parse.NEGATIVE_DESC_SIZE:
        raise BadTensorDescError("negative TensorDesc size", expected=">= 0", found=found, **kw)
    if code == _parse.TOO_MANY_DIMS:
        raise BadTensorDescError("TensorDesc has too many dims", expected=f"at most {expected} dims",
                                 found=f"{found} dims", **kw)
    if code == _parse.LOD_LEVEL_SIZE:
        raise InvalidLodError("LoD level byte size is not a multiple of 8",
                              expected="a multiple of 8", found=found, **kw)
    if code == _parse.INVALID_LOD:
        raise InvalidLodError("the LoD is not valid for this tensor",
                              expected="a valid LoD (FMT-LOD-002)", found="an invalid LoD", **kw)
    if code == _parse.SIZE_OVERFLOW:
        raise SizeOverflowError(
            "negative dim" if found < 0 else "tensor byte size does not fit in 63 bits",
            expected="dims >= 0 and < 2**63 bytes", found="a dim < 0" if found < 0 else
            ">= 2**63 bytes", **kw)
    if code == _parse.LFS_POINTER:
        raise NotATensorFileError(
            "this is a Git LFS pointer, not tensor data (fetch it with `git lfs pull`)",
            expected="a tensor record", found="a Git LFS pointer", **kw)
    if code == _parse.TRAILING:
        raise TrailingBytesError("bytes left after the last expected record",
                                 expected=f"the end of the input at byte {off}",
                                 found=f"{found} more bytes", **kw)
    raise AssertionError(f"unknown parse status {code}")  # pragma: no cover


def parse(buf: Any, count: int | None = None, *, path: Any = None,
          names: Sequence[str] | None = None, selected_rows: bool = False,
          whole_file: bool = False, declared_types: Sequence[Any] | None = None,
          ) -> tuple[np.ndarray, Parsed]:
    """Validate and index every record in ``buf``.

    ``count=None`` reads records until the input ends.  With ``count`` a combined stream must
    be exactly that many records, and a mismatch is the one error format.md §1.6 gives it
    (``_parse_combined``).  ``whole_file`` says the buffer is one variable's file (or
    ``selected_rows`` one SelectedRows record): anything after its record is TRAILING_BYTES
    (FMT-COMB-003), the variable's error.  ``names`` and ``declared_types`` (element-type
    codes, or enum members ``int()`` makes them, None where undeclared) only improve the
    messages.
    """
    if count is not None and count > 0 and not selected_rows:  # the usual, well-formed input
        u8 = as_u8(buf)
        once = _index_once(u8, int(count))
        if once is not None:
            return u8, once
    if count is None or whole_file or selected_rows:
        return _index(buf, count, path, names, selected_rows, whole_file)
    return _parse_combined(buf, int(count), path, names, declared_types)


def _parse_combined(buf: Any, count: int, path: Any, names: Sequence[str] | None,
                    declared_types: Sequence[Any] | None) -> tuple[np.ndarray, Parsed]:
    """A record cut short within the first ``count`` is that record's error (TRUNCATED,
    FMT-SAFE-001); more or fewer whole records are RECORD_COUNT_MISMATCH (SEL-LOAD-004); bytes
    after the ``count``-th record that are not whole records are TRAILING_BYTES (FMT-COMB-002)."""
    try:
        u8, p = _index(buf, None, path, names, False, False)
    except FluidSpecError:
        # The first bad record lies within the first `count` (its own error) or after them
        # (the bytes there are not whole records): reading exactly `count` raises either.
        _index(buf, count, path, names, False, False)
        raise AssertionError("a stream that fails to parse parsed") from None  # pragma: no cover
    if p.n != count:
        raise RecordCountMismatchError(
            f"the combined stream holds {p.n} records for {count} selected variables; "
            f"{_first_type_difference(p, names, declared_types)}", path=path,
            expected=f"{count} records", found=f"{p.n} records")
    return u8, p


def _first_type_difference(p: Parsed, names: Sequence[str] | None,
                           declared_types: Sequence[Any] | None) -> str:
    """Where a shifted selection most likely starts: the first record whose element type is not
    its variable's declared one."""
    codes = p.codes.tolist()
    for i, (code, as_declared) in enumerate(zip(codes, declared_types or (), strict=False)):
        declared = None if as_declared is None else int(as_declared)
        if declared is not None and declared != code:
            name = names[i] if names is not None and i < len(names) else f"#{i}"
            return (f"first dtype mismatch at position {i}: {name!r} declared "
                    f"{VarType(declared).name}, record {VarType(code).name}")
    return "no dtype differs in the overlapping positions"


# The smallest record: u32 version, u64 LoD level count, u32 tensor version, i32 desc size and
# a two-byte TensorDesc (``08 code``), no data.
_MIN_RECORD = 22
# Room per record for dims in a one-pass parse (4 covers nearly every model's tensors; a file
# with more is parsed in two passes).
_DIMS_PER_RECORD = 4


def _room_for(u8: np.ndarray, want: int) -> Parsed | None:
    """Arrays for exactly ``want`` dense records filled in one pass, sized from ``want`` only
    after checking it against the buffer's size (FMT-SAFE-003); None when it cannot hold that
    many."""
    if want <= 0 or want > u8.shape[0] // _MIN_RECORD:
        return None
    return Parsed(
        n=want, rec_off=np.empty(want, np.int64), data_off=np.empty(want, np.int64),
        codes=np.empty(want, np.int64), nbytes=np.empty(want, np.int64),
        dims_off=np.zeros(want + 1, np.int64), dims=np.empty(_DIMS_PER_RECORD * want, np.int64),
        lvl_off=np.zeros(want + 1, np.int64), lvl_pos=np.empty(want, np.int64),
        lvl_len=np.empty(want, np.int64), end=0,
    )


def _trim(p: Parsed, state: np.ndarray, status: tuple[int, ...]) -> Parsed | None:
    """``p`` cut to what the pass filled, or None unless it read exactly ``p.n`` records
    within the room it had."""
    nd, nl = int(state[1]), int(state[2])
    if (status[0] != _parse.OK or int(state[0]) != p.n or nd > len(p.dims)
            or nl > len(p.lvl_pos)):
        return None
    p.dims, p.lvl_pos, p.lvl_len, p.end = p.dims[:nd], p.lvl_pos[:nl], p.lvl_len[:nl], int(
        status[1])
    return p


def _index_once(u8: np.ndarray, want: int) -> Parsed | None:
    """Exactly ``want`` dense records in one pass, when the buffer can hold that many and every
    desc is canonical; None otherwise (the two-pass path then also finds the error)."""
    p = _room_for(u8, want)
    if p is None:
        return None
    state = np.zeros(4, np.int64)
    e = _EMPTY_I
    status = _parse.walk(u8, 0, want, False, SIZES, _parse.LFS_MAGIC, e, e, e, e, state, True,
                         p.rec_off, p.data_off, p.codes, p.nbytes, p.dims_off, p.dims, p.lvl_off,
                         p.lvl_pos, p.lvl_len, False, e, e, e, e)
    return _trim(p, state, status)


# Room for LoD offsets in a fused pass, per record (a file with more is read again and parsed
# the usual way), and never more than the bytes left beside the smallest records could hold.
_LOD_VALUES_PER_RECORD = 4


def parse_in_place(u8: np.ndarray, count: int,
                   filled: Callable[[int], tuple[int, bool]] | None = None
                   ) -> tuple[Parsed | None, bool]:
    """Exactly ``count`` dense records of a buffer nobody else sees (a file just read), parsed
    and their payloads moved to aligned places in the same pass (``_parse.walk`` with
    ``compact``): what ``parse`` and then ``arrays_of(..., copy=True, private=True)`` do, with
    each header read while the bytes before it are still in cache.

    ``filled``, when given, is how far ``u8`` is being filled meanwhile (a file read on another
    thread): ``filled(walked)`` waits until more than ``walked`` bytes from the start are in,
    or no more will come, and returns ``(bytes in, whether that is all)``.  The pass then walks
    each piece as it arrives.  Until the last piece, wherever the walk stops is only "not
    yet": a record running past the bytes in, but also a check judged against them (a LoD
    level count larger than the bytes left could hold, the first bytes of a Git LFS pointer);
    the walk moves no bytes of the record it stops at and does not count it (what it wrote of
    it into the index arrays is written again), so it walks that record again with more bytes,
    and only the answer over the final length counts.  A record it stops at again waits for
    the bytes from its start to double, so a record spanning many pieces (a long LoD) is
    walked a logarithmic number of times, not once a piece.  A walk never writes past the bytes
    it has read, so it never meets the filling.

    Returns ``(parsed, intact)``.  ``parsed`` is None for anything but a well-formed stream of
    exactly ``count`` records whose descs are canonical and whose dims and LoDs fit the room of
    one pass; ``intact`` then says whether ``u8`` still holds what was read.  When it does not,
    the caller reads the file again and takes ``parse`` (which names the error, if any).
    """
    if not (u8.flags.writeable and u8.ctypes.data % _parse.COMPACT_ALIGN == 0):
        return None, True
    p = _room_for(u8, count)
    if p is None:
        return None, True
    p.run_starts = np.empty(count + 1, np.int64)
    p.run_at = np.empty(count, np.int64)
    p.lod_vals = np.empty(min(_LOD_VALUES_PER_RECORD * count,
                              (u8.shape[0] - _MIN_RECORD * count) // 8), np.int64)
    state, cstate = np.zeros(4, np.int64), np.zeros(4, np.int64)
    e = _EMPTY_I
    size, final = (u8.shape[0], True) if filled is None else filled(0)
    pos = 0
    while True:
        status = _parse.walk(u8[:size], pos, count, False, SIZES, _parse.LFS_MAGIC, e, e, e, e,
                             state, True, p.rec_off, p.data_off, p.codes, p.nbytes, p.dims_off,
                             p.dims, p.lvl_off, p.lvl_pos, p.lvl_len, True, p.run_starts,
                             p.run_at, p.lod_vals, cstate)
        if final or filled is None:
            break
        stopped = int(status[1])  # where the record it stopped at starts, or after the last one
        size, final = filled(size if stopped > pos else stopped + 2 * (size - stopped))
        pos = stopped
    runs = int(cstate[0])
    if _trim(p, state, status) is None:
        return None, runs == 0  # nothing moved before the first record's move
    p.run_starts[runs] = count
    p.run_starts, p.run_at = p.run_starts[:runs + 1], p.run_at[:runs]
    p.lod_vals = p.lod_vals[:int(cstate[2])]
    return p, False


def _index(buf: Any, count: int | None, path: Any, names: Sequence[str] | None,
           selected_rows: bool, whole_file: bool) -> tuple[np.ndarray, Parsed]:
    """Every record in ``buf``; with ``count``, exactly that many and nothing after them."""
    u8 = as_u8(buf)
    want = -1 if count is None else int(count)
    ov_at: list[int] = []
    ov_code: list[int] = []
    ov_dims: list[int] = []
    ov_dims_off: list[int] = [0]
    state = np.zeros(4, np.int64)
    pos = 0
    e = _EMPTY_I

    def overrides() -> tuple[np.ndarray, ...]:
        return (np.array(ov_at, np.int64), np.array(ov_code, np.int64),
                np.array(ov_dims_off, np.int64), np.array(ov_dims, np.int64))

    ovs = overrides()
    while True:  # pass 1: validate and count; resumes after each non-canonical desc
        status = _parse.walk(u8, pos, want, selected_rows, SIZES, _parse.LFS_MAGIC, *ovs, state, False,
                             e, e, e, e, e, e, e, e, e, False, e, e, e, e)
        if status[0] == _parse.OK:
            break
        rec = int(state[0])
        if status[0] == _parse.TRAILING and whole_file:
            rec = 0  # a separate file: the bytes after its record belong to its variable
        var = names[rec] if names is not None and rec < len(names) else None
        if status[0] != _parse.SLOW_DESC:
            _raise(status, path, var)
        code, dims = _slow_desc(u8, status[2], status[3], path, var)
        ov_at.append(status[2])
        ov_code.append(code)
        ov_dims.extend(dims)
        ov_dims_off.append(len(ov_dims))
        ovs = overrides()
        pos = status[1]
    n, nd, nl = int(state[0]), int(state[1]), int(state[2])
    p = Parsed(
        n=n, rec_off=np.empty(n, np.int64), data_off=np.empty(n, np.int64),
        codes=np.empty(n, np.int64), nbytes=np.empty(n, np.int64),
        dims_off=np.zeros(n + 1, np.int64), dims=np.empty(nd, np.int64),
        lvl_off=np.zeros(n + 1, np.int64), lvl_pos=np.empty(nl, np.int64),
        lvl_len=np.empty(nl, np.int64), end=int(status[1]),
    )
    state[:] = 0
    status = _parse.walk(u8, 0, want, selected_rows, SIZES, _parse.LFS_MAGIC, *ovs, state, True, p.rec_off,
                         p.data_off, p.codes, p.nbytes, p.dims_off, p.dims, p.lvl_off,
                         p.lvl_pos, p.lvl_len, False, e, e, e, e)
    assert status[0] == _parse.OK and int(state[0]) == n
    return u8, p


def lods_of(u8: np.ndarray, p: Parsed) -> list[list[list[int]]]:
    """Every record's LoD as lists of ints (``[]`` when it has none)."""
    out: list[list[list[int]]] = [[] for _ in range(p.n)]
    if len(p.lvl_len):
        lo = p.lvl_off.tolist()
        pos = p.lvl_pos.tolist()
        ln = p.lvl_len.tolist()
        values = p.lod_vals  # after ``parse_in_place``: copied out before the payloads moved
        for i in np.flatnonzero(p.lvl_off[1:] != p.lvl_off[:-1]).tolist():
            out[i] = [np.frombuffer(u8, "<u8", ln[k], pos[k]).tolist() if values is None
                      else values[pos[k]:pos[k] + ln[k]].tolist()
                      for k in range(lo[i], lo[i + 1])]
    return out


def _c_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides = []
    step = itemsize
    for d in reversed(shape):
        strides.append(step)
        step *= max(d, 1)
    return tuple(reversed(strides))


def arrays_of(u8: np.ndarray, p: Parsed, copy: bool, private: bool = False
              ) -> list[np.ndarray]:
    """The records' arrays: zero-copy views into ``u8`` or owned copies (see module doc).

    ``private`` (with ``copy``) says nobody else sees ``u8``'s memory, as with a file just read:
    the payloads are then moved to aligned places inside it (``_parse.compact``) instead of
    being copied out, which spares a second buffer as big as the file and its page faults.
    """
    if p.run_at is not None:  # ``parse_in_place`` has run and moved the payloads already
        starts, r = p.run_starts, len(p.run_at)
    else:
        starts = np.empty(p.n + 1, np.int64)
        r = _parse.runs(p.codes, p.dims_off, p.dims, p.data_off, starts)
    heads = starts[:r]
    st = starts[:r + 1].tolist()
    codes = p.codes[heads].tolist()
    nbs = p.nbytes[heads].tolist()
    if p.run_at is not None:
        offs = p.run_at.tolist()
        steps = nbs
        copy = copy and not private
    elif copy and private and u8.flags.writeable and u8.ctypes.data % _parse.COMPACT_ALIGN == 0:
        run_at = np.empty(r, np.int64)
        _parse.compact(u8, p.data_off, p.nbytes, starts, r, run_at)
        offs = run_at.tolist()
        steps = nbs
        copy = False
    else:
        offs = p.data_off[heads].tolist()
        steps = (p.data_off[np.minimum(heads + 1, p.n - 1)] - p.data_off[heads]).tolist()
    out: list[np.ndarray] = []
    for i, (a, b) in enumerate(zip(st, st[1:], strict=False)):
        dtype = DTYPE_BY_CODE[codes[i]]
        shape = p.shape(a)
        k = b - a
        off = offs[i]
        nb = nbs[i]
        if k == 1:
            if copy:
                own = np.empty(nb, np.uint8)
                own[:] = u8[off:off + nb]
                out.append(own.view(dtype).reshape(shape))
            else:
                out.append(np.ndarray(shape, dtype, buffer=u8, offset=off))
            continue
        if copy:
            own = np.empty(k * nb, np.uint8)
            src = np.ndarray((k, nb), np.uint8, buffer=u8, offset=off, strides=(steps[i], 1))
            own.reshape(k, nb)[...] = src
            out.extend(own.view(dtype).reshape((k, *shape)))
        else:
            out.extend(np.ndarray((k, *shape), dtype, buffer=u8, offset=off,
                                  strides=(steps[i], *_c_strides(shape, dtype.itemsize))))
    return out


def decode(buf: Any, copy: bool = False, count: int | None = None, *, path: Any = None,
           names: Sequence[str] | None = None, whole_file: bool = False, private: bool = False,
           ) -> list[tuple[np.ndarray, list[list[int]]]]:
    """Every record of ``buf`` as ``(array, lod)``; ``private``: see ``arrays_of``."""
    u8, p = parse(buf, count, path=path, names=names, whole_file=whole_file)
    if private and copy and isinstance(buf, np.ndarray) and buf.flags.writeable:
        u8.flags.writeable = True  # a view of the caller's own writable array
    with no_gc():
        if len(p.lvl_len) == 0:
            return [(a, []) for a in arrays_of(u8, p, copy, private)]
        lods = lods_of(u8, p)  # before a private buffer's payloads move over the LoDs
        return list(zip(arrays_of(u8, p, copy, private), lods, strict=True))


def decode_selected_rows(buf: Any, copy: bool = False, *, path: Any = None,
                         name: str | None = None) -> tuple[np.ndarray, list[int], int]:
    """A buffer holding exactly one SelectedRows record (FMT-SR-001, FMT-COMB-003)."""
    u8, p = parse(buf, 1, path=path, names=[name] if name else None, selected_rows=True,
                  whole_file=True)
    array = arrays_of(u8, p, copy)[0]
    at, count = int(p.lvl_pos[0]), int(p.lvl_len[0])
    rows = np.frombuffer(u8, "<i8", count, at).tolist()
    height = int(np.frombuffer(u8, "<i8", 1, at + 8 * count)[0])
    return array, rows, height
