# ruff: noqa: ANN001, ANN201, ANN202  (numba kernels: argument types come from numba, not hints)
"""The parse pass: walk a buffer of dense-tensor records and return offset arrays.

One kernel, ``_walk``, reads records from a position on and either only validates and counts
(``fill=False``) or also fills the per-record arrays (``fill=True``), and may move each payload
to its aligned place as it goes (``compact``, for a buffer the load owns).  The driver runs it
twice so that every allocation is sized by counts taken from bytes that really exist
(FMT-SAFE-003) — or, when the record count is known and the buffer can hold that many records,
once into arrays sized from that count, whose room for dims and LoD levels the kernel never
writes past (the driver falls back to two passes when they were too small).  It stops at the
first problem and reports it as a status code plus offset/expected/found, which
``_errors.raise_for`` turns into the taxonomy error.  The order of the checks inside a record is
the order in which a reader meets the fields, so the same bad bytes give the same error id and
offset as any careful sequential reader:

LFS pointer (FMT-SAFE-004) → version (FMT-REC-001, FMT-SAFE-001) → LoD level count, checked
against the remaining bytes before use (FMT-LOD-004) → each level's size (FMT-LOD-003, multiple
of 8) and offsets → tensor version (FMT-REC-003) → desc size (FMT-DESC-004) → desc
(FMT-DESC-001..003, FMT-DTYPE-005) → dims and byte size (FMT-SAFE-002) → the LoD against the
dims (FMT-LOD-002/003) → the data (FMT-REC-005, FMT-SAFE-001) → after the expected records,
trailing bytes (FMT-COMB-002/003).

The TensorDesc fast path accepts the form every writer produces (FMT-DESC-001: ``08 code``,
then ``10 varint`` per dim).  Any other encoding — packed dims, other field order, unknown
fields, data_type values that are not element types — is legal protobuf that only a protobuf
runtime judges exactly (FMT-DESC-002), so the kernel stops with ``SLOW_DESC``; the driver parses
that one desc with ``spec.framework_pb2`` and hands the result back as an override.
"""

from __future__ import annotations

import numpy as np

from fluidspec.numba_kernels.cpu._jit import get_le, inline, kernel, move_bytes
from fluidspec.spec import LFS_POINTER_PREFIX, MAX_RANK

OK = 0
TRUNCATED = 1
BAD_LOD_TENSOR_VERSION = 2
BAD_TENSOR_VERSION = 3
NEGATIVE_DESC_SIZE = 4
LOD_LEVEL_SIZE = 5
INVALID_LOD = 6
SIZE_OVERFLOW = 7
LFS_POINTER = 8
TRAILING = 9
SLOW_DESC = 10
LOD_COUNT = 11
TOO_MANY_DIMS = 12
ROW_COUNT = 13
ROOM = 14  # a fused pass (``compact``) outgrew the arrays it was given: take two passes

# what a TRUNCATED status was reading
(W_VERSION, W_LEVELS, W_LEVEL_SIZE, W_LEVEL_DATA, W_TVERSION, W_DESC_SIZE, W_DESC, W_DATA,
 W_ROW_COUNT, W_HEIGHT) = range(10)

LFS_MAGIC = np.frombuffer(LFS_POINTER_PREFIX, np.uint8).copy()  # FMT-SAFE-004
_I63MAX = np.int64(9223372036854775807)
_U63 = np.uint64(1 << 63)


# Where a run's payload starts after compaction: 16 suits every element type numpy aligns,
# and a pad below the smallest header (22 bytes) keeps every destination before its source.
COMPACT_ALIGN = 16


def _joins_run(codes, dims_off, dims, data_off, first, j):
    """Whether record ``j`` continues the run that record ``first`` opened (``j - 1`` being its
    last): the same element type and dims, and, past the second record, the same distance from
    the record before.  0-d records are never grouped (iterating a 1-d view would give numpy
    scalars, not 0-d arrays)."""
    nd = dims_off[first + 1] - dims_off[first]
    if nd == 0 or codes[j] != codes[first] or dims_off[j + 1] - dims_off[j] != nd:
        return False
    if j > first + 1 and (data_off[j] - data_off[j - 1]
                          != data_off[first + 1] - data_off[first]):
        return False
    for k in range(nd):
        if dims[dims_off[j] + k] != dims[dims_off[first] + k]:
            return False
    return True


