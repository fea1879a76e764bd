"""``fluidspec bench``: time numba_kernels beside its peers, in one process and one run.

A benchmark, not a test: nothing here asserts.  The implementations of one (case, op) are
timed side by side: one untimed warm-up call each, then ``repeats`` rounds in which each runs
once, so that the machine's drift (other processes, page cache, memory pressure) hits them all
alike.  The median, min and max are reported, with ratios to the memcpy limit and to numba.  File saves always go to a new, empty directory (rewriting existing
files on ext4 measures the file system's flush policy, not the writer).
Real Paddle 2.6.2 is timed when ``.venv-paddle`` exists: in its own process (a worker,
``_bench_paddle.py``), but in the same rounds as the others, one request per timing.
"""

from __future__ import annotations

import io
import os
import pickle
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from fluidspec import _bench_api
from fluidspec._bench_paddle_peer import IMPL as PADDLE
from fluidspec._bench_paddle_peer import Elapsed, PaddlePeer

CASES = ("1x256MiB-f32-combined", "10000x1KiB-f32-combined", "10000x1KiB-f32-separate",
         "mixed-dtypes-lod-combined", "jit")
IMPLS = ("limit-memcpy-fresh", "limit-memcpy-prealloc", "limit-python-files", "numpy",
         "numpy-fromfile", "pickle", "safetensors", "reference", "numba", "paddle-2.6.2",
         "numba-floor", "python-pass", "fluidspec-inspect", *_bench_api.IMPLS)
OPS = ("encode", "decode", "decode-copy", "save", "load", "warm-start", "first-save", "cli-start")
SCHEMA = 3  # 2: targets carry value_min and verdict; jit has first-save and cli-start;
#            3: the main part and the sweep each record their ``machine``
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    case: str
    op: str
    impl: str
    median_s: float
    min_s: float
    max_s: float
    bytes: int
    count: int


@dataclass
class _CombinedCase:
    """What every timing of one combined case shares."""

    arrs: list[np.ndarray]
    lods: list[Any] | None
    items: list[tuple[np.ndarray, Any]]
    encoded: bytes
    nbytes: int
    n: int
    has_bf16: bool  # np.save cannot round-trip bfloat16: numpy is left out then
    st: Any  # safetensors' numpy API, or None when it is not installed
    tensors: dict[str, np.ndarray]
    api: _bench_api.ApiCase | None = None  # save_params / load_params of a Program


def _npy_bytes(arrs: list[np.ndarray]) -> bytes:
    """``arrs`` as consecutive ``np.save`` records (numpy's own format, the peer we time)."""
    f = io.BytesIO()
    for a in arrs:
        np.save(f, a)
    return f.getvalue()


# A virtual machine may hand the memory its guest frees back to the host after a few seconds
# (virtio-balloon free page reporting, as on the development VM); the first touch of such memory
# then costs a fault in the host: 1 GiB loaded into a fresh array took 150 ms, or 1.3-1.5 s in
# the rounds that got such memory, whichever implementation ran.  Before each timed run of
# ``_WARM_MEMORY_FROM`` bytes or more, untimed, a buffer of that size (and a little more) is
# written and freed, so that the memory the run allocates next was just in use, for every
# implementation alike.  A save of many small files takes a page-cache page or more per file
# (100,000 files of 1 KiB: 400 MiB for 105 MB of bytes), so such a run names that amount
# (``page_cache_bytes``): warmed for 105 MB only, the plain loop's and numba's time per file
# at 100,000 files grew 1.45x and 1.41x over 10,000 files, while the directory calls alone
# (nothing written) grew 1.12x.
_WARM_MEMORY_FROM = 1 << 20
_PAGE = 4096


