"""The CPU kernels of the tensor format, and the names the rest of numba_kernels uses them by.

Everything outside this package (``numba_kernels.arrays``, the save/load API modules,
``numba_kernels.cuda``) imports only the names below; the private modules are free to change.

* Encode: ``plan(arrays, lods, data_types, names)`` checks and flattens the inputs into
  ``(arrs, meta, uniform)``; ``encode_to_bytes`` / ``encode_into`` / ``encoded_size`` then write
  (or size) the combined stream, and ``encode_parts`` lists its buffers (headers, then the arrays
  themselves) for ``os.writev``; ``RecordParts`` holds one record per array for separate files,
  each as its buffers or many joined at once.  ``layout`` computes every record's header and payload offsets
  (the CUDA encoder runs it too, so both paths place bytes identically).
* Decode: ``parse(buffer, count, ...)`` checks every record and returns ``(uint8 view, Parsed)``;
  ``parse_in_place`` also moves the payloads of a file just read to aligned places, in the same
  pass; ``arrays_of`` / ``lods_of`` read a ``Parsed`` back out; ``decode`` and
  ``decode_selected_rows`` do both steps; ``as_u8`` views any buffer as bytes.
* Tables: ``SIZES`` (element size by data-type code), ``DTYPE_BY_CODE``, ``writer_code``.
* Files: ``read_regular_files`` reads many regular files into one arena, ``write_new_files`` and
  ``rename_files`` create and rename many small ones, ``link_new_files`` writes many small ones
  into unnamed files linked under names that do not exist yet, all from nopython code (the fast paths of
  separate-files loads and saves; ``can_call_files`` says whether this platform has them).
* Support: ``no_gc`` (the cyclic collector off around bulk allocation) and ``kernel`` (how every
  CPU kernel is compiled, for the selection kernel of the API layer).

The scalar byte helpers the kernels inline are one level up, in ``numba_kernels._scalar``: the
CUDA kernels compile the very same source from there, without importing this package (the PTX
check runs where only numba is installed).
"""

from fluidspec.numba_kernels.cpu._decode import (
    Parsed,
    arrays_of,
    as_u8,
    decode,
    decode_selected_rows,
    lods_of,
    parse,
    parse_in_place,
)
from fluidspec.numba_kernels.cpu._dtypes import DTYPE_BY_CODE, SIZES, writer_code
from fluidspec.numba_kernels.cpu._encode import (
    RecordParts,
    StagedRuns,
    encode_into,
    encode_parts,
    encode_runs,
    encode_to_bytes,
    encoded_size,
    plan,
)
from fluidspec.numba_kernels.cpu._file_calls import (
    MOST_PER_CALL,
    READ_ALL,
    READ_FAILED,
    READ_FLAGS,
    READ_FULL,
    READ_TOO_BIG,
    can_call_files,
    link_new_files,
    proc_fd_path,
    read_regular_files,
    rename_files,
    write_new_files,
)
from fluidspec.numba_kernels.cpu._gc import no_gc
from fluidspec.numba_kernels.cpu._jit import kernel
from fluidspec.numba_kernels.cpu._layout import layout
from fluidspec.numba_kernels.cpu._parse import LFS_MAGIC, TRUNCATED, W_DATA, walk

__all__ = [
    "plan", "encode_to_bytes", "encode_parts", "encode_runs", "StagedRuns", "RecordParts",
    "encode_into",
    "encoded_size", "layout",
    "parse", "parse_in_place", "Parsed", "arrays_of", "lods_of", "decode", "decode_selected_rows", "as_u8",
    "SIZES", "DTYPE_BY_CODE", "writer_code",
    "no_gc", "kernel",
    # many small files read or written without Python per file (Linux)
    "read_regular_files", "write_new_files", "link_new_files", "rename_files", "can_call_files",
    "READ_FLAGS", "MOST_PER_CALL", "proc_fd_path", "READ_ALL", "READ_FAILED", "READ_FULL", "READ_TOO_BIG",
    # the parse kernel itself, for reading one record's header from a bounded window
    "walk", "LFS_MAGIC", "TRUNCATED", "W_DATA",
]
