"""Naming the clause a wrong output breaks.

When bytes differ from the oracle's, "files differ" is no help to an implementer.  These
functions walk both byte strings field by field (format.md's grammar) and report the first field
that differs together with the clause that governs it; value comparisons do the same for loads.
"""

from __future__ import annotations

import struct

import numpy as np

from fluidspec.conformance._case import SelectedRowsValue, TensorValue, Value

__all__ = ["diagnose_record", "diagnose_combined", "diagnose_value"]


def _fields(buf: bytes, pos: int) -> list[tuple[str, str, bytes]]:
    """(field name, clause, raw bytes) for the record at ``pos``; stops where parsing fails."""
    out: list[tuple[str, str, bytes]] = []

    def take(n: int, name: str, clause: str) -> bytes:
        nonlocal pos
        raw = buf[pos : pos + n]
        out.append((name, clause, raw))
        pos += n
        if len(raw) < n:
            raise EOFError
        return raw

    try:
        take(4, "LoD-tensor version", "FMT-REC-001")
        (levels,) = struct.unpack("<Q", take(8, "LoD level count", "FMT-REC-002"))
        if levels > 64:
            raise EOFError
        for i in range(levels):
            (nbytes,) = struct.unpack("<Q", take(8, f"LoD level {i} size", "FMT-REC-002"))
            if nbytes > len(buf):
                raise EOFError
            take(nbytes, f"LoD level {i} offsets", "FMT-LOD-001")
        take(4, "tensor version", "FMT-REC-003")
        (dsize,) = struct.unpack("<i", take(4, "TensorDesc size", "FMT-REC-004"))
        if dsize < 0 or dsize > len(buf):
            raise EOFError
        desc = take(dsize, "TensorDesc", "FMT-DESC-001")
        from fluidspec.spec import element_type
        from fluidspec.spec.framework_pb2 import VarType as _VT

        parsed = _VT.TensorDesc.FromString(desc)
        numel = int(np.prod(list(parsed.dims), dtype=np.int64)) if parsed.dims else 1
        take(numel * element_type(parsed.data_type).size, "data", "FMT-REC-005")
    except Exception:
        pass
    return out


def _desc_clause(exp: bytes, got: bytes) -> str:
    """A TensorDesc difference: element type (FMT-DTYPE-002) or encoding/dims (FMT-DESC-001)."""
    from fluidspec.spec.framework_pb2 import VarType as _VT

    try:
        e, g = _VT.TensorDesc.FromString(exp), _VT.TensorDesc.FromString(got)
    except Exception:
        return "FMT-DESC-001"
    if e.data_type != g.data_type:
        if e.data_type == 22 or g.data_type == 22:
            return "FMT-DTYPE-003"
        return "FMT-DTYPE-002"
    if list(e.dims) != list(g.dims):
        return "FMT-REC-005"  # another shape than the value's
    return "FMT-DESC-001"  # same message, other encoding (packed dims, field order, …)


def diagnose_record(expected: bytes, found: bytes, start: int = 0, *, prefix: bool = False
                    ) -> tuple[str, str] | None:
    """(clause, message) for the first differing field of one record, or None if equal.

    With ``prefix`` the record is only the start of ``found`` (a combined stream goes on).
    """
    if expected == found or (prefix and found.startswith(expected)):
        return None
    ef, ff = _fields(expected, start), _fields(found, start)
    offset = start
    for (name, clause, eraw), (_, _, fraw) in zip(ef, ff, strict=False):
        if eraw != fraw:
            if name == "TensorDesc":
                clause = _desc_clause(eraw, fraw)
            elif name == "TensorDesc size":
                descs = [f[2] for f in (ef, ff) for f in f if f[0] == "TensorDesc"]
                if len(descs) == 2:  # the sizes differ because the descs do: judge the descs
                    clause = _desc_clause(descs[0], descs[1])
            elif name == "LoD level count":
                clause = "FMT-LOD-001"  # another number of levels than the value has
            elif name == "data" and len(eraw) == len(fraw):
                clause = "FMT-REC-007" if _byteswapped(eraw, fraw) else "FMT-REC-005"
            return clause, (f"{name} at offset {offset} differs: expected {eraw[:24].hex()}, "
                            f"found {fraw[:24].hex()}")
        offset += len(eraw)
    if prefix:
        return None
    return "FMT-REC-006", (f"record length differs: expected {len(expected) - start} bytes, "
                           f"found {len(found) - start}")


