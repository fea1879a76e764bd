# ruff: noqa: ANN001, ANN201, ANN202  (numba kernels: argument types come from numba, not hints)
"""Encoding many arrays into one combined stream (or one record each).

Pipeline: one Python pass collects structure-of-arrays metadata, the
``_layout`` kernel computes header and data lengths, the ``_headers`` kernel writes every header
in one call, and the payload is copied by C memcpy — ``bytes.join`` when the result is new
bytes, slice assignment when the caller gives ``out=``.  Touching each numpy array object costs
about 1 µs in any scheme, so the glue touches each one as few times as possible; when all arrays
share dtype and shape and have no LoD (the common "many equal tensors" case) every header is the
same and only one is built.

Rules implemented here, by clause: FMT-DTYPE-002/003/006 (code from the runtime dtype, uint16 as
BF16, unknown dtypes refused), FMT-REC-005 (0-d stays 0-d: shapes are taken before any
normalisation), FMT-REC-007 (big-endian converted), FMT-LOD-002 (invalid LoD refused),
FMT-COMB-001 (records back to back in the order given — callers sort by name).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np

from fluidspec.numba_kernels.cpu._dtypes import SIZES, writer_code
from fluidspec.numba_kernels.cpu._headers import write_headers
from fluidspec.numba_kernels.cpu._jit import kernel
from fluidspec.numba_kernels.cpu._layout import layout
from fluidspec.spec import element_type, is_element_type
from fluidspec.spec.errors import InvalidArgumentError, InvalidLodError, UnsupportedDtypeError

_DTYPE, _SHAPE = attrgetter("dtype"), attrgetter("shape")

_I63 = 1 << 63
_EMPTY = np.zeros(0, np.int64)
_ZERO1 = np.zeros(1, np.int64)


def _lod_problem(vals, lvl_len, first, lvl_count, ndim):
    """FMT-LOD-002 for one tensor; 0 when valid.  ``vals`` are u64 offsets level after level."""
    if lvl_count == 0:
        return 0
    if ndim == 0:
        return 1
    p = 0
    prev_last = np.uint64(0)
    for i in range(lvl_count):
        m = lvl_len[first + i]
        if m < 2:
            return 2
        if vals[p] != np.uint64(0):
            return 3
        for k in range(1, m):
            if vals[p + k] < vals[p + k - 1]:
                return 4
        if i > 0 and prev_last != np.uint64(m - 1):
            return 5
        prev_last = vals[p + m - 1]
        p += m
    return 0


_lod_problem_k = kernel(_lod_problem)


def _check_lods(vals, lvl_len, lvl_off, dims_off, dims, val_start, bad):
    """First tensor whose LoD breaks FMT-LOD-002 (or -1); ``bad[0]`` gets the reason code."""
    n = lvl_off.shape[0] - 1
    for i in range(n):
        cnt = lvl_off[i + 1] - lvl_off[i]
        if cnt == 0:
            continue
        ndim = dims_off[i + 1] - dims_off[i]
        s = val_start[i]
        e = val_start[i + 1]
        r = _lod_problem_k(vals[s:e], lvl_len, lvl_off[i], cnt, ndim)
        if r == 0 and vals[e - 1] != np.uint64(dims[dims_off[i]]):
            r = 6  # the last level must end at dims[0]
        if r != 0:
            bad[0] = r
            return i
    return -1


_check_lods_k = kernel(_check_lods)

_LOD_REASONS = {
    1: "a 0-d tensor cannot have a LoD",
    2: "a level has fewer than 2 offsets",
    3: "a level does not start at 0",
    4: "a level decreases",
    5: "a level's last offset is not the item count of the next level",
    6: "the last level does not end at the tensor's row count",
    7: "an offset is negative or does not fit in 63 bits",
    8: "the LoD is not a list of lists of integers",
}


class _Meta:
    """Structure-of-arrays metadata of the tensors to encode."""

    __slots__ = ("codes", "dims", "dims_off", "lvl_off", "lvl_len", "lod_vals")

    def __init__(self, codes: np.ndarray, dims: np.ndarray, dims_off: np.ndarray,
                 lvl_off: np.ndarray, lvl_len: np.ndarray, lod_vals: np.ndarray) -> None:
        self.codes = codes
        self.dims = dims
        self.dims_off = dims_off
        self.lvl_off = lvl_off
        self.lvl_len = lvl_len
        self.lod_vals = lod_vals


def _name(names: Sequence[str] | None, i: int) -> str | None:
    return names[i] if names is not None and i < len(names) else None


def _flatten_lods(
    lods: Sequence[Any], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """``(lvl_off, lvl_len, lod_vals, first_bad, reason)``; first_bad is a tensor index or n.

    A LoD that is not lists of ints (reason 8) or holds an offset outside [0, 2**63) (reason
    7: FMT-LOD-002 cannot hold then, offsets are at most dims[0]) is flagged here and left out.
    """
    lvl_counts = np.zeros(n, np.int64)
    lens: list[int] = []
    vals: list[int] = []
    first_bad, reason = n, 0
    for i in range(min(n, len(lods))):
        lod = lods[i]
        if not lod:
            continue
        try:
            lod = [[int(x) for x in level] for level in lod]
        except (TypeError, ValueError):
            if first_bad == n:
                first_bad, reason = i, 8
            continue
        if any(x < 0 or x >= _I63 for level in lod for x in level):
            if first_bad == n:
                first_bad, reason = i, 7
            continue
        lvl_counts[i] = len(lod)
        for level in lod:
            lens.append(len(level))
            vals.extend(level)
    lvl_off = np.zeros(n + 1, np.int64)
    np.cumsum(lvl_counts, out=lvl_off[1:])
    return lvl_off, np.array(lens, np.int64), np.array(vals, np.uint64), first_bad, reason


def _first_bad_dtype(dts: list[np.dtype], codes_by_dt: dict[np.dtype, tuple[int, bool]],
                     data_types: Sequence[int | None] | None) -> int:
    """Index of the first tensor whose dtype has no element type, or whose requested
    ``data_type`` is not an element type of its element size; ``len(dts)`` when none."""
    n = len(dts)
    first = n
    if any(c < 0 for c, _ in codes_by_dt.values()):
        first = next(i for i, dt in enumerate(dts) if codes_by_dt[dt][0] < 0)
    for i, dt_code in enumerate((data_types or [])[:n]):
        if i >= first:
            break
        if dt_code is not None and (not is_element_type(dt_code)
                                    or element_type(dt_code).size != dts[i].itemsize):
            return i
    return first


def _flat_lods(lods: Sequence[Any], n: int, dims_off: np.ndarray, dims: np.ndarray,
               first_bad_dtype: int, names: Sequence[str] | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lvl_off, lvl_len, values)`` of every tensor's LoD; raise INVALID_LOD for the first bad
    LoD unless a tensor before it has a bad dtype (that one is reported instead)."""
    lvl_off, lvl_len, lod_vals, first_bad_lod, flat_reason = _flatten_lods(lods, n)
    val_start = np.zeros(n + 1, np.int64)
    per_level = np.zeros(len(lvl_len) + 1, np.int64)
    np.cumsum(lvl_len, out=per_level[1:])
    val_start[:] = per_level[lvl_off]
    reason = np.zeros(1, np.int64)
    bad = _check_lods_k(lod_vals, lvl_len, lvl_off, dims_off, dims, val_start, reason)
    if first_bad_lod < n and (bad < 0 or first_bad_lod <= bad):
        bad, reason[0] = first_bad_lod, flat_reason
    if bad >= 0 and bad <= first_bad_dtype:
        raise InvalidLodError(
            _LOD_REASONS[int(reason[0])], var=_name(names, bad),
            expected="a valid LoD (FMT-LOD-002)", found=repr(lods[bad])[:200],
        )
    return lvl_off, lvl_len, lod_vals