def page_cache_bytes(sizes: Iterable[int]) -> int:
    """The page cache that files of ``sizes`` bytes take once written: whole pages each."""
    return sum(-(-size // _PAGE) * _PAGE for size in sizes)
_T = TypeVar("_T")


# Files the bench keeps (``fresh_dir(many_files=True)``) stay dirty in the page cache until the
# kernel writes them back, which it starts once enough of them pile up (here after about 2 GB):
# a run of 100,000 small files then shared two cores with the flusher writing back the earlier
# rounds' files and took 47 us a file instead of 30, whichever implementation it was, while a
# run of 10,000 never met it.  So before each timed save, untimed, everything dirty is written
# back (``os.sync``): every save starts from a clean page cache, and nobody pays for another's.


def round_order(entries: list[_T], seed: str) -> list[_T]:
    """The order of one round: ``entries`` shuffled by a generator seeded with ``seed`` (the
    case, the operation and the round), so a run is repeatable and no implementation always
    runs after the same one.  (Rotating one order, as the bench once did, keeps every
    neighbour: numba ran right after Paddle's 7.5 s save of 10,000 files in every round but
    the one that started with it.)"""
    order = list(entries)
    random.Random(seed).shuffle(order)
    return order


def _warm_memory(nbytes: int) -> None:
    buffer = np.ones(nbytes + (1 << 20), np.uint8)
    del buffer


class _Queued(NamedTuple):
    """One implementation of a (case, op), queued until its group is timed (``Bench.run``)."""
    case: str
    op: str
    impl: str
    fn: Callable[[], Any]
    nbytes: int
    count: int
    setup: Callable[[], Any] | None
    repeats: int | None
    memory: int  # what one run takes from the kernel, warmed before it


class Bench:
    def __init__(self, quick: bool, progress: Callable[[str], None]) -> None:
        self.quick = quick
        self.repeats = 3 if quick else 7
        self.progress = progress
        self.results: list[Result] = []
        self.notes: list[str] = []
        self.tmp = tempfile.mkdtemp(prefix="fluidspec-bench-")
        self._dirs = 0
        self._in_run: list[str] | None = None
        self._pending: list[_Queued] = []
        self._paddle_plan: dict[str, tuple[tuple[str, ...], int, int, bool]] = {}
        self._paddle_ready = ""
        self.peer: Any = None  # the Paddle worker (_bench_paddle_peer), when there is one

    # ---------------------------------------------------------------- helpers
    def fresh_dir(self, many_files: bool = False) -> str:
        """A new empty directory.  A save target is removed when its run ends, unless it is to
        hold ``many_files``: those stay until the bench ends (``cleanup``).  On ext4 without a
        journal, a file created soon after many deletions costs a scan past every inode they
        freed (Linux's ext4 ``recently_deleted`` skips an inode freed in the last 60 s, or 360 s
        while its inode-table block is still dirty): 10,000 files
        removed between two rounds made the next round's creates about ten times slower here,
        whichever implementation ran next."""
        self._dirs += 1
        path = os.path.join(self.tmp, f"d{self._dirs}")
        os.makedirs(path)
        if self._in_run is not None and not many_files:
            self._in_run.append(path)
        return path

    def run(self, case: str, op: str, impl: str, fn: Callable[[], Any], nbytes: int, count: int,
            setup: Callable[[], Any] | None = None, repeats: int | None = None,
            memory: int | None = None) -> None:
        """Queue one implementation of (case, op); a group is timed when the next one starts.
        ``memory``: what one run takes from the kernel, when more than ``nbytes`` (the page
        cache of many small files), warmed before each run as ``nbytes`` otherwise is."""
        if self._pending and (self._pending[0].case, self._pending[0].op) != (case, op):
            self.flush()
        if impl == "numba":  # Paddle joins the group where the plan says
            self._paddle(case, op, nbytes, count, memory)
        self._pending.append(_Queued(case, op, impl, fn, nbytes, count, setup, repeats,
                                     max(nbytes, memory or 0)))

    def flush(self) -> None:
        """Time the queued implementations of one (case, op) side by side: one warm-up each,
        then the repeats round-robin, so that a drift of the machine hits them all alike."""
        group, self._pending = self._pending, []
        if not group:
            return
        case, op = group[0].case, group[0].op
        repeats = max(entry.repeats or self.repeats for entry in group)
        times: dict[str, list[float]] = {}
        live = []
        for entry in group:
            self.progress(f"{case:28s} {op:11s} warm-up {entry.impl}")
            if self._timed(entry) is not None:
                live.append(entry)
                times[entry.impl] = []
        for r in range(repeats):
            self.progress(f"{case:28s} {op:11s} round {r + 1}/{repeats}")
            for entry in round_order(live, f"{case}/{op}/{r}"):
                t = self._timed(entry)
                if t is None:
                    live.remove(entry)
                    times.pop(entry.impl, None)
                else:
                    times[entry.impl].append(t)
        for entry in live:
            ts = times[entry.impl]
            self.results.append(Result(entry.case, entry.op, entry.impl, statistics.median(ts),
                                       min(ts), max(ts), entry.nbytes, entry.count))

    def _timed(self, entry: _Queued) -> float | None:
        """One run of ``entry``, in seconds; None (and a note) when it cannot do the case."""
        self._in_run = []
        try:
            if entry.op == "save" and hasattr(os, "sync"):
                os.sync()
            if entry.memory >= _WARM_MEMORY_FROM:
                _warm_memory(entry.memory)
            if entry.setup:
                entry.setup()
            t0 = time.perf_counter()
            out = entry.fn()
            elapsed = time.perf_counter() - t0
            # a peer timed in its own process reports its own time (without the pipe)
            return out.seconds if isinstance(out, Elapsed) else elapsed
        except Exception as exc:  # a peer that cannot do this case (dtype, ...)
            self.notes.append(f"{entry.case} {entry.op} {entry.impl}: skipped "
                              f"({type(exc).__name__}: {str(exc)[:80]})")
            return None
        finally:
            for path in self._in_run:
                shutil.rmtree(path, ignore_errors=True)
            self._in_run = None

    def cleanup(self) -> None:
        if self.peer is not None:
            self.peer.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def directory_ops_floor(self, case: str, names: list[str], nbytes: int, memory: int
                            ) -> None:
        """Queue ``limit-directory-ops`` beside the separate saves of ``names`` (``nbytes`` in
        all, ``memory`` warmed before each): each run in a fresh directory kept until the bench
        ends, as the saves' own."""
        setup, save = _bench_api.directory_ops(lambda: self.fresh_dir(many_files=True), names)
        self.run(case, "save", _bench_api.DIRECTORY_OPS, save, nbytes, len(names), setup,
                 memory=memory)

    # ---------------------------------------------------------------- cases
    def with_paddle(self, case: str, ops: tuple[str, ...], n: int, elems: int,
                    separate: bool) -> None:
        """Queue Paddle 2.6.2 for ``ops`` of ``case`` beside the others (call after the
        others' ``run`` of the same op, before the group is flushed)."""
        self._paddle_plan[case] = (ops, n, elems, separate)

    def _paddle(self, case: str, op: str, nbytes: int, n: int, memory: int | None) -> None:
        plan = self._paddle_plan.get(case)
        if plan is None or op not in plan[0] or self.peer is None:
            return
        if self._paddle_ready != case:
            if not self.peer.prepare(case, plan[1], plan[2], plan[3]):
                self.notes.append(f"paddle-2.6.2 skipped: {self.peer.why_not}")
                self._paddle_plan.pop(case)
                return
            self._paddle_ready = case
        self.run(case, op, PADDLE, self.peer.timer(op), nbytes, n, memory=memory)

    def combined(self, case: str, arrs: list[np.ndarray], lods: list[Any] | None,
                 api: bool = False) -> None:
        """One combined stream of ``arrs``: encode, decode, save and load, each beside its
        peers and limits; with ``api`` (equal float32 arrays, no LoD) also through
        ``save_params`` / ``load_params`` and their floors (``_bench_api``)."""
        from fluidspec.numba_kernels import arrays
        from fluidspec.reference import codec as ref

        n = len(arrs)
        items = list(zip(arrs, lods or [None] * n, strict=True))
        encoded = arrays.encode(arrs, lods)
        assert encoded == ref.encode_combined(items)
        c = _CombinedCase(
            arrs, lods, items, encoded, sum(a.nbytes for a in arrs), n,
            any(a.dtype.kind == "V" or a.dtype.name == "bfloat16" for a in arrs),
            _safetensors(), dict(zip([f"v{i:05d}" for i in range(n)], arrs, strict=True)),
            _bench_api.ApiCase(arrs) if api else None)
        self._combined_encode(case, c)
        self._combined_decode(case, c)
        d = self._combined_save(case, c)
        self._combined_load(case, c, d)
        self.flush()

    def _combined_encode(self, case: str, c: _CombinedCase) -> None:
        from fluidspec.numba_kernels import arrays
        from fluidspec.reference import codec as ref

        arrs, lods, items, encoded = c.arrs, c.lods, c.items, c.encoded
        nbytes, n, has_bf16, st, tensors = c.nbytes, c.n, c.has_bf16, c.st, c.tensors
        run = self.run
        # encode: to new bytes in memory
        flat = [a.reshape(-1).view(np.uint8) for a in arrs]
        pre_enc = np.empty(nbytes, np.uint8)
        pre_enc[:] = 1  # touched: no page faults inside the timing
        if n == 1:
            run(case, "encode", "limit-memcpy-fresh",
                lambda: np.copyto(np.empty(nbytes, np.uint8), flat[0]), nbytes, n)
            run(case, "encode", "limit-memcpy-prealloc", lambda: np.copyto(pre_enc, flat[0]),
                nbytes, n)
        else:
            run(case, "encode", "limit-memcpy-fresh", lambda: np.concatenate(flat), nbytes, n)
            run(case, "encode", "limit-memcpy-prealloc",
                lambda: np.concatenate(flat, out=pre_enc), nbytes, n)

        if not has_bf16:
            run(case, "encode", "numpy", lambda: _npy_bytes(arrs), nbytes, n)
        else:
            self.notes.append(f"{case}: numpy skipped (np.save cannot round-trip bfloat16)")
        run(case, "encode", "pickle", lambda: pickle.dumps(arrs, protocol=5), nbytes, n)
        if st is not None:
            run(case, "encode", "safetensors", lambda: st.save(tensors), nbytes, n)
        run(case, "encode", "reference", lambda: ref.encode_combined(items), nbytes, n)
        # numba's encode is timed through encode_array (a new uint8 array: numpy's huge-page
        # allocation makes a fresh 256 MiB buffer far cheaper to fill than a fresh `bytes`)
        assert arrays.encode_array(arrs, lods).tobytes() == encoded
        run(case, "encode", "numba", lambda: arrays.encode_array(arrs, lods), nbytes, n)


    def _combined_decode(self, case: str, c: _CombinedCase) -> None:
        from fluidspec.numba_kernels import arrays
        from fluidspec.reference import codec as ref

        arrs, encoded = c.arrs, c.encoded
        nbytes, n, has_bf16, st, tensors = c.nbytes, c.n, c.has_bf16, c.st, c.tensors
        run = self.run
        # decode (zero-copy) and decode-copy, from the bytes in memory
        run(case, "decode", "reference", lambda: ref.decode_combined(encoded, n, copy=False),
            nbytes, n)
        run(case, "decode", "numba", lambda: arrays.decode(encoded, count=n), nbytes, n)
        parsed = arrays.parse(encoded, n)
        u8 = np.frombuffer(encoded, np.uint8)
        if n == 1:
            off = int(parsed.data_off[0])
            src = u8[off:off + nbytes]
            pre_dec = np.empty(nbytes, np.uint8)
            pre_dec[:] = 1
            run(case, "decode-copy", "limit-memcpy-fresh",
                lambda: np.copyto(np.empty(nbytes, np.uint8), src), nbytes, n)
            run(case, "decode-copy", "limit-memcpy-prealloc", lambda: np.copyto(pre_dec, src),
                nbytes, n)
        pick = pickle.dumps(arrs, protocol=5)
        if not has_bf16:
            npy = _npy_bytes(arrs)

            def npy_decode() -> list[np.ndarray]:
                f = io.BytesIO(npy)
                return [np.load(f) for _ in range(n)]

            run(case, "decode-copy", "numpy", npy_decode, nbytes, n)
        run(case, "decode-copy", "pickle", lambda: pickle.loads(pick), nbytes, n)
        if st is not None:
            try:
                blob = st.save(tensors)
                run(case, "decode-copy", "safetensors", lambda: st.load(blob), nbytes, n)
            except Exception as exc:
                self.notes.append(f"{case}: safetensors skipped ({exc})")
        run(case, "decode-copy", "reference", lambda: ref.decode_combined(encoded, n), nbytes, n)
        run(case, "decode-copy", "numba", lambda: arrays.decode(encoded, True, n), nbytes, n)


    def _combined_save(self, case: str, c: _CombinedCase) -> str:
        """Time the saves; return a directory holding every format's file, for the loads."""
        from fluidspec.numba_kernels import files as numba_files
        from fluidspec.reference import codec as ref
        from fluidspec.reference import files as ref_files

        arrs, lods, items, encoded = c.arrs, c.lods, c.items, c.encoded
        nbytes, n, has_bf16, st, tensors = c.nbytes, c.n, c.has_bf16, c.st, c.tensors
        run = self.run
        # save / load: one combined file, each save into a new directory
        target: dict[str, str] = {}

        def new_target() -> None:
            target["d"] = self.fresh_dir()

        def path() -> str:
            return os.path.join(target["d"], "combined")

        def plain_write() -> None:
            with open(path(), "wb") as f:
                f.write(encoded)

        run(case, "save", "limit-python-files", plain_write, nbytes, n, new_target)
        if not has_bf16:
            def npy_save() -> None:
                with open(path(), "wb") as f:
                    for a in arrs:
                        np.save(f, a)

            run(case, "save", "numpy", npy_save, nbytes, n, new_target)

        def pickle_save() -> None:
            with open(path(), "wb") as f:
                pickle.dump(arrs, f, protocol=5)

        run(case, "save", "pickle", pickle_save, nbytes, n, new_target)
        if st is not None:
            run(case, "save", "safetensors", lambda: st.save_file(tensors, path()), nbytes, n,
                new_target)

        def ref_save() -> None:  # as reference.io writes a combined file
            parts = [p for array, lod in items for p in ref.lod_tensor_parts(array, lod)]
            ref_files.atomic_write(Path(path()), parts)

        run(case, "save", "reference", ref_save, nbytes, n, new_target)
        run(case, "save", "numba", lambda: numba_files.save_combined(path(), arrs, lods), nbytes,
            n, new_target)
        if c.api is not None:
            def where() -> str:
                return target["d"]

            for impl in _bench_api.API_IMPLS:
                run(case, "save", impl, c.api.save(impl, where), nbytes, n, new_target)
            run(case, "save", _bench_api.FLUID_OBJECTS, c.api.objects_save(path, encoded),
                nbytes, n, new_target)
            if n == 1:
                run(case, "save", _bench_api.STREAM_WRITE,
                    _bench_api.stream_write(path, arrs[0], encoded), nbytes, n, new_target)
            if n > 1:
                try:
                    gather = _bench_api.gather_write(path, arrs, encoded)
                except ValueError as exc:  # a case it cannot stand for: noted, not timed
                    self.notes.append(f"{case} save {_bench_api.GATHER_WRITE}: skipped ({exc})")
                else:
                    run(case, "save", _bench_api.GATHER_WRITE, gather, nbytes, n, new_target)

        new_target()
        d = target["d"]
        Path(d, "combined").write_bytes(encoded)
        target["d"] = d
        with open(os.path.join(d, "pickle"), "wb") as f:
            pickle.dump(arrs, f, protocol=5)
        if not has_bf16:
            with open(os.path.join(d, "npy"), "wb") as f:
                for a in arrs:
                    np.save(f, a)
        if st is not None:
            try:
                st.save_file(tensors, os.path.join(d, "st"))
            except Exception:
                pass
        d = target["d"]

        return d

    def _combined_load(self, case: str, c: _CombinedCase, d: str) -> None:
        from fluidspec.numba_kernels import files as numba_files
        from fluidspec.reference import codec as ref
        from fluidspec.reference import files as ref_files

        nbytes, n, has_bf16, st = c.nbytes, c.n, c.has_bf16, c.st
        run = self.run
        def plain_read() -> bytes:
            with open(os.path.join(d, "combined"), "rb") as f:
                return f.read()

        run(case, "load", "limit-python-files", plain_read, nbytes, n)
        if n == 1:  # the same file's bytes, read by numpy into a new array
            run(case, "load", "numpy-fromfile",
                lambda: np.fromfile(os.path.join(d, "combined"), np.uint8), nbytes, n)
        if not has_bf16:
            def npy_load() -> list[np.ndarray]:
                with open(os.path.join(d, "npy"), "rb") as f:
                    return [np.load(f) for _ in range(n)]

            run(case, "load", "numpy", npy_load, nbytes, n)

        def pickle_load() -> Any:
            with open(os.path.join(d, "pickle"), "rb") as f:
                return pickle.load(f)

        run(case, "load", "pickle", pickle_load, nbytes, n)
        if st is not None and os.path.exists(os.path.join(d, "st")):
            run(case, "load", "safetensors", lambda: st.load_file(os.path.join(d, "st")),
                nbytes, n)
        run(case, "load", "reference",  # as reference.io reads a combined file
            lambda: ref.decode_combined(ref_files.read_bytes(Path(d, "combined")), n,
                                        copy=False), nbytes, n)
        run(case, "load", "numba",
            lambda: numba_files.load_combined(os.path.join(d, "combined"), n), nbytes, n)
        if c.api is not None:
            combined = os.path.join(d, "combined")
            run(case, "load", _bench_api.READ_VIEWS,
                _bench_api.read_views(combined, n, nbytes, c.api.shape), nbytes, n)
            if n == 1:
                run(case, "load", _bench_api.READ_FRESH, _bench_api.read_fresh(combined, nbytes),
                    nbytes, n)
            if n > 1:
                run(case, "load", _bench_api.READ_PAIRS,
                    _bench_api.read_pairs(combined, n, nbytes, c.api.shape), nbytes, n)
            for impl in _bench_api.API_IMPLS:
                run(case, "load", impl, c.api.load(impl, d), nbytes, n)
            run(case, "load", _bench_api.FLUID_OBJECTS, c.api.objects_load(combined, n, nbytes),
                nbytes, n)

    def separate(self, case: str, arrs: list[np.ndarray]) -> None:
        """One file per tensor: saves and loads beside their peers and the plain-files limit."""
        names = [f"v{i:05d}" for i in range(len(arrs))]
        dirs = self._separate_saves(case, arrs, names)
        self._separate_loads(case, arrs, names, dirs)
        self.flush()

    def _separate_saves(self, case: str, arrs: list[np.ndarray], names: list[str]
                        ) -> dict[str, str]:
        """Time the saves; return a directory per format holding its files, for the loads."""
        from fluidspec.numba_kernels import files as numba_files
        from fluidspec.reference import codec as ref
        from fluidspec.reference import files as ref_files

        n = len(arrs)
        nbytes = sum(a.nbytes for a in arrs)
        records = [ref.encode_lod_tensor(a) for a in arrs]
        target: dict[str, str] = {}

        def new_target() -> None:
            target["d"] = self.fresh_dir(many_files=True)

        def plain_write() -> None:
            d = target["d"]
            for name, rec in zip(names, records, strict=True):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(rec)

        def npy_save() -> None:
            d = target["d"]
            for name, a in zip(names, arrs, strict=True):
                np.save(os.path.join(d, name), a)

        def pickle_save() -> None:
            d = target["d"]
            for name, a in zip(names, arrs, strict=True):
                with open(os.path.join(d, name), "wb") as f:
                    pickle.dump(a, f, protocol=5)

        def ref_save() -> None:  # as reference.io writes separate files
            d = target["d"]
            for name, a in zip(names, arrs, strict=True):
                ref_files.atomic_write(Path(d, name), ref.lod_tensor_parts(a))

        def numba_save() -> None:
            numba_files.save_dense(target["d"], names, arrs)

        memory = page_cache_bytes(map(len, records))

        def run(impl: str, save: Callable[[], None]) -> None:
            self.run(case, "save", impl, save, nbytes, n, new_target, memory=memory)

        run("limit-python-files", plain_write)
        run("numpy", npy_save)
        run("pickle", pickle_save)
        run("reference", ref_save)
        run("numba", numba_save)
        self.directory_ops_floor(case, names, nbytes, memory)

        dirs = {}
        for impl, writer in (("plain", plain_write), ("numpy", npy_save), ("pickle", pickle_save)):
            new_target()
            writer()
            dirs[impl] = target["d"]
        return dirs

    def _separate_loads(self, case: str, arrs: list[np.ndarray], names: list[str],
                        dirs: dict[str, str]) -> None:
        from fluidspec.numba_kernels import files as numba_files
        from fluidspec.reference import codec as ref
        from fluidspec.reference import files as ref_files

        n = len(arrs)
        nbytes = sum(a.nbytes for a in arrs)
        d = dirs["plain"]

        def plain_read() -> list[bytes]:
            out = []
            for name in names:
                with open(os.path.join(d, name), "rb") as f:
                    out.append(f.read())
            return out

        def npy_load() -> list[np.ndarray]:
            return [np.load(os.path.join(dirs["numpy"], name + ".npy")) for name in names]

        def pickle_load() -> list[Any]:
            out = []
            for name in names:
                with open(os.path.join(dirs["pickle"], name), "rb") as f:
                    out.append(pickle.load(f))
            return out

        def ref_load() -> list[Any]:  # as reference.io reads separate files
            return [ref.decode_tensor_file(ref_files.read_bytes(Path(d, name)), copy=False)
                    for name in names]

        def numba_load() -> list[Any]:
            return numba_files.load_dense([os.path.join(d, name) for name in names], names)

        run = self.run
        run(case, "load", "limit-python-files", plain_read, nbytes, n)
        run(case, "load", "numpy", npy_load, nbytes, n)
        run(case, "load", "pickle", pickle_load, nbytes, n)
        run(case, "load", "reference", ref_load, nbytes, n)
        run(case, "load", "numba", numba_load, nbytes, n)

    def warm_start(self) -> None:
        """Fresh processes: the JIT-cache warm start, the first save beside the numba floor
        (import numba, first call of one trivial cached function), and ``fluidspec inspect``
        beside ``python -c pass``."""
        small = "[np.zeros((2, 3), np.float32)]"
        code = {
            "numba": "import numpy as np; from fluidspec.numba_kernels import arrays as A; "
                     f"A.decode(A.encode({small}))",
            "reference": "import numpy as np; from fluidspec.reference import codec as C; "
                         "C.decode_combined(C.encode_combined([(np.zeros((2, 3), np.float32), "
                         "None)]))",
        }
        for impl, src in code.items():
            self.run("jit", "warm-start", impl, _spawner(["-c", src]), 24, 1)
        self.flush()
        Path(self.tmp, "_numba_floor.py").write_text(
            "import numba\n\n\n@numba.njit(cache=True)\ndef one(x):\n    return x + 1\n",
            encoding="utf-8")
        floor = f"import sys; sys.path.insert(0, {self.tmp!r}); import _numba_floor; " \
                "_numba_floor.one(1)"
        first = os.path.join(self.tmp, "first-save")
        save = ("import numpy as np; from fluidspec.numba_kernels import files; "
                f"files.save_combined({first!r}, {small})")
        self.run("jit", "first-save", "numba-floor", _spawner(["-c", floor]), 24, 1)
        self.run("jit", "first-save", "numba", _spawner(["-c", save]), 24, 1)
        self.flush()
        self.run("jit", "cli-start", "python-pass", _spawner(["-c", "pass"]), 24, 1)
        self.run("jit", "cli-start", "fluidspec-inspect",
                 _spawner(["-m", "fluidspec", "inspect", first], quiet=True), 24, 1)
        self.flush()


def _spawner(argv: list[str], quiet: bool = False) -> Callable[[], None]:
    """A fresh ``python`` process running ``argv``: one timing of a process start."""
    def spawn() -> None:
        subprocess.run([sys.executable, *argv], check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL if quiet else None)

    return spawn


def _safetensors() -> Any:
    try:
        import safetensors.numpy as st
    except ImportError:
        return None
    return st


def _mixed(count: int) -> tuple[list[np.ndarray], list[Any]]:
    import ml_dtypes

    rng = np.random.default_rng(7)
    dtypes = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_,
              ml_dtypes.bfloat16, np.complex64]
    arrs, lods = [], []
    for i in range(count):
        dt = np.dtype(dtypes[i % len(dtypes)])
        rank = int(rng.integers(0, 5))
        shape = tuple(int(x) for x in rng.integers(1, 9, rank))
        arrs.append(np.zeros(shape, dt))
        if rank and i % 3 == 0:
            rows = shape[0]
            cut = int(rng.integers(0, rows + 1))
            lods.append([[0, cut, rows]])
        else:
            lods.append(None)
    return arrs, lods


def run_all(quick: bool, progress: Callable[[str], None], only: list[str] | None = None
            ) -> tuple[list[Result], list[str]]:
    """The cases (all, or those in ``only``); returns the results and notes (skips, sizes)."""
    from fluidspec import numba_kernels

    wanted = set(only or CASES)
    numba_kernels.warm_up()
    bench = Bench(quick, progress)
    try:
        big_elems = (32 if quick else 256) * (1 << 20) // 4
        n_sep = 2000 if quick else 10000
        n_small = 10000
        if quick:
            bench.notes.append("--quick: 1x256MiB case shrunk to 32 MiB, separate case to 2000 "
                               "files (bytes/count say so); 3 repeats instead of 7")
        peer = PaddlePeer(bench.tmp) if wanted & set(CASES[:3]) else None
        if peer is None:
            pass
        elif peer.present:
            bench.peer = peer
            bench.with_paddle(CASES[0], ("encode", "decode", "save", "load"), 1, big_elems,
                              False)
            bench.with_paddle(CASES[1], ("encode", "decode", "save", "load"), n_small, 256,
                              False)
            bench.with_paddle(CASES[2], ("save", "load"), n_sep, 256, True)
        else:
            bench.notes.append(f"paddle-2.6.2 skipped: {peer.why_not}")
        if CASES[0] in wanted:
            big = [np.arange(big_elems, dtype=np.float32)]
            bench.combined(CASES[0], big, None, api=True)
            del big
        small = [np.full((16, 16), i, np.float32) for i in range(n_small)]
        if CASES[1] in wanted:
            bench.combined(CASES[1], small, None, api=True)
        if CASES[2] in wanted:
            bench.separate(CASES[2], small[:n_sep])
        if CASES[3] in wanted:
            arrs, lods = _mixed(1000)
            bench.combined(CASES[3], arrs, lods)
        if CASES[4] in wanted:
            bench.warm_start()
    finally:
        bench.cleanup()
    return bench.results, bench.notes


# -------------------------------------------------------------------- reporting

def _find(results: list[Result], case: str, op: str, impl: str) -> Result | None:
    for r in results:
        if (r.case, r.op, r.impl) == (case, op, impl):
            return r
    return None


def table(results: list[Result]) -> str:
    """Median, min–max, ×limit (impl time / fresh-limit time) and numba's speed-up over it."""
    lines = []
    keys = list(dict.fromkeys((r.case, r.op) for r in results))
    for case, op in keys:
        rows = [r for r in results if (r.case, r.op) == (case, op)]
        first = rows[0]
        lines.append(f"\n{case} · {op} · {first.count} tensor(s), {first.bytes / 2**20:.1f} MiB")
        lines.append(f"  {'impl':22s} {'median':>10s} {'min–max':>21s} {'/limit':>8s} "
                     f"{'numba speed-up':>15s}")
        limit = _find(results, case, op, "limit-memcpy-fresh") or _find(
            results, case, op, "limit-python-files")
        numba = _find(results, case, op, "numba")
        for r in rows:
            vs_limit = (f"{r.median_s / limit.median_s:7.2f}x" if limit and _same_size(r, limit)
                        else "       -")
            speed = (f"{r.median_s / numba.median_s:13.2f}x" if numba and _same_size(r, numba)
                     else "             -")
            lines.append(f"  {r.impl:22s} {_fmt(r.median_s):>10s} "
                         f"{_fmt(r.min_s) + '–' + _fmt(r.max_s):>21s} {vs_limit} {speed}")
    return "\n".join(lines)


def _same_size(a: Result, b: Result) -> bool:
    return (a.bytes, a.count) == (b.bytes, b.count)


def _fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def targets(results: list[Result]) -> list[dict[str, Any]]:
    """The targets with their verdicts (``fluidspec._bench_targets``)."""
    from fluidspec import _bench_targets

    return _bench_targets.judge_all(results)


def to_json(results: list[Result], notes: list[str]) -> dict[str, Any]:
    return {"schema": SCHEMA, "results": [asdict(r) for r in results], "notes": notes,
            "targets": targets(results)}
