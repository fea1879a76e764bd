"""``numba_kernels.files``: the file layer of ``numba_kernels.io``, for callers that time or test
it without a Program (the benchmarks of ``fluidspec bench``).

* ``write_file(path, data)`` — one ``os.write`` into a temporary beside ``path``, then an atomic
  replace (SEL-SAVE-008); ``read_file(path)`` — the whole file as one ``uint8`` array.
* ``save_combined(path, arrays, lods)`` — the combined stream written with one ``os.writev`` of
  the headers and the arrays themselves (no copy of the payload), atomically replaced.
* ``load_combined(path, count)`` — the ``count`` records at ``path`` as ``(array, lod)`` pairs
  of arrays they own: a file of one big record is read header first and then straight into a
  fresh array (``_direct``); any other file whole, parsed in one pass that also moves its
  payloads to aligned places in the same buffer (``cpu.parse_in_place``).
* ``save_dense(root, names, arrays, lods)`` / ``load_dense(paths, names)`` — one file per
  variable (SEL-FILE-001): every record encoded into one buffer before the first file is
  touched, and every file read back into one arena and parsed in one pass.
* ``nul_terminated(paths)`` — paths as the file-call kernels of ``cpu`` take them
  (``write_new_files``, ``link_new_files``, ``rename_files``, ``read_regular_files``):
  ``(bytes, NUL indices)``.
* ``threads_for(rest, probe_seconds_per_file)`` — how many threads the file layer runs over
  ``rest`` more small files after its first ``PROBE_FILES`` took that long each.
"""

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from fluidspec.numba_kernels import _direct, _files, cpu
from fluidspec.numba_kernels._files import _PROBE_FILES as PROBE_FILES
from fluidspec.numba_kernels._files import _nul_terminated as nul_terminated
from fluidspec.numba_kernels._files import _threads_for as threads_for
from fluidspec.numba_kernels._files import read_file, read_split, write_chunks, write_file
from fluidspec.numba_kernels._separate import load_dense, save_dense

__all__ = ["write_file", "read_file", "read_split", "save_combined", "load_combined", "save_dense",
           "load_dense", "nul_terminated", "threads_for", "PROBE_FILES"]


def save_combined(path: str, arrays: Sequence[Any], lods: Sequence[Any] | None = None) -> None:
    """``arrays`` as one combined stream at ``path`` (SEL-FILE-002, SEL-SAVE-008)."""
    with cpu.no_gc():
        arrs, meta, uniform = cpu.plan(arrays, lods, None, None)
        parts = cpu.encode_runs(arrs, meta, uniform)
    write_chunks([path], [parts])


def load_combined(path: str, count: int) -> list[tuple[np.ndarray, list[list[int]]]]:
    """The ``count`` records of the combined stream at ``path`` (SEL-LOAD-005, FMT-COMB-001)."""
    fd = _files.open_for_read(path, None)
    try:
        size = _files.regular_size(fd, path, None)
        planned = (_direct.plan_read(fd, path, None, size)
                   if count == 1 and size >= _direct.DIRECT_MIN else None)
        if planned is not None:  # anything it declines gets the whole-file path and its error
            out = np.empty(planned.shape, planned.dtype)
            _direct.read_into(planned, out)
            return [(out, planned.lod)]
    finally:
        os.close(fd)
    data, parsed = _files.read_file_parsed_in_place(path, count)
    if parsed is None:  # anything unusual, an error among it: parsed and named the usual way
        return cpu.decode(data, True, count, path=path, private=True)
    with cpu.no_gc():
        arrays = cpu.arrays_of(data, parsed, True, True)
        if len(parsed.lvl_len) == 0:
            return [(a, []) for a in arrays]
        return list(zip(arrays, cpu.lods_of(data, parsed), strict=True))