def _raise_bad_dtype(i: int, dts: list[np.dtype], codes_by_dt: dict[np.dtype, tuple[int, bool]],
                     data_types: Sequence[int | None] | None,
                     names: Sequence[str] | None) -> None:
    if codes_by_dt[dts[i]][0] < 0:
        raise UnsupportedDtypeError(
            "no element type for this dtype", var=_name(names, i),
            expected="a dtype of FMT-DTYPE-001", found=str(dts[i]),
        )
    raise UnsupportedDtypeError(
        "requested data_type is not an element type of this element size",
        var=_name(names, i), expected=f"a {dts[i].itemsize}-byte element type",
        found=data_types[i] if data_types is not None else None,
    )


def _little_endian(arrs: list[np.ndarray], codes_by_dt: dict[np.dtype, tuple[int, bool]]
                   ) -> list[np.ndarray]:
    """The arrays with every big-endian one converted (the format is little-endian)."""
    if not any(swap for _, swap in codes_by_dt.values()):
        return arrs
    return [a.astype(a.dtype.newbyteorder("<")) if codes_by_dt[a.dtype][1] else a for a in arrs]


def plan(
    arrays: Sequence[Any], lods: Sequence[Any] | None = None,
    data_types: Sequence[int | None] | None = None, names: Sequence[str] | None = None,
) -> tuple[list[np.ndarray], _Meta, bool]:
    """Normalise the inputs and build metadata; raise the first input's taxonomy error.

    Returns ``(arrays, meta, uniform)``: ``uniform`` means one dtype, one shape, no LoD, no
    override, so that ``meta`` describes the first tensor only and stands for all.
    """
    arrs = list(arrays)
    if set(map(type, arrs)) - {np.ndarray}:  # C-level passes: ~20 ns per array, not ~60
        arrs = [a if type(a) is np.ndarray else np.asarray(a) for a in arrs]
    n = len(arrs)
    has_lod = lods is not None and any(lods)
    overrides = data_types is not None and any(d is not None for d in data_types)
    if (n and not has_lod and not overrides and _all_alike(arrs)
            and writer_code(arrs[0].dtype)[0] >= 0):
        return _uniform_plan(arrs)
    # Past here the tensors differ in dtype or shape, carry a LoD or an override, or have a
    # dtype without an element type: per-tensor metadata, or the first input's error.
    dts = list(map(_DTYPE, arrs))
    codes_by_dt: dict[np.dtype, tuple[int, bool]] = {dt: writer_code(dt) for dt in set(dts)}
    shapes = list(map(_SHAPE, arrs))
    # The first tensor with a problem decides the error, LoD before dtype (as a writer that
    # checks each tensor in turn would report it).
    first_bad_dtype = _first_bad_dtype(dts, codes_by_dt, data_types if overrides else None)

    ndims = np.fromiter(map(len, shapes), np.int64, n)
    dims_off = np.zeros(n + 1, np.int64)
    np.cumsum(ndims, out=dims_off[1:])
    dims = np.fromiter(chain.from_iterable(shapes), np.int64, int(dims_off[-1]))
    if has_lod:
        assert lods is not None
        lvl_off, lvl_len, lod_vals = _flat_lods(lods, n, dims_off, dims, first_bad_dtype, names)
    else:
        lvl_off, lvl_len, lod_vals = np.zeros(n + 1, np.int64), _EMPTY, np.zeros(0, np.uint64)
    if first_bad_dtype < n:
        _raise_bad_dtype(first_bad_dtype, dts, codes_by_dt, data_types, names)
    codes = np.array([codes_by_dt[dt][0] for dt in dts], np.int64)
    for i, dt_code in enumerate((data_types or [])[:n] if overrides else []):
        if dt_code is not None:
            codes[i] = dt_code
    return (_little_endian(arrs, codes_by_dt),
            _Meta(codes, dims, dims_off, lvl_off, lvl_len, lod_vals), False)


