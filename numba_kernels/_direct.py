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
from fluidspec.numba_kernels._files import _cores, _runs_in_threads
from fluidspec.numba_kernels.cpu import DTYPE_BY_CODE, SIZES
from fluidspec.spec.errors import MissingFileError

DIRECT_MIN = 1 << 20  # below this a whole-file read and one copy cost less than two reads
SPLIT_FROM = 16 << 20  # from here a payload is read by one thread per core (``read_into``)
_SPLIT_WORKERS = 4
_SPLIT_BLOCK = 1 << 20  # pieces start on a MiB of the payload
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
    """The payload into ``out`` (C-contiguous, ``planned.nbytes`` long).

    A payload of ``SPLIT_FROM`` bytes or more is read as one contiguous piece per core, each
    by its own thread (``preadv`` releases the GIL): the copy out of the page cache, and for a
    fresh array the faulting in and zeroing of its pages, then run on every core.  Measured
    here (2 cores, warm page cache, 256 MiB): 46 ms in one read into a fresh array, 27–35 ms
    in two; 37 against 21 ms into an existing one; 16 MiB: 2.4 against 1.7 ms; 4 MiB: even.
    ``split=False`` keeps one read (a caller already reading several files in threads).
    Every piece finishes before a failure is raised; the earliest piece's failure wins, so
    ``found`` is the first payload byte that could not be read, as in one read."""
    view = memoryview(out).cast("B")
    workers = min(_cores(), _SPLIT_WORKERS) if split and planned.nbytes >= SPLIT_FROM else 1
    if workers < 2:
        _read_span(planned, view, 0, planned.nbytes)
        return
    blocks = -(-planned.nbytes // _SPLIT_BLOCK)
    _runs_in_threads(lambda a, b: _read_span(planned, view, a * _SPLIT_BLOCK,
                                             min(b * _SPLIT_BLOCK, planned.nbytes)),
                     0, blocks, workers)


def _read_span(planned: Planned, view: memoryview, lo: int, hi: int) -> None:
    """Payload bytes ``lo..hi-1`` into ``view[lo:hi]``; one call moves at most ~2 GiB."""
    done = lo
    while done < hi:
        got = os.preadv(planned.fd, [view[done:hi]], planned.data_off + done)
        if got <= 0:
            raise MissingFileError("file changed while being read", path=planned.path,
                                   var=planned.var,
                                   expected=f"{planned.nbytes} bytes", found=f"{done} bytes")
        done += got