joins_run = inline(_joins_run)


# One function of 200-odd lines with 26 parameters, on purpose: it is the single pass of
# a numba kernel over untrusted bytes, its checks must run in the order the bytes are met (see
# the module docstring), and every output is an array because a kernel cannot take objects.
# Splitting it into helpers would pass the same cursor and status back and forth through
# tuples; the sections below are marked instead.
def _walk(buf, pos, want, sr, sizes, magic, ov_at, ov_code, ov_dims_off, ov_dims, state, fill,
          rec_off, data_off, codes, nbytes_out, dims_off, dims, lvl_off, lvl_pos, lvl_len,
          compact, run_starts, run_at, lod_vals, cstate):
    """Returns ``(status, pos, offset, expected, found, what)``; ``state`` = counters in/out.

    With ``sr`` the records are SelectedRows (FMT-SR-001): ``u32 version | u64 R | i64 rows[R] |
    i64 height`` replaces the LoD, and ``lvl_pos``/``lvl_len`` receive where the rows lie.

    With ``compact`` (and ``fill``, dense records, a writable ``buf``) each record's payload is
    also moved as ``_compact`` moves it, right after its header is read: runs (``_runs``) into
    ``run_starts`` / ``run_at``, and first the record's LoD offsets copied into ``lod_vals``
    (``lvl_pos`` then indexes ``lod_vals``: the move may overwrite the header they sat in).
    ``cstate`` = (runs, cursor, LoD values used, first record of the current run) in/out.  The
    header of the next record follows the payload just moved, so it is read while those bytes
    are still in cache: one pass over the buffer instead of a header walk and then a move.  Any
    status but OK leaves ``buf`` partly moved.
    """
    n = state[0]
    nd = state[1]
    nl = state[2]
    ov = state[3]
    size_all = buf.shape[0]
    while (want < 0 and pos < size_all) or (want >= 0 and n < want):
        s = pos
        state[0] = n
        state[1] = nd
        state[2] = nl
        state[3] = ov
        rem = size_all - s
        if rem >= 4:  # FMT-SAFE-004
            m = min(rem, magic.shape[0])
            same = True
            for k in range(m):
                if buf[s + k] != magic[k]:
                    same = False
                    break
            if same:
                return LFS_POINTER, s, s, 0, 0, 0
        if rem < 4:
            return TRUNCATED, s, s, 4, rem, W_VERSION
        version = get_le(buf, s, 4)
        if version != np.uint64(0):  # FMT-REC-001
            return BAD_LOD_TENSOR_VERSION, s, s, 0, np.int64(version), 0
        p = s + 4
        lod_bad = False
        prev_last = np.uint64(0)
        nlv = 0
        if sr:
            if size_all - p < 8:
                return TRUNCATED, s, p, 8, size_all - p, W_ROW_COUNT
            cnt = get_le(buf, p, 8)
            p += 8
            if cnt > np.uint64((size_all - p) // 8):  # FMT-SR-003, before any allocation
                return ROW_COUNT, s, s + 4, np.int64(cnt & np.uint64(0x7FFFFFFFFFFFFFFF)), size_all - p, 0
            if fill and nl < lvl_pos.shape[0]:  # a one-pass fill may have too little room
                lvl_pos[nl] = p
                lvl_len[nl] = np.int64(cnt)
            nl += 1
            p += 8 * np.int64(cnt)
            if size_all - p < 8:
                return TRUNCATED, s, p, 8, size_all - p, W_HEIGHT
            p += 8
        else:
            if size_all - p < 8:
                return TRUNCATED, s, p, 8, size_all - p, W_LEVELS
            levels = get_le(buf, p, 8)
            p += 8
            if levels > np.uint64((size_all - p) // 8):  # FMT-LOD-004, before any allocation
                return LOD_COUNT, s, s + 4, np.int64(levels & np.uint64(0x7FFFFFFFFFFFFFFF)), size_all - p, 0
            nlv = np.int64(levels)
            for i in range(nlv):
                at = p
                if size_all - p < 8:
                    return TRUNCATED, s, p, 8, size_all - p, W_LEVEL_SIZE
                nb = get_le(buf, p, 8)
                p += 8
                if nb % np.uint64(8) != np.uint64(0):  # FMT-LOD-003
                    return LOD_LEVEL_SIZE, s, at, 0, np.int64(nb & np.uint64(0x7FFFFFFFFFFFFFFF)), 0
                if nb > np.uint64(size_all - p):
                    return TRUNCATED, s, p, np.int64(nb & np.uint64(0x7FFFFFFFFFFFFFFF)), size_all - p, W_LEVEL_DATA
                m = np.int64(nb // np.uint64(8))
                if not lod_bad:  # FMT-LOD-002, judged after the dims are known
                    if m < 2:
                        lod_bad = True
                    else:
                        prev = get_le(buf, p, 8)
                        if prev != np.uint64(0):
                            lod_bad = True
                        if i > 0 and prev_last != np.uint64(m - 1):
                            lod_bad = True
                        for k in range(1, m):
                            if lod_bad:
                                break
                            cur = get_le(buf, p + 8 * k, 8)
                            if cur < prev:
                                lod_bad = True
                            prev = cur
                        prev_last = prev
                if fill and nl < lvl_pos.shape[0]:
                    lvl_pos[nl] = p
                    lvl_len[nl] = m
                nl += 1
                p += 8 * m
        desc_at = p
        if size_all - p < 4:
            return TRUNCATED, s, p, 4, size_all - p, W_TVERSION
        tv = get_le(buf, p, 4)
        if tv != np.uint64(0):  # FMT-REC-003
            return BAD_TENSOR_VERSION, s, p, 0, np.int64(tv), 0
        p += 4
        if size_all - p < 4:
            return TRUNCATED, s, p, 4, size_all - p, W_DESC_SIZE
        ds = np.int64(get_le(buf, p, 4))
        if ds >= 2147483648:  # FMT-DESC-004: the size is an i32
            return NEGATIVE_DESC_SIZE, s, p, 0, ds - 4294967296, 0
        p += 4
        if ds > size_all - p:
            return TRUNCATED, s, p, ds, size_all - p, W_DESC
        # ---- TensorDesc, fast path (FMT-DESC-001)
        e = p + ds
        canonical = ds >= 2 and buf[p] == 8 and buf[p + 1] < 128 and sizes[buf[p + 1]] > 0
        code = 0
        ndim = 0
        any_neg = False
        any_zero = False
        too_big = False
        numel = np.int64(1)
        dim0 = np.uint64(0)
        if canonical:
            code = np.int64(buf[p + 1])
            q = p + 2
            while q < e:
                if buf[q] != 16:
                    canonical = False
                    break
                q += 1
                v = np.uint64(0)
                k = 0
                done = False
                while q < e and k < 10:
                    b = buf[q]
                    q += 1
                    if k == 9 and b > 1:
                        break
                    v |= np.uint64(b & 127) << np.uint64(7 * k)
                    k += 1
                    if b < 128:
                        done = True
                        break
                if not done:
                    canonical = False
                    break
                if fill and nd + ndim < dims.shape[0]:  # a desc found non-canonical later
                    dims[nd + ndim] = np.int64(v)   # may hold more dims than were counted
                if ndim == 0:
                    dim0 = v
                ndim += 1
                if v >= _U63:
                    any_neg = True
                elif v == np.uint64(0):
                    any_zero = True
                elif not too_big:
                    dv = np.int64(v)
                    if numel > _I63MAX // dv:
                        too_big = True
                    else:
                        numel *= dv
        if not canonical:
            if ov < ov_at.shape[0] and ov_at[ov] == p:
                code = ov_code[ov]
                ndim = 0
                any_neg = False
                any_zero = False
                too_big = False
                numel = np.int64(1)
                for k in range(ov_dims_off[ov], ov_dims_off[ov + 1]):
                    dv = ov_dims[k]
                    if fill:
                        dims[nd + ndim] = dv
                    if ndim == 0:
                        dim0 = np.uint64(dv)
                    ndim += 1
                    if dv < 0:
                        any_neg = True
                    elif dv == 0:
                        any_zero = True
                    elif not too_big:
                        if numel > _I63MAX // dv:
                            too_big = True
                        else:
                            numel *= dv
                ov += 1
            else:
                return SLOW_DESC, s, p, ds, 0, 0
        if ndim > MAX_RANK:  # FMT-DESC-005
            return TOO_MANY_DIMS, s, p, MAX_RANK, ndim, 0
        p = e
        # ---- byte size (FMT-SAFE-002): the product of the non-zero dims must fit, even when
        # another dim is 0, and any negative dim is refused
        size = sizes[code]
        if any_neg:
            return SIZE_OVERFLOW, s, desc_at + 8, 0, -1, 0
        if too_big or numel > _I63MAX // size:
            return SIZE_OVERFLOW, s, desc_at + 8, 0, 0, 0
        nbytes = np.int64(0) if any_zero else numel * size
        # ---- the LoD against the dims (FMT-LOD-002/003)
        if lod_bad or (nlv > 0 and (ndim == 0 or prev_last != dim0)):
            return INVALID_LOD, s, s + 4, 0, 0, 0
        if nbytes > size_all - p:
            return TRUNCATED, s, p, nbytes, size_all - p, W_DATA
        if fill:
            rec_off[n] = s
            data_off[n] = p
            codes[n] = code
            nbytes_out[n] = nbytes
            dims_off[n + 1] = nd + ndim
            lvl_off[n + 1] = nl
        if compact:  # ---- the fused move (see the docstring)
            if nd + ndim > dims.shape[0] or nl > lvl_pos.shape[0]:
                return ROOM, s, s, 0, 0, 0
            used = cstate[2]
            for k in range(lvl_off[n], nl):
                m = lvl_len[k]
                if used + m > lod_vals.shape[0]:
                    return ROOM, s, s, 0, 0, 0
                for t in range(m):
                    lod_vals[used + t] = np.int64(get_le(buf, lvl_pos[k] + 8 * t, 8))
                lvl_pos[k] = used
                used += m
            cstate[2] = used
            r = cstate[0]
            cursor = cstate[1]
            if r == 0 or not joins_run(codes, dims_off, dims, data_off, cstate[3], n):
                cursor = (cursor + COMPACT_ALIGN - 1) // COMPACT_ALIGN * COMPACT_ALIGN
                run_starts[r] = n
                run_at[r] = cursor
                cstate[0] = r + 1
                cstate[3] = n
            move_bytes(buf, cursor, p, nbytes)
            cstate[1] = cursor + nbytes
        nd += ndim
        n += 1
        pos = p + nbytes
    state[0] = n
    state[1] = nd
    state[2] = nl
    state[3] = ov
    if want >= 0 and pos != size_all:  # FMT-COMB-002, FMT-COMB-003
        return TRAILING, pos, pos, 0, size_all - pos, 0
    return OK, pos, 0, 0, 0, 0


walk = kernel(_walk)


def _runs(codes, dims_off, dims, data_off, starts):
    """Split records into runs of equal dtype and dims at a constant stride; return the count.

    A run of k records becomes one strided numpy view whose k sub-arrays are the tensors, which
    costs a fraction of building k views one by one.  0-d records are never grouped (iterating a
    1-d view would give numpy scalars, not 0-d arrays).
    """
    n = codes.shape[0]
    r = 0
    i = 0
    while i < n:
        starts[r] = i
        r += 1
        j = i + 1
        while j < n and joins_run(codes, dims_off, dims, data_off, i, j):
            j += 1
        i = j
    starts[r] = n
    return r


runs = kernel(_runs)

def _compact(u8, data_off, nbytes, starts, r, run_at):
    """Move every record's payload towards the start of ``u8``: runs (``_runs``) back to back,
    each at a multiple of ``COMPACT_ALIGN`` (``run_at``), its records contiguous; return the
    end.  A destination never passes its source (the pad is smaller than a header), so moving
    in file order reads every byte before it is overwritten.
    """
    cursor = 0
    for ri in range(r):
        cursor = (cursor + COMPACT_ALIGN - 1) // COMPACT_ALIGN * COMPACT_ALIGN
        run_at[ri] = cursor
        for j in range(starts[ri], starts[ri + 1]):
            move_bytes(u8, cursor, data_off[j], nbytes[j])
            cursor += nbytes[j]
    return cursor


compact = kernel(_compact)