_NDIM = attrgetter("ndim")


def _all_alike(arrs: list[np.ndarray]) -> bool:
    """Whether every array has the first one's dtype and shape, told with as few C-level passes
    over the arrays as the rank allows (each pass is 0.2-0.3 ms for 10,000 arrays; a shape tuple
    is made anew on every read, 0.7 ms, which pays only where it replaces three columns).  Exact
    either way: ``plan`` relies on False meaning "not all alike"."""
    first = arrs[0]
    if len(set(map(_DTYPE, arrs))) != 1:
        return False
    ndim = first.ndim
    if ndim >= 2:
        return len(set(map(_SHAPE, arrs))) == 1
    if set(map(_NDIM, arrs)) != {ndim}:
        return False
    return ndim == 0 or set(map(len, arrs)) == {len(first)}  # 1-d: the length is the shape


def _uniform_plan(arrs: list[np.ndarray]) -> tuple[list[np.ndarray], _Meta, bool]:
    """``plan``'s answer for arrays of one dtype (with an element type) and one shape."""
    dtype = arrs[0].dtype
    code, swap = writer_code(dtype)
    shape = arrs[0].shape
    meta = _Meta(np.array([code], np.int64), np.array(shape, np.int64),
                 np.array([0, len(shape)], np.int64), np.zeros(2, np.int64), _EMPTY,
                 np.zeros(0, np.uint64))
    return _little_endian(arrs, {dtype: (code, swap)}), meta, True


