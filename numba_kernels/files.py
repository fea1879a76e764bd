"""``numba_kernels.files``: the file layer of ``numba_kernels.io``, for callers that time or test
it without a Program (the benchmarks of ``fluidspec bench``).

* ``write_file(path, data)`` — one ``os.write`` into a temporary beside ``path``, then an atomic
  replace (SEL-SAVE-008); ``read_file(path)`` — the whole file as one ``uint8`` array.
* ``save_dense(root, names, arrays, lods)`` / ``load_dense(paths, names)`` — one file per
  variable (SEL-FILE-001): every record encoded into one buffer before the first file is
  touched, and every file read back into one arena and parsed in one pass.
"""

from fluidspec.numba_kernels._files import read_file, write_file
from fluidspec.numba_kernels._separate import load_dense, save_dense

__all__ = ["write_file", "read_file", "save_dense", "load_dense"]
