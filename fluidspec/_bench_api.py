"""The Fluid API beside the file layer: ``save_params`` / ``load_params`` of a Program holding one
Parameter per tensor, and the least any implementation of them must do in Python.

The file-layer rows of ``fluidspec bench`` (``numba``, ``reference``) take arrays and give
arrays back.  A user calls ``save_params(exe, dirname, program, filename)``: the selection, the
scope lookups and the checks of declared dtype and shape are per Variable, in Python, through the
Fluid object model (``fluidspec.reference`` here; ``paddle.fluid`` behaves alike).  Floors
say how much of that cost no implementation avoids:

* ``limit-read-views`` (load): one plain read of the file (from 16 MiB on, one piece per core
  on a thread each, as ``numba_kernels`` reads) plus one ndarray per record — a loader that
  returns ``n`` arrays creates ``n`` array objects, whatever it does with the bytes.
* ``limit-read-pairs`` (load): the same, plus the ``(array, lod)`` pair and the empty LoD list
  per record that the file layer's ``load_combined`` returns.  No header is parsed and no
  payload is moved to an aligned place, so it is lower than any correct loader.
* ``limit-read-fresh`` (load, one big tensor): the payload alone (the file's last bytes) read
  with ``preadv`` straight into a fresh ``numpy.empty``, one contiguous piece per core on a
  thread each, no header parsed — the least a loader does that returns the tensor in new
  memory.  The kernel faults in and zeroes that memory
  during the read; a loader that refills memory it already holds (Paddle's allocator keeps
  freed blocks for the next tensor) does not pay that.
* ``limit-gather-write`` (save): one look at every array's dtype and at its shape (a saver must
  know both to write the headers), the records gathered run by run and plain writes of them; no
  lock, no temporary, no atomic replace.  The gather is the cheapest measured here, the one
  ``numba_kernels`` uses (a C-level join per run of about 1 MiB; ``os.writev`` of the 20,000
  buffers is slower), not a proven minimum: compiled code handing the arrays to ``writev``
  could skip its copy.
* ``limit-stream-write`` (save, one big tensor): the stream's header then the array itself in
  one ``os.writev`` into a new file whose blocks are reserved first (``posix_fallocate``, as
  numpy's ``tofile`` does); no lock, no temporary, no atomic replace, no staging.  The payload
  sits after a header of 20-odd bytes, so its address and file position disagree, which costs
  the kernel's copy more on some CPUs; a saver can instead stage the payload through a buffer
  placed to agree (an extra copy), which is faster on others, and on two cores one thread can
  stage while the other writes.  Where staging wins, this floor is slower than
  ``numba_kernels`` and proves nothing.
* ``limit-fluid-objects`` (save and load): the plain write / read plus, per Variable, what the
  spec asks an implementation to look at (SEL-CAND-003 is it a Parameter, its name; on load its
  declared dtype and shape, SEL-LOAD-002/005) and the scope holder it reads from or assigns to
  (API-SCOPE-001) — no selection kernel, no encoding, no validation of the bytes.
* ``limit-directory-ops`` (save, one file per tensor, into a new directory): the directory's
  own calls of an atomic save — per file an unnamed file opened, linked under its name and
  closed, on the threads ``numba_kernels`` would use (SEL-SAVE-008) — with nothing written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

NUMBA_API = "numba-api"
REFERENCE_API = "reference-api"
READ_VIEWS = "limit-read-views"
READ_PAIRS = "limit-read-pairs"
GATHER_WRITE = "limit-gather-write"
FLUID_OBJECTS = "limit-fluid-objects"
DIRECTORY_OPS = "limit-directory-ops"
STREAM_WRITE = "limit-stream-write"
READ_FRESH = "limit-read-fresh"
API_IMPLS = (NUMBA_API, REFERENCE_API)
IMPLS = (*API_IMPLS, READ_VIEWS, READ_PAIRS, GATHER_WRITE, FLUID_OBJECTS, DIRECTORY_OPS,
         STREAM_WRITE, READ_FRESH)
_GATHER_RUN_BYTES = 1 << 20


class ApiCase:
    """A Program with one Parameter per array; each implementation (and each floor) works in
    a scope of its own holding the arrays' values, so that what one leaves in its scope (a
    view, a fresh array) never decides how the next one loads."""

    def __init__(self, arrs: list[np.ndarray]) -> None:
        import fluidspec.reference as fluid
        from fluidspec.numba_kernels import io as numba_io

        self.fluid = fluid
        self.arrs = arrs
        self.program = fluid.Program()
        block = self.program.global_block()
        self.names = [f"w{i:06d}" for i in range(len(arrs))]
        for name, array in zip(self.names, arrs, strict=True):
            block.create_parameter(name=name, shape=list(array.shape), dtype=str(array.dtype))
        self.exe = fluid.Executor(fluid.CPUPlace())
        self.shape = tuple(arrs[0].shape) if arrs else ()
        self._io = {NUMBA_API: numba_io, REFERENCE_API: fluid.io}

    def _scope(self) -> Any:
        """A new scope holding a copy of every value (as a startup program would leave it)."""
        scope = self.fluid.Scope()
        for name, array in zip(self.names, self.arrs, strict=True):
            scope.var(name).get_tensor().set(array, self.fluid.CPUPlace())
        return scope

    def _in_new_scope(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        scope = self._scope()

        def call() -> Any:
            with self.fluid.scope_guard(scope):
                return fn()
        return call

    def save(self, impl: str, dirname: Callable[[], str]) -> Callable[[], Any]:
        """``impl``'s ``save_params`` of the Program into ``dirname()``, one combined file."""
        io = self._io[impl]
        return self._in_new_scope(lambda: io.save_params(self.exe, dirname(), self.program,
                                                         filename="combined"))

    def load(self, impl: str, dirname: str) -> Callable[[], Any]:
        """``impl``'s ``load_params`` of the Program from ``dirname``'s combined file."""
        io = self._io[impl]
        return self._in_new_scope(lambda: io.load_params(self.exe, dirname, self.program,
                                                         filename="combined"))

    def objects_save(self, path: Callable[[], str], encoded: bytes) -> Callable[[], Any]:
        """The save floor: each Parameter's name and scope array, then one plain write."""
        Parameter = self.fluid.framework.Parameter  # noqa: N806 (a class)
        scope = self._scope()

        def save() -> None:
            arrays = [scope.find_var(v.name).get_tensor()._array
                      for v in self.program.list_vars() if isinstance(v, Parameter)]
            assert len(arrays) == len(self.names)
            with open(path(), "wb") as f:
                f.write(encoded)
        return save

    def objects_load(self, path: str, n: int, nbytes: int) -> Callable[[], Any]:
        """The load floor: one plain read and one view per record, then per Parameter its name,
        declared dtype and shape, and the scope tensor it is assigned to."""
        Parameter = self.fluid.framework.Parameter  # noqa: N806 (a class)
        scope = self._scope()
        views = read_views(path, n, nbytes, self.shape)

        def load() -> None:
            arrays = views()
            params = [v for v in self.program.list_vars() if isinstance(v, Parameter)]
            for var, array in zip(params, arrays, strict=True):
                var.dtype, var.shape  # noqa: B018 (read, as a loader's checks read them)
                scope.var(var.name).get_tensor()._array = array
        return load