def _headers_for(meta: _Meta) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(arena, hdr_pos, nbytes)``: every header back to back in one arena."""
    _, hdr_len, nbytes = layout(meta.codes, SIZES, meta.dims, meta.dims_off, meta.lvl_off,
                                meta.lvl_len)
    hdr_pos = np.zeros(len(hdr_len) + 1, np.int64)
    np.cumsum(hdr_len, out=hdr_pos[1:])
    arena = np.empty(int(hdr_pos[-1]), np.uint8)
    desc_len = hdr_len - 20 - _level_bytes(meta)
    write_headers(arena, hdr_pos, meta.codes, meta.dims, meta.dims_off, meta.lvl_off,
                  meta.lvl_len, meta.lod_vals, desc_len)
    return arena, hdr_pos, nbytes


def _level_bytes(meta: _Meta) -> np.ndarray:
    """Bytes of each tensor's LoD levels (without the u64 count)."""
    n = len(meta.codes)
    if len(meta.lvl_len) == 0:
        return np.zeros(n, np.int64)
    per_level = np.zeros(len(meta.lvl_len) + 1, np.int64)
    np.cumsum(8 + 8 * meta.lvl_len, out=per_level[1:])
    return per_level[meta.lvl_off[1:]] - per_level[meta.lvl_off[:-1]]


def _contiguous(arrs: list[np.ndarray]) -> list[np.ndarray]:
    return [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrs]


def encode_to_bytes(arrs: list[np.ndarray], meta: _Meta, uniform: bool) -> bytes:
    """The combined stream as new ``bytes`` (headers by kernel, payload by one C join)."""
    arena, hdr_pos, _ = _headers_for(meta)
    if uniform:
        parts: list[Any] = [b"", *arrs]
        sep = arena.tobytes()
        try:
            return sep.join(parts)
        except TypeError:  # a non-contiguous array has no simple buffer
            return sep.join([b"", *_contiguous(arrs)])
    hm = memoryview(arena)
    starts = hdr_pos.tolist()
    parts = [None] * (2 * len(arrs))
    parts[0::2] = [hm[a:b] for a, b in zip(starts, starts[1:], strict=False)]
    parts[1::2] = arrs
    try:
        return b"".join(parts)
    except TypeError:
        parts[1::2] = _contiguous(arrs)
        return b"".join(parts)


def encode_parts(arrs: list[np.ndarray], meta: _Meta, uniform: bool
                 ) -> tuple[list[Any], list[int]]:
    """The combined stream as the buffers to write in order — each header (a view of one small
    arena) then the array itself — and where record i's parts start (``len(arrs) + 1``
    indices).  Every part is a C-contiguous ndarray or memoryview (``nbytes`` is its size).
    No payload byte is copied:
    ``os.writev`` takes the arrays as they are, so a save touches each payload byte once, on its
    way to the kernel."""
    arena, hdr_pos, _ = _headers_for(meta)
    n = len(arrs)
    parts: list[Any] = [None] * (2 * n)
    if uniform:
        parts[0::2] = [arena] * n  # one header serves every record
    else:
        hm = memoryview(arena)
        starts = hdr_pos.tolist()
        parts[0::2] = [hm[a:b] for a, b in zip(starts, starts[1:], strict=False)]
    parts[1::2] = _contiguous(arrs)
    return parts, list(range(0, 2 * n + 1, 2))



