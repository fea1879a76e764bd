"""A big record read straight into its destination (SEL-LOAD-001, FMT-REC-001..005).

A file holding one big dense record is not read into an arena and copied out: its header comes
from one bounded read (``_HEAD`` bytes) checked by the same parse kernel as every other load,
and then the payload is read with ``preadv`` into the array that will hold it — a fresh one, or
the scope's existing tensor when its dtype and shape already match (the usual
``load_persistables`` after a startup program).  Anything unusual (a non-canonical TensorDesc,
a header that does not fit the window, a file that is not exactly one record) returns None and
the caller takes the whole-file path, which raises the exact taxonomy error.
"""

from __future__ import annotations

import os

import numpy as np

from fluidspec.numba_kernels import cpu
from fluidspec.numba_kernels._files import read_split
from fluidspec.numba_kernels.cpu import DTYPE_BY_CODE, SIZES
from fluidspec.spec.errors import MissingFileError

DIRECT_MIN = 1 << 20  # below this a whole-file read and one copy cost less than two reads
_HEAD = 1 << 16
_E = np.zeros(0, np.int64)


class Planned:
    """One record's header, read from ``fd`` (kept open: a concurrent save may replace the
    path, never the open file)."""

    __slots__ = ("fd", "path", "var", "code", "shape", "lod", "data_off", "nbytes")

    # One field per header value: the record's whole description, filled in one place.
    def __init__(self, fd: int, path: str, var: str | None, code: int, shape: tuple[int, ...],
                 lod: list[list[int]], data_off: int, nbytes: int) -> None:
        self.fd, self.path, self.var, self.code, self.shape = fd, path, var, code, shape
        self.lod, self.data_off, self.nbytes = lod, data_off, nbytes

    @property
    def dtype(self) -> np.dtype:
        return DTYPE_BY_CODE[self.code]


def plan_read(fd: int, path: str, var: str | None, size: int) -> Planned | None:
    """The header of the file's one dense record, or None (see the module doc)."""
    window = np.empty(min(_HEAD, size), np.uint8)
    if os.preadv(fd, [window], 0) != len(window):
        return None
    state = np.zeros(4, np.int64)
    status = cpu.walk(window, 0, 1, False, SIZES, cpu.LFS_MAGIC, _E, _E, _E, _E, state,
                         False, _E, _E, _E, _E, _E, _E, _E, _E, _E, False, _E, _E, _E, _E)
    if status[0] != cpu.TRUNCATED or status[5] != cpu.W_DATA:
        return None  # the record fits the window (small), or the header has a problem
    data_off, nbytes = int(status[2]), int(status[3])
    if data_off + nbytes != size:  # truncated or trailing bytes: the whole-file path says which
        return None
    code, shape, lod = _header_fields(window, data_off)
    return Planned(fd, path, var, code, shape, lod, data_off, nbytes)


def _header_fields(head: np.ndarray, end: int) -> tuple[int, tuple[int, ...], list[list[int]]]:
    """Element type, dims and LoD of a header the parse kernel accepted with the canonical
    TensorDesc (FMT-DESC-001: ``08 code``, then ``10 varint`` per dim)."""
    raw = head[:end].tobytes()
    levels = int.from_bytes(raw[4:12], "little")
    p = 12
    lod = []
    for _ in range(levels):
        m = int.from_bytes(raw[p:p + 8], "little") // 8
        lod.append(np.frombuffer(raw, "<u8", m, p + 8).tolist())
        p += 8 + 8 * m
    p += 8  # tensor version, desc size
    code = raw[p + 1]
    p += 2
    dims = []
    while p < end:
        p += 1  # the 0x10 tag
        value, shift = 0, 0
        while True:
            b = raw[p]
            p += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        dims.append(value)
    return code, tuple(dims), lod


def read_into(planned: Planned, out: np.ndarray, split: bool = True) -> None:
    """The payload into ``out`` (C-contiguous, ``planned.nbytes`` long), by one thread per core
    when it is big (``read_split``; ``split=False`` keeps one read, for a caller already
    reading several files in threads)."""
    got = read_split(planned.fd, memoryview(out).cast("B"), planned.data_off, split)
    if got < planned.nbytes:
        raise MissingFileError("file changed while being read", path=planned.path,
                               var=planned.var,
                               expected=f"{planned.nbytes} bytes", found=f"{got} bytes")
