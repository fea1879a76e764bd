"""Low-level API for callers who hold arrays, not Programs.

``encode`` turns arrays (+ LoD) into one combined stream — the bytes of FMT-COMB-001, each
record as FMT-REC-001..007 define it — either as new ``bytes`` or written into the caller's
buffer.  ``decode`` turns such a buffer back into ``(array, lod)`` pairs, as zero-copy views or
owned copies (lifetime rule in ``numba_kernels.cpu._decode``).  Bad input raises the
``spec.errors`` taxonomy error a careful reader/writer raises for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fluidspec.numba_kernels import cpu
from fluidspec.numba_kernels.cpu import no_gc
from fluidspec.spec.errors import InvalidArgumentError

__all__ = [
    "encode",
    "encode_array",
    "encode_record",
    "encode_selected_rows",
    "encoded_size",
    "decode",
    "decode_record",
    "decode_selected_rows",
    "parse",
]

_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_SR_PREFIX = 12  # u32 version + u64 level count of a record without LoD


def encode(
    arrays: Sequence[Any], lods: Sequence[Any] | None = None, out: Any = None, *,
    data_types: Sequence[int | None] | None = None, names: Sequence[str] | None = None,
) -> bytes | np.ndarray:
    """Encode ``arrays`` (with ``lods[i]`` as tensor i's LoD) back to back, in the given order.

    Returns new ``bytes``; with ``out`` (a writable buffer at least ``encoded_size`` bytes
    long) writes there instead and returns the written ``uint8`` view of it.  ``data_types[i]``
    forces tensor i's element-type code (only a code of the same element size; that is how a
    true UINT16, code 36, is written — FMT-DTYPE-003).  ``names`` only improve error messages.
    """
    with no_gc():
        arrs, meta, uniform = cpu.plan(arrays, lods, data_types, names)
        if out is None:
            return cpu.encode_to_bytes(arrs, meta, uniform)
        return cpu.encode_into(arrs, meta, uniform, out)


#: average bytes per tensor from which ``encode_array`` copies into a numpy buffer
_LARGE = 1 << 20


def encode_array(arrays: Sequence[Any], lods: Sequence[Any] | None = None, *,
                 data_types: Sequence[int | None] | None = None,
                 names: Sequence[str] | None = None) -> np.ndarray:
    """Like ``encode`` but returns a new ``uint8`` array: the fastest form for big tensors.

    numpy allocates large arrays on transparent huge pages, so filling a fresh 256 MiB array
    costs a fraction of the page faults a fresh ``bytes`` object does.  For many small tensors
    ``bytes.join`` is faster than any per-array copy, so then the result is a (read-only) array
    over those bytes.
    """
    with no_gc():
        arrs, meta, uniform = cpu.plan(arrays, lods, data_types, names)
        total = cpu.encoded_size(arrs, meta, uniform)
        if arrs and total // len(arrs) >= _LARGE:
            return cpu.encode_into(arrs, meta, uniform, np.empty(total, np.uint8))
        return np.frombuffer(cpu.encode_to_bytes(arrs, meta, uniform), np.uint8)


def encoded_size(arrays: Sequence[Any], lods: Sequence[Any] | None = None) -> int:
    """Bytes ``encode(arrays, lods)`` produces (to size an ``out`` buffer)."""
    arrs, meta, uniform = cpu.plan(arrays, lods)
    return cpu.encoded_size(arrs, meta, uniform)


def encode_record(array: Any, lod: Sequence[Sequence[int]] | None = None, *,
                  data_type: int | None = None, name: str | None = None) -> bytes:
    """One dense-tensor record (the content of a separate-files save of one variable)."""
    result = encode([array], [lod] if lod else None, data_types=[data_type],
                    names=[name] if name is not None else None)
    assert isinstance(result, bytes)
    return result


def decode(buffer: Any, copy: bool = False, count: int | None = None, *, path: Any = None,
           names: Sequence[str] | None = None) -> list[tuple[np.ndarray, list[list[int]]]]:
    """Decode every record of ``buffer`` into ``(array, lod)``.

    ``count=None`` reads until the input ends; with ``count``, exactly that many records must
    be there: a record cut short is TRUNCATED, more or fewer whole records
    RECORD_COUNT_MISMATCH, other bytes after them TRAILING_BYTES (format.md §1.6).
    ``copy=False`` gives zero-copy views valid while ``buffer`` lives unchanged.
    """
    return cpu.decode(buffer, copy, count, path=path, names=names)


def decode_record(buffer: Any, copy: bool = False, *, path: Any = None,
                  name: str | None = None) -> tuple[np.ndarray, list[list[int]]]:
    """A buffer holding exactly one record, as a separate file does (FMT-COMB-003)."""
    return cpu.decode(buffer, copy, 1, path=path, names=[name] if name else None,
                          whole_file=True)[0]


def parse(buffer: Any, count: int | None = None, *, path: Any = None) -> cpu.Parsed:
    """Only the parse pass: per-record offset arrays (``rec_off``, ``data_off``, ``codes``,
    ``nbytes``, ``dims``/``dims_off``, ``lvl_*``) without building any array."""
    return cpu.parse(buffer, count, path=path)[1]


def _int64(value: Any, what: str, name: str | None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{what} is not an integer", var=name, expected="an int",
                                   found=repr(value)) from None
    if not _I64_MIN <= number <= _I64_MAX:
        raise InvalidArgumentError(f"{what} does not fit in an i64", var=name,
                                   expected="-2**63 .. 2**63-1", found=number)
    return number


def encode_selected_rows(array: Any, rows: Sequence[int], height: int, *,
                         name: str | None = None) -> bytes:
    """One SelectedRows record (FMT-SR-001): ``u32 0 | u64 R | i64 rows[R] | i64 height`` and
    the value tensor without a LoD section."""
    row_ids = [_int64(r, "a row id", name) for r in rows]
    h = _int64(height, "the height", name)
    record = encode_record(array, name=name)
    head = np.zeros(2 + len(row_ids), "<i8")
    head[0] = len(row_ids)
    head[1:1 + len(row_ids)] = row_ids
    head[-1] = h
    return b"".join([b"\0\0\0\0", head.tobytes(), memoryview(record)[_SR_PREFIX:]])


def decode_selected_rows(buffer: Any, copy: bool = False, *, path: Any = None,
                         name: str | None = None) -> tuple[np.ndarray, list[int], int]:
    """``(value, rows, height)`` of a buffer holding exactly one SelectedRows record."""
    return cpu.decode_selected_rows(buffer, copy, path=path, name=name)

