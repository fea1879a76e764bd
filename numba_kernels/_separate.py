"""Separate-files mode: one record per file, written and read in bulk (SEL-FILE-001).

Saving plans every record with one encoder call (so every check runs before the first file is
touched, SEL-SAVE-008) and writes each file's header and array with one ``os.writev``.  Loading
reads every file into one arena and parses the arena in one pass; when the record boundaries are
exactly the file boundaries, every file held exactly one valid record.  Otherwise the files are
decoded one by one so that the error names the first bad file, with offsets inside that file
(FMT-COMB-003, FMT-SAFE-001).  The arrays are views into the private arena, so they depend on
no caller-visible buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fluidspec.numba_kernels import _files, cpu
from fluidspec.numba_kernels.cpu import no_gc
from fluidspec.spec.errors import FluidSpecError


def encode_records(arrays: Sequence[Any], lods: Sequence[Any] | None,
                   names: Sequence[str]) -> tuple[bytes, list[int]]:
    """All records back to back and their boundaries (``len(arrays) + 1`` offsets)."""
    with no_gc():
        arrs, meta, uniform = cpu.plan(arrays, lods, None, names)
        data = cpu.encode_to_bytes(arrs, meta, uniform)
    parsed = cpu.parse(data, len(arrs))[1]
    return data, [*parsed.rec_off.tolist(), len(data)]


def record_parts(arrays: Sequence[Any], lods: Sequence[Any] | None, names: Sequence[str]
                 ) -> cpu.RecordParts:
    """Each record as ``[header, array]`` for ``os.writev``, or many joined at once for a
    kernel that writes many small files (``cpu.RecordParts``): every check of the encoder runs
    first (one ``plan`` call over all of them, SEL-SAVE-008), and no payload byte is copied."""
    with no_gc():
        arrs, meta, uniform = cpu.plan(arrays, lods, None, names)
        return cpu.RecordParts(arrs, meta, uniform)


def save_dense(root: str, names: Sequence[str], arrays: Sequence[Any],
               lods: Sequence[Any] | None = None) -> None:
    """Write ``root/name`` for each dense tensor (names already checked by the caller)."""
    paths = _files.check_layout(root, names)
    _files.write_chunks(paths, record_parts(arrays, lods, names))


def load_dense(paths: Sequence[str], names: Sequence[str] | None = None, copy: bool = False
               ) -> list[tuple[np.ndarray, list[list[int]]]]:
    """Each file as exactly one dense-tensor record, in order."""
    u8, parsed = index_dense(paths, names)
    with no_gc():
        arrays = cpu.arrays_of(u8, parsed, copy)
        lods = cpu.lods_of(u8, parsed) if len(parsed.lvl_len) else None
        if lods is None:
            return [(a, []) for a in arrays]
        return list(zip(arrays, lods, strict=True))


def index_dense(paths: Sequence[str], names: Sequence[str] | None = None
                ) -> tuple[np.ndarray, cpu.Parsed]:
    """Read every file into one arena and parse it: ``(arena, parsed)``, records = files."""
    arena, bounds = _files.read_files(paths, names)
    n = len(paths)
    try:
        u8, parsed = cpu.parse(arena, n)
        ok = np.array_equal(parsed.rec_off, bounds[:-1])
    except FluidSpecError:
        ok = False
    if not ok:
        for i, path in enumerate(paths):  # raises for the first bad file
            a, b = int(bounds[i]), int(bounds[i + 1])
            cpu.decode(arena[a:b], False, 1, path=path,
                           names=[names[i]] if names is not None else None, whole_file=True)
        raise AssertionError("files parse one by one but not together")  # pragma: no cover
    return u8, parsed