class RecordParts(Sequence[list[Any]]):
    """One record per array (separate files), each as ``[header, array]`` for ``os.writev``
    (no payload byte copied), made when asked for.  ``bounds`` (``int64``, ``len + 1``)
    delimits the records in their concatenation, and ``joined(first, stop)`` is records
    ``first..stop-1`` back to back, made by one C-level join: a writer of many small files
    takes them a batch at a time so, without a list of parts per file (for 10,000 records the
    per-file lists, their flattening and the join of 20,000 parts cost ~15 ms; the one join of
    the arrays between copies of one shared header, ~2 ms)."""

    __slots__ = ("_arrs", "_arena", "_header_bytes", "_starts", "bounds")

    def __init__(self, arrs: list[np.ndarray], meta: _Meta, uniform: bool) -> None:
        arena, hdr_pos, _ = _headers_for(meta)
        self._arrs = _contiguous(arrs)
        self._arena = arena
        n = len(arrs)
        self.bounds = np.zeros(n + 1, np.int64)
        if uniform:  # one header serves every record
            self._header_bytes: bytes | None = arena.tobytes()
            self._starts: list[int] | None = None
            if n:
                self.bounds[1:] = np.arange(1, n + 1, dtype=np.int64) * (
                    len(arena) + self._arrs[0].nbytes)
        else:
            self._header_bytes = None
            self._starts = hdr_pos.tolist()
            sizes = np.diff(hdr_pos) + np.fromiter(map(_NBYTES, self._arrs), np.int64, n)
            np.cumsum(sizes, out=self.bounds[1:])

    def __len__(self) -> int:
        return len(self._arrs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self))[index]  # an int's place, or IndexError
        return [self._header(i), self._arrs[i]]

    def _header(self, i: int) -> Any:
        if self._starts is None:
            return self._arena
        return memoryview(self._arena)[self._starts[i]:self._starts[i + 1]]

    def joined(self, first: int, stop: int) -> np.ndarray | None:
        """Records ``first..stop-1`` back to back as a new ``uint8`` array; None when an array
        has no plain buffer to join (bfloat16 arrays)."""
        arrs = self._arrs[first:stop]
        try:
            if self._header_bytes is not None:
                data = self._header_bytes.join([b"", *arrs])
            else:
                parts: list[Any] = [None] * (2 * len(arrs))
                parts[0::2] = [self._header(i) for i in range(first, stop)]
                parts[1::2] = arrs
                data = b"".join(parts)
        except (TypeError, ValueError, BufferError):
            return None
        return np.frombuffer(data, np.uint8)


_NBYTES = attrgetter("nbytes")

# A record below this size is copied into a run instead of being its own iovec: the kernel's
# per-segment cost makes writev of 20,000 1-KiB segments ~5x slower than writing the same bytes
# at once (measured here: 14 ms vs 2.5 ms for 10,000 x 1 KiB), while a copy of a small record
# costs less than its segment.  Runs are at most about _RUN_BYTES, so the staging is bounded by
# the small records' own size.
_PACK_BELOW = 1 << 16
_RUN_BYTES = 1 << 20


