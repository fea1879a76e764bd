"""``numba_kernels.files``: the file layer of ``numba_kernels.io``, for callers that time or test
it without a Program (the benchmarks of ``fluidspec bench``).

* ``write_file(path, data)`` — one ``os.write`` into a temporary beside ``path``, then an atomic
  replace (SEL-SAVE-008); ``read_file(path)`` — the whole file as one ``uint8`` array.
* ``save_combined(path, arrays, lods)`` — the combined stream written with one ``os.writev`` of
  the headers and the arrays themselves (no copy of the payload), atomically replaced.
* ``save_dense(root, names, arrays, lods)`` / ``load_dense(paths, names)`` — one file per
  variable (SEL-FILE-001): every record encoded into one buffer before the first file is
  touched, and every file read back into one arena and parsed in one pass.
"""

from collections.abc import Sequence
from typing import Any

from fluidspec.numba_kernels import cpu
from fluidspec.numba_kernels._files import read_file, write_chunks, write_file
from fluidspec.numba_kernels._separate import load_dense, save_dense

__all__ = ["write_file", "read_file", "save_combined", "save_dense", "load_dense"]


def save_combined(path: str, arrays: Sequence[Any], lods: Sequence[Any] | None = None) -> None:
    """``arrays`` as one combined stream at ``path`` (SEL-FILE-002, SEL-SAVE-008)."""
    with cpu.no_gc():
        arrs, meta, uniform = cpu.plan(arrays, lods, None, None)
        parts, _ = cpu.encode_parts(arrs, meta, uniform)
    write_chunks([path], [parts])