def _byteswapped(a: bytes, b: bytes) -> bool:
    for size in (2, 4, 8):
        if len(a) % size == 0 and len(a) >= size:
            x = np.frombuffer(a, dtype=f"<u{size}")
            y = np.frombuffer(b, dtype=f">u{size}")
            if np.array_equal(x, y):
                return True
    return False


def diagnose_combined(expected_records: dict[str, bytes], found: bytes) -> tuple[str, str] | None:
    """Compare a combined stream with the oracle's records (name -> bytes)."""
    order = sorted(expected_records)
    expected = b"".join(expected_records[n] for n in order)
    if expected == found:
        return None
    # Same records in another order is the combined-order clause, nothing else.
    remaining = found
    got_names: list[str] = []
    for _ in order:
        for n in order:
            rec = expected_records[n]
            if n not in got_names and remaining.startswith(rec):
                got_names.append(n)
                remaining = remaining[len(rec) :]
                break
        else:
            break
    if not remaining and len(got_names) == len(order):
        return "FMT-COMB-001", f"records are in order {got_names}, expected code-point order {order}"
    pos = 0
    for n in order:
        rec = expected_records[n]
        diag = diagnose_record(rec, found[pos:], prefix=True)
        if diag is not None:
            clause, msg = diag
            return clause, f"record of {n!r} (at offset {pos}): {msg}"
        pos += len(rec)
    return "FMT-COMB-002", f"{len(found) - pos} extra bytes after the last record"


def diagnose_value(expected: Value, found: Value | None, name: str, *, written: bool = True
                   ) -> tuple[str, str] | None:
    """(clause, message) when a loaded value differs from the saved one."""
    if found is None:
        return "FMT-REC-006", f"{name!r} has no value after the load"
    if type(expected) is not type(found):
        return "FMT-SR-001", f"{name!r}: expected a {type(expected).__name__}, found {type(found).__name__}"
    e, f = np.asarray(expected.array), np.asarray(found.array)
    if written and e.dtype == np.uint16:  # FMT-DTYPE-003: a uint16 array is BF16 once written
        import ml_dtypes

        e = e.view(ml_dtypes.bfloat16)
    if e.dtype != f.dtype:
        clause = "FMT-DTYPE-003" if "bfloat16" in (e.dtype.name, f.dtype.name) else "FMT-DTYPE-001"
        return clause, f"{name!r}: dtype {f.dtype.name}, expected {e.dtype.name}"
    if e.shape != f.shape:
        return "FMT-REC-005", f"{name!r}: shape {list(f.shape)}, expected {list(e.shape)}"
    if e.tobytes() != f.tobytes():
        return "FMT-REC-005", f"{name!r}: data differs (expected {e.reshape(-1)[:6]}, found {f.reshape(-1)[:6]})"
    if isinstance(expected, SelectedRowsValue):
        assert isinstance(found, SelectedRowsValue)
        if list(expected.rows) != list(found.rows) or expected.height != found.height:
            return "FMT-SR-001", (f"{name!r}: rows/height {found.rows}/{found.height}, expected "
                                  f"{expected.rows}/{expected.height}")
        return None
    assert isinstance(expected, TensorValue) and isinstance(found, TensorValue)
    if [list(x) for x in expected.lod] != [list(x) for x in found.lod]:
        return "FMT-LOD-001", f"{name!r}: LoD {found.lod}, expected {expected.lod}"
    return None