class StagedRuns:
    """Equal small records (one shared header), joined one run at a time as they are written
    (``write_to``): the staging is one run of about ``_RUN_BYTES``, which the allocator hands
    back for the next run, instead of a fresh copy of the whole payload — whose first-touch
    page faults cost more than the copy itself (10,000 x 1 KiB: ~7 ms for a 10 MiB staging
    against ~1 ms for the join)."""

    __slots__ = ("header", "arrs", "per_run", "nbytes")

    def __init__(self, header: bytes, arrs: list[np.ndarray], record: int) -> None:
        self.header, self.arrs = header, arrs
        self.per_run = max(1, _RUN_BYTES // max(record, 1))
        self.nbytes = record * len(arrs)

    def write_to(self, write: Callable[[bytes], None]) -> None:
        """Hand the stream to ``write`` run by run; concatenated, the bytes of
        ``encode_to_bytes``.  Each run is released before the next is joined: were two alive
        at once, glibc would give the heap back and take it again on every run, and the page
        faults (about 500 per 10 MiB) would triple the cost of the join."""
        for k in range(0, len(self.arrs), self.per_run):
            run = self.arrs[k:k + self.per_run]
            try:
                joined = self.header.join([b"", *run])
            except (TypeError, ValueError, BufferError):  # a non-contiguous array
                joined = self.header.join([b"", *_contiguous(run)])
            write(joined)
            del joined


def encode_runs(arrs: list[np.ndarray], meta: _Meta, uniform: bool) -> list[Any] | StagedRuns:
    """The combined stream as buffers for ``os.writev``: each big record's header, then its
    array itself (no copy of a big payload); runs of small records joined by one C-level join
    each (equal small records: a ``StagedRuns``, joined as they are written).  Concatenated,
    they are the bytes of ``encode_to_bytes``."""
    n = len(arrs)
    if uniform and n:  # one header for all: runs straight from the caller's list of arrays
        arena, _, nbytes = _headers_for(meta)
        record = len(arena) + int(nbytes[0])
        if record < _PACK_BELOW:
            return StagedRuns(arena.tobytes(), arrs, record)
    parts, _ = encode_parts(arrs, meta, uniform)
    if n == 0 or uniform:
        return parts
    out: list[Any] = []
    run: list[Any] = []
    run_bytes = 0
    for i in range(0, 2 * n, 2):
        header, payload = parts[i], parts[i + 1]
        size = header.nbytes + payload.nbytes
        if size >= _PACK_BELOW:
            if run:
                out.append(memoryview(b"".join(run)))
                run, run_bytes = [], 0
            out += (header, payload)
            continue
        run += (header, payload)
        run_bytes += size
        if run_bytes >= _RUN_BYTES:
            out.append(memoryview(b"".join(run)))
            run, run_bytes = [], 0
    if run:
        out.append(memoryview(b"".join(run)))
    return out


def encoded_size(arrs: list[np.ndarray], meta: _Meta, uniform: bool) -> int:
    _, hdr_len, nbytes = layout(meta.codes, SIZES, meta.dims, meta.dims_off, meta.lvl_off,
                                meta.lvl_len)
    per = int(hdr_len.sum() + nbytes.sum())
    return per * len(arrs) if uniform else per


def encode_into(arrs: list[np.ndarray], meta: _Meta, uniform: bool, out: Any) -> np.ndarray:
    """Write the combined stream into the caller's buffer; return the written ``uint8`` view."""
    dst = out if isinstance(out, np.ndarray) else np.frombuffer(out, np.uint8)
    if dst.dtype != np.uint8 or dst.ndim != 1 or not dst.flags.c_contiguous:
        try:
            dst = dst.reshape(-1).view(np.uint8)
        except (ValueError, AttributeError):
            raise InvalidArgumentError(
                "out must be a writable C-contiguous buffer", expected="a writable buffer",
                found=type(out).__name__,
            ) from None
    if not dst.flags.writeable:
        raise InvalidArgumentError("out is read-only", expected="a writable buffer",
                                   found=type(out).__name__)
    arena, hdr_pos, nbytes = _headers_for(meta)
    n = len(arrs)
    if uniform:
        h = len(arena)
        nb = int(nbytes[0])
        rec = np.arange(n, dtype=np.int64) * (h + nb)
        total = n * (h + nb)
    else:
        rec_len = np.diff(hdr_pos) + nbytes
        rec = np.zeros(n + 1, np.int64)
        np.cumsum(rec_len, out=rec[1:])
        total = int(rec[-1])
    if len(dst) < total:
        raise InvalidArgumentError("out is too small", expected=f">= {total} bytes",
                                   found=f"{len(dst)} bytes")
    _scatter_headers_k(dst, rec, arena, hdr_pos, uniform)
    arrs = _contiguous(arrs)
    starts = rec.tolist()
    hlens = np.diff(hdr_pos).tolist() if not uniform else None
    for i, a in enumerate(arrs):
        d = starts[i] + (len(arena) if uniform else hlens[i])  # type: ignore[index]
        nb = a.nbytes
        if nb:
            dst[d:d + nb] = a.reshape(-1).view(np.uint8)
    return dst[:total]


def _scatter_headers(dst, rec, arena, hdr_pos, uniform):
    for i in range(rec.shape[0] if uniform else rec.shape[0] - 1):
        if uniform:
            a, b = 0, arena.shape[0]
        else:
            a, b = hdr_pos[i], hdr_pos[i + 1]
        dv = dst[rec[i]:rec[i] + (b - a)]
        sv = arena[a:b]
        for j in range(b - a):
            dv[j] = sv[j]


_scatter_headers_k = kernel(_scatter_headers)
