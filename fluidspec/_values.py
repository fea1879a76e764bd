"""A record's values, read in bounded memory: statistics (``inspect --values``) and comparison
(``diff``).

Headers are parsed from a read-only mmap of the file (:func:`map_file`), which touches only the
pages holding them; values are read with ``pread`` in chunks of :data:`CHUNK_BYTES`, so a
1 GiB parameter never sits in memory whole — neither as an array nor as mapped pages.
"""

from __future__ import annotations

import math
import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.reference.codec import RecordHeader
from fluidspec.spec import element_type

__all__ = ["CHUNK_BYTES", "ValueSource", "map_file", "value_stats", "compare_sources"]

#: Bytes of one record read at a time (a few float64 temporaries of it stay well under 100 MB).
CHUNK_BYTES = 4 << 20
FIRST_SHOWN = 5  # elements ``--values`` lists from the start of a tensor


def map_file(path: Path) -> Any:
    """The file's bytes as a read-only buffer: an mmap, or ``b""`` for an empty file (which
    mmap refuses)."""
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return b""
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


@dataclass(frozen=True)
class ValueSource:
    """Where a record's values are in a file: element type, byte offset and element count."""

    path: Path
    dtype: np.dtype
    offset: int
    count: int

    @classmethod
    def of(cls, path: Path, header: RecordHeader) -> ValueSource:
        dtype = element_type(header.data_type).dtype
        return cls(path, dtype, header.data_offset, header.data_nbytes // dtype.itemsize)

    def chunks(self, elements: int | None = None) -> Iterator[np.ndarray]:
        """The values in order, ``elements`` at a time (default: :data:`CHUNK_BYTES` worth)."""
        step = elements or max(1, CHUNK_BYTES // self.dtype.itemsize)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for start in range(0, self.count, step):
                n = min(step, self.count - start)
                raw = os.pread(fd, n * self.dtype.itemsize, self.offset + start * self.dtype.itemsize)
                yield np.frombuffer(raw, dtype=self.dtype)
        finally:
            os.close(fd)


def _plain(value: Any) -> Any:
    """A JSON-able scalar: non-finite floats as the strings "nan", "inf", "-inf"."""
    if isinstance(value, (complex, np.complexfloating)):
        return [_plain(value.real), _plain(value.imag)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _wide(chunk: np.ndarray) -> np.ndarray:
    """Floating values (bfloat16/float8 included: numpy kind "V") as float64/complex128."""
    return chunk.astype(np.complex128 if chunk.dtype.kind == "c" else np.float64)


def value_stats(source: ValueSource) -> dict[str, Any]:
    """min, max, mean, NaN and Inf counts and the first elements, one chunk at a time.

    For floating types min/max/mean are over the finite values (None when there are none);
    complex values get counts and mean only; bool min/max/mean treat True as 1.
    """
    kind = source.dtype.kind
    first: list[Any] = []
    lo = hi = None
    total, counted, nans, infs = 0.0 + 0j if kind == "c" else 0.0, 0, 0, 0
    for chunk in source.chunks():
        if len(first) < FIRST_SHOWN:
            first += [_plain(v) for v in chunk[: FIRST_SHOWN - len(first)].tolist()]
        if kind in "biu":
            values = chunk.astype(np.int64) if kind == "b" else chunk
        else:
            wide = _wide(chunk)
            nan = np.isnan(wide)
            inf = np.isinf(wide)
            nans, infs = nans + int(nan.sum()), infs + int(inf.sum())
            values = wide[~(nan | inf)]
        if values.size == 0:
            continue
        total += values.sum(dtype=values.dtype if kind == "c" else np.float64)
        counted += values.size
        if kind != "c":
            lo = values.min() if lo is None else min(lo, values.min())
            hi = values.max() if hi is None else max(hi, values.max())
    return {
        "count": source.count,
        "min": None if lo is None else _plain(lo),
        "max": None if hi is None else _plain(hi),
        "mean": _plain(total / counted) if counted else None,
        "nan": nans,
        "inf": infs,
        "first": first,
    }


def _differ(a: np.ndarray, b: np.ndarray, atol: float, rtol: float) -> tuple[int, Any]:
    """(elements differing beyond ``atol + rtol * |b|``, their max abs difference) in a chunk.

    Integers are subtracted in unsigned 64-bit so that no difference overflows; floating types
    in float64 or complex128, where NaN equals NaN and NaN versus a number differs (its
    difference is nan).
    """
    if a.dtype.kind == "b":
        count = int(np.count_nonzero(a != b))
        return count, (1 if count else None)
    if a.dtype.kind in "iu":
        wide = np.uint64
        diff = np.where(a >= b, a.astype(wide) - b.astype(wide), b.astype(wide) - a.astype(wide))
        limit = atol + rtol * np.abs(b.astype(np.float64)) if rtol else atol
        differ = diff > limit
        count = int(np.count_nonzero(differ))
        return count, (int(diff[differ].max()) if count else None)
    fa, fb = _wide(a), _wide(b)
    nan_a, nan_b = np.isnan(fa), np.isnan(fb)
    with np.errstate(invalid="ignore"):  # inf - inf: compared as equal when both are the same inf
        diff = np.abs(np.where(nan_a | nan_b | (fa == fb), 0, fa - fb))
    differ = (nan_a ^ nan_b) | (diff > atol + rtol * np.abs(np.where(nan_b, 0, fb)))
    count = int(np.count_nonzero(differ))
    if not count:
        return 0, None
    if np.any(nan_a ^ nan_b):
        return count, float("nan")
    return count, float(diff[differ].max())


def compare_sources(a: ValueSource, b: ValueSource, atol: float = 0.0,
                    rtol: float = 0.0) -> tuple[int, Any]:
    """Compare two records of the same type and count chunk by chunk: (differing, max diff)."""
    count, worst = 0, None
    for chunk_a, chunk_b in zip(a.chunks(), b.chunks(), strict=True):
        n, m = _differ(chunk_a, chunk_b, atol, rtol)
        count += n
        if m is not None:
            worst = m if worst is None or m != m or (worst == worst and m > worst) else worst
    return count, worst