def read_views(path: str, n: int, nbytes: int, shape: tuple[int, ...]) -> Callable[[], Any]:
    """One plain read of the combined file, then one float32 view per record (the records of
    a uniform case are equally long: the header is what is left of the file per record).

    The file is read the way ``numba_kernels`` reads one (a fresh ``numpy.empty`` array, and
    its ``read_split``: from 16 MiB on one piece per core), not into a ``bytes`` object: for
    large files numpy's allocation is cheaper (it asks for huge pages), and a floor must carry
    no cost the implementation it bounds avoids."""
    from fluidspec.numba_kernels.files import read_split

    def load() -> list[np.ndarray]:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            data = np.empty(os.fstat(fd).st_size, np.uint8)
            if read_split(fd, memoryview(data), 0) != data.nbytes:
                raise ValueError(f"{path}: the file changed while it was read")
        finally:
            os.close(fd)
        per_record = len(data) // n
        header = per_record - nbytes // n
        rows = np.ndarray((n, nbytes // n // 4), np.float32, buffer=data, offset=header,
                          strides=(per_record, 4))
        return list(rows.reshape((n, *shape)))
    return load


def read_fresh(path: str, nbytes: int) -> Callable[[], np.ndarray]:
    """The file's last ``nbytes`` (one record's payload) read straight into a fresh array, as
    ``numba_kernels`` reads a big one (``read_split``: one contiguous piece per core, at most
    four, each by its own thread)."""
    from fluidspec.numba_kernels.files import read_split

    def load() -> np.ndarray:
        out = np.empty(nbytes, np.uint8)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if read_split(fd, memoryview(out), os.fstat(fd).st_size - nbytes) != nbytes:
                raise ValueError(f"{path}: the file changed while it was read")
        finally:
            os.close(fd)
        return out
    return load


def read_pairs(path: str, n: int, nbytes: int, shape: tuple[int, ...]) -> Callable[[], Any]:
    """``read_views``, then one ``(array, [])`` pair per record, made under the same pause of
    the cyclic collector as ``numba_kernels`` makes them (``cpu.no_gc``): whatever that pause
    costs, or defers past the call, it does so for both rows alike.  (Unpaused, the collections
    every 700 allocations cost more: 1.7 against 1.3 ms for 10,000 pairs here.)"""
    from fluidspec.numba_kernels.cpu import no_gc

    views = read_views(path, n, nbytes, shape)

    def load() -> list[tuple[np.ndarray, list[list[int]]]]:
        arrays = views()
        with no_gc():
            return [(a, []) for a in arrays]
    return load


def gather_write(path: Callable[[], str], arrs: list[np.ndarray], encoded: bytes
                 ) -> Callable[[], Any]:
    """The save floor of a uniform case (every record one header and one equal payload): one
    pass over the dtypes and one over the shapes, then the records joined run by run and
    written.  Checked once here to write exactly ``encoded``."""
    from operator import attrgetter

    dtype_of, shape_of = attrgetter("dtype"), attrgetter("shape")
    n = len(arrs)
    header = encoded[:len(encoded) // n - arrs[0].nbytes]
    per_run = max(1, _GATHER_RUN_BYTES // (len(header) + arrs[0].nbytes))

    def save() -> None:
        if len(set(map(dtype_of, arrs))) != 1 or len(set(map(shape_of, arrs))) != 1:
            raise ValueError("the gather floor times uniform cases only")
        with open(path(), "wb") as f:
            for k in range(0, n, per_run):
                f.write(header.join([b"", *arrs[k:k + per_run]]))

    gathered = b"".join(header.join([b"", *arrs[k:k + per_run]]) for k in range(0, n, per_run))
    if gathered != encoded:
        raise ValueError("the gather floor does not write the case's bytes")
    return save


def stream_write(path: Callable[[], str], array: np.ndarray, encoded: bytes
                 ) -> Callable[[], None]:
    """The save floor of one big tensor: ``encoded`` (one record of ``array``) written as its
    header and the array itself, one ``os.writev`` into a new file reserved first.  Checked
    once here to write exactly ``encoded``."""
    payload = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    header = encoded[:len(encoded) - payload.nbytes]
    if memoryview(encoded)[len(header):] != memoryview(payload):
        raise ValueError("the stream-write floor does not write the case's bytes")
    parts = [header, payload]

    def save() -> None:
        fd = os.open(path(), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.posix_fallocate(fd, 0, len(encoded))
            written = os.writev(fd, parts)
            if written != len(encoded):  # one call moves at most ~2 GiB
                os.write(fd, memoryview(encoded)[written:])
        finally:
            os.close(fd)
    return save


def directory_ops(fresh_dir: Callable[[], str], names: Sequence[str]
                  ) -> tuple[Callable[[], None], Callable[[], None]]:
    """The save floor of one file per tensor into a new directory, as ``(setup, save)``: the
    calls such a save by SEL-SAVE-008 makes in ``numba_kernels``' way — per file an unnamed
    file opened in the destination directory (``O_TMPFILE``), linked under its name and
    closed — with nothing written.  (The other atomic way, a named temporary created and then
    renamed over the target, makes one more change to the directory per file: 0.37-0.46 s
    against 0.22-0.32 s for 10,000 files on ext4 here.)

    ``save`` runs ``numba_kernels.cpu.link_new_files`` over empty slices (no Python per file),
    spread over threads exactly as ``numba_kernels`` spreads its writes of many small files
    (``files.threads_for`` after timing the first ``files.PROBE_FILES`` files in this thread):
    how many threads pay depends on the file system, so the floor takes no other choice than
    numba's.  ``setup`` (untimed) makes the fresh directory and the paths' bytes."""
    from fluidspec.numba_kernels import cpu, files

    flags = os.O_TMPFILE | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    nothing = np.zeros(1, np.uint8)
    empty = np.zeros(len(names) + 1, np.int64)
    proc_fd = cpu.proc_fd_path()
    n = len(names)
    dir_of = np.zeros(n, np.int64)  # every file in the one fresh directory
    probe = min(n, files.PROBE_FILES)
    calls: dict[str, Any] = {}

    def setup() -> None:
        d = fresh_dir()
        calls["dirs"] = files.nul_terminated([d])
        calls["paths"] = files.nul_terminated([os.path.join(d, n) for n in names])

    def link(span: tuple[int, int]) -> int:
        (dirs, dir_ends), (paths, path_ends) = calls["dirs"], calls["paths"]
        failed, _ = cpu.link_new_files(dirs, dir_ends, dir_of, paths,
                                       path_ends, proc_fd, flags, 0o644, cpu.MOST_PER_CALL,
                                       nothing, empty, *span)
        return failed

    def save() -> None:
        began = time.perf_counter()
        stops = [link((0, probe))]
        workers = files.threads_for(n - probe, (time.perf_counter() - began) / max(probe, 1))
        spans = [(probe + (n - probe) * k // workers, probe + (n - probe) * (k + 1) // workers)
                 for k in range(workers)]
        with ThreadPoolExecutor(workers) as pool:
            stops += pool.map(link, spans)
        stopped = [i for i in stops if i >= 0]
        if stopped:
            raise OSError(f"the directory-ops floor stopped at {names[min(stopped)]}")
    return setup, save
