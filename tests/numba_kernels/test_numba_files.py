"""fluidspec.numba_kernels._files: concurrent saves and the cleanup of killed saves'
temporaries (SEL-SAVE-008, SAFE-CONC-001, SAFE-ATOMIC-001).

Liveness is a ``flock`` on the save's lock file, never a pid: the tests hold locks from other
processes (as a writer in another container would) and check the names carry no pid at all.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec import numba_kernels
from fluidspec.numba_kernels import _files
from fluidspec.numba_kernels import io as nio
from fluidspec.reference import io as rio
from fluidspec.reference._framework import Program
from fluidspec.reference._scope import Scope, scope_guard
from fluidspec.spec.errors import FluidSpecError

SAVES = 800
THREADS = 8
N = 16  # float32 values per variable


def _ours(directory) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.startswith(_files._TMP_PREFIX))


def _hold_a_save(directory: str, ready: int) -> None:
    """In a child process: a save in flight (lock held, two temporaries written) until killed,
    which is what a crash in the middle of a save leaves."""
    lock = _files._DirLock(directory)
    for _ in range(2):
        _, fd = lock.create_temporary()
        os.write(fd, b"partial")
        os.close(fd)
    os.write(ready, b"x")
    time.sleep(120)
    os._exit(0)


@pytest.fixture
def holder(tmp_path):
    """A child process holding a save in flight in ``tmp_path``; killed at teardown."""
    read_end, write_end = os.pipe()
    proc = multiprocessing.get_context("fork").Process(target=_hold_a_save,
                                                       args=(str(tmp_path), write_end))
    proc.start()
    os.close(write_end)
    try:
        assert os.read(read_end, 1) == b"x"
    finally:
        os.close(read_end)
    yield proc
    if proc.is_alive():
        os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_cleanup_leaves_a_live_writers_temporaries_whatever_their_names(tmp_path, holder):
    proc = holder
    in_flight = _ours(tmp_path)
    assert len(in_flight) == 3  # the lock file and two temporaries
    assert not any(str(proc.pid) in n or str(os.getpid()) in n for n in in_flight)
    # Names that look like pid-named leftovers of a dead process, or of this very pid (another
    # pid namespace's pid 1 writer looks like that), are not ours to judge and are left alone.
    foreign = [f"{_files._TMP_PREFIX}{os.getpid()}-0.tmp", f"{_files._TMP_PREFIX}1-0.tmp",
               ".fluidspec-nk-notapid-0.tmp"]
    for name in foreign:
        (tmp_path / name).write_bytes(b"partial")
    for _ in range(3):
        _files.write_chunks([str(tmp_path / "w")], [np.arange(4, dtype=np.uint8)])
        _files.remove_stale_temporaries(str(tmp_path))
    assert (tmp_path / "w").read_bytes() == bytes(range(4))
    assert _ours(tmp_path) == sorted(in_flight + foreign)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_the_next_save_removes_a_killed_writers_temporaries(tmp_path, holder):
    proc = holder
    in_flight = _ours(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    _files.write_chunks([str(tmp_path / "w")], [np.arange(4, dtype=np.uint8)])
    assert (tmp_path / "w").read_bytes() == bytes(range(4))
    assert _ours(tmp_path) == [] and len(in_flight) == 3


def test_a_writer_killed_before_its_lock_is_named_leaves_a_file_removed_after_the_grace(tmp_path):
    pending = tmp_path / f"{_files._TMP_PREFIX}{'ab' * 16}{_files._PENDING_SUFFIX}"
    pending.write_bytes(b"")
    _files.remove_stale_temporaries(str(tmp_path))
    assert pending.exists()  # young: its writer may be between O_EXCL and flock
    old = time.time() - _files._PENDING_GRACE_S - 5
    os.utime(pending, (old, old))
    _files.remove_stale_temporaries(str(tmp_path))
    assert not pending.exists()


def _world():
    program = Program()
    block = program.global_block()
    scope = Scope()
    variables, values = [], []
    for i in range(SAVES):
        name = f"v{i:03d}"
        variables.append(block.create_var(name=name, shape=[N], dtype="float32", persistable=True))
        values.append(np.arange(i * N, (i + 1) * N, dtype=np.float32))
        scope.var(name).get_tensor().set(values[-1])
    return program, scope, variables, values


@pytest.mark.parametrize("impl,oracle", [(nio, rio), (rio, nio)], ids=["numba", "reference"])
def test_800_concurrent_saves_into_one_directory_keep_every_file_whole(impl, oracle, tmp_path):
    numba_kernels.warm_up()
    program, scope, variables, values = _world()
    expected_dir = tmp_path / "expected"
    with scope_guard(scope):
        oracle.save_vars(None, expected_dir, program, vars=variables)  # one file per variable
    out = tmp_path / "out"
    out.mkdir()
    start = threading.Barrier(THREADS)

    def save_share(k: int) -> None:
        start.wait()
        with scope_guard(scope):  # scope_guard holds for the thread that enters it
            for var in variables[k::THREADS]:
                impl.save_vars(None, out, program, vars=[var])

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(save_share, k) for k in range(THREADS)]:
            future.result()  # re-raises whatever a save raised
    assert sorted(os.listdir(out)) == sorted(v.name for v in variables)
    for var, value in zip(variables, values, strict=True):
        data = (out / var.name).read_bytes()
        assert data == (expected_dir / var.name).read_bytes(), var.name
        assert data.endswith(value.tobytes()), var.name


# ------------------------------------------------------------------ writev: no payload copy

def _mixed_arrays():
    import ml_dtypes

    return ([np.arange(6, dtype=np.float32).reshape(2, 3), np.array(2.5, np.float64),
             np.ones((2, 2), ml_dtypes.bfloat16), np.arange(8, dtype=">i4")[::2],
             np.zeros((0, 3), np.int8)],
            [[[0, 1, 2]], None, None, None, None])


@pytest.mark.parametrize("uniform", [False, True], ids=["mixed", "uniform"])
def test_writev_parts_are_the_encoders_bytes(tmp_path, uniform):
    """The buffers handed to os.writev (headers, then the arrays themselves, bfloat16, 0-d,
    big-endian and strided ones included) make exactly the encoder's stream."""
    from fluidspec.numba_kernels import cpu
    from fluidspec.reference import codec as ref

    arrays, lods = _mixed_arrays()
    if uniform:
        arrays, lods = [np.full((4, 4), i, np.float32) for i in range(3000)], None
    arrs, meta, uni = cpu.plan(arrays, lods, None, None)
    parts, _ = cpu.encode_parts(arrs, meta, uni)
    target = str(tmp_path / "combined")
    _files.write_chunks([target], [parts])
    with open(target, "rb") as f:
        written = f.read()
    items = list(zip(arrays, lods or [None] * len(arrays), strict=True))
    assert written == ref.encode_combined(items)
    assert written == cpu.encode_to_bytes(*cpu.plan(arrays, lods, None, None))


def _record_bytes(parts: list) -> bytes:
    return b"".join(np.frombuffer(p, np.uint8).tobytes() if isinstance(p, memoryview)
                    else p.reshape(-1).view(np.uint8).tobytes() for p in parts)


@pytest.mark.parametrize("uniform", [False, True], ids=["mixed", "uniform"])
def test_record_parts_are_the_reference_records_one_by_one_and_joined(uniform):
    """A separate save's records (``cpu.RecordParts``): each ``[header, array]`` is the
    reference's record (LoD, 0-d, bfloat16, big-endian and strided arrays included), ``bounds``
    delimits them back to back, and any run of them joined is their bytes in order."""
    from fluidspec.numba_kernels import cpu
    from fluidspec.reference import codec as ref

    arrays, lods = _mixed_arrays()
    if uniform:
        arrays, lods = [np.full((4, 4), i, np.float32) for i in range(300)], None
    lods = lods or [None] * len(arrays)
    expected = [ref.encode_lod_tensor(a, lod) for a, lod in zip(arrays, lods, strict=True)]
    records = cpu.RecordParts(*cpu.plan(arrays, lods, None, None))
    n = len(expected)
    assert len(records) == n
    assert [_record_bytes(records[i]) for i in range(n)] == expected
    assert _record_bytes(records[-1]) == expected[-1]
    assert [_record_bytes(r) for r in records[1:3]] == expected[1:3]
    with pytest.raises(IndexError):
        records[n]
    assert records.bounds.tolist() == np.cumsum([0, *map(len, expected)]).tolist()
    for first, stop in [(0, n), (1, 3), (2, 2), (n - 1, n)]:
        assert records.joined(first, stop).tobytes() == b"".join(expected[first:stop])


@pytest.mark.parametrize("paths", [
    ["/a/b/v0", "/a/b/v1", "/a/b/.."],
    ["/v0", "/v1"],
    ["/a/b//v0", "/a/b//v1"],
    ["a/v0", "a/b/v1", "a/v2"],
    ["v0", "v1"],
    ["/a/b/", "/a/b/v1"],
    ["/a/b/v0", "/a/c/v1"],
    ["/a/bc/v0", "/a/b/cv1"],
    [],
])
def test_parents_of_paths_are_their_dirnames(paths):
    """The shortcut for paths all directly in one directory gives what ``os.path.dirname``
    gives, and paths that are not so take ``dirname`` each."""
    assert _files._parents_of(paths) == list(map(os.path.dirname, paths))


@given(st.sampled_from(["/r/", "/r//", "/", "r/", ""]),
       st.lists(st.text(alphabet="ab/.", max_size=6), min_size=1, max_size=8))
def test_parents_of_any_paths_are_their_dirnames(root, names):
    paths = [root + name for name in names]
    assert _files._parents_of(paths) == list(map(os.path.dirname, paths))


def test_combined_and_separate_saves_of_bfloat16_and_0d_match_the_reference(tmp_path):
    import ml_dtypes

    outcomes = []
    for mod in (nio, rio):
        program = Program()
        block = program.global_block()
        block.create_parameter(name="w", shape=[2, 3], dtype="bfloat16")
        block.create_parameter(name="v", shape=[], dtype="float32")
        scope = Scope()
        scope.var("w").get_tensor().set(np.ones((2, 3), ml_dtypes.bfloat16))
        scope.var("v").get_tensor().set(np.array(2.5, np.float32))
        root = tmp_path / mod.__name__
        with scope_guard(scope):
            mod.save_persistables(None, str(root), program, filename="all")
            mod.save_persistables(None, str(root / "sep"), program)
        outcomes.append([(root / "all").read_bytes(), (root / "sep" / "w").read_bytes(),
                         (root / "sep" / "v").read_bytes()])
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("arrays", [
    [np.arange(1 << 19, dtype=np.float32).reshape(2, -1)],  # one big record: read directly
    [np.arange(6, dtype=np.int64), np.ones((2, 2), np.float16)],  # whole-file path
], ids=["direct", "whole-file"])
def test_load_combined_gives_owned_aligned_arrays_equal_to_decode(tmp_path, arrays):
    from fluidspec.numba_kernels import arrays as narrays
    from fluidspec.numba_kernels import files

    target = tmp_path / "combined"
    lods = [[[0, 1, arrays[0].shape[0]]]] + [[]] * (len(arrays) - 1)
    target.write_bytes(narrays.encode(arrays, lods))
    loaded = files.load_combined(str(target), len(arrays))
    assert len(loaded) == len(arrays)
    for (array, lod), want, want_lod in zip(loaded, arrays, lods, strict=True):
        np.testing.assert_array_equal(array, want)
        assert array.dtype == want.dtype and lod == want_lod
        assert array.flags.owndata or array.base is not None
        assert array.flags.aligned and array.flags.writeable


def test_load_combined_of_a_cut_big_file_raises_truncated(tmp_path):
    from fluidspec.numba_kernels import arrays as narrays
    from fluidspec.numba_kernels import files
    from fluidspec.spec.errors import FluidSpecError

    target = tmp_path / "combined"
    target.write_bytes(narrays.encode([np.zeros(1 << 19, np.float32)])[:-1])
    with pytest.raises(FluidSpecError) as info:
        files.load_combined(str(target), 1)
    assert info.value.id == "TRUNCATED"


@pytest.mark.parametrize("read", ["read-then-parsed", "parsed-while-read",
                                  "parsed-while-read-records-end-on-a-piece"])
@pytest.mark.parametrize("damage", ["later-record-cut", "trailing-bytes", "bad-middle-version",
                                    "one-record-too-many", "first-record-cut"])
def test_load_combined_names_the_error_the_reference_names_after_a_pass_that_moved_bytes(
        tmp_path, monkeypatch, damage, read):
    """A file the one-pass parse stops in after moving payloads (FMT-SAFE-001, FMT-COMB-002,
    FMT-REC-001, SEL-LOAD-004) is read again and judged from its own bytes: the error id and
    offset are the reference codec's, not those of the half-moved buffer.  Parsed while read,
    a record cut by a piece's end is no error until the file has ended there, and bytes after
    the last record are one even when the records end exactly where a piece does."""
    from fluidspec.numba_kernels import files
    from fluidspec.reference import codec

    items = [(np.arange(256, dtype=np.float32) + i, [[0, 100, 256]] if i == 2 else [])
             for i in range(6)]
    data = bytearray(codec.encode_combined(items))
    records = len(data)
    count = len(items)
    if damage == "later-record-cut":
        data = data[:-7]
    elif damage == "trailing-bytes":
        data += b"\1\2\3"
    elif damage == "bad-middle-version":
        data[len(codec.encode_combined(items[:4]))] = 9  # record 4's version
    elif damage == "one-record-too-many":
        count -= 1
    elif damage == "first-record-cut":
        data = data[:11]
    target = tmp_path / "combined"
    target.write_bytes(bytes(data))
    calls = []
    if read != "read-then-parsed":
        calls = _pipeline_reads(monkeypatch, records if read.endswith("piece") else 1777)
    with pytest.raises(FluidSpecError) as expected:
        codec.decode_combined(bytes(data), count)
    with pytest.raises(FluidSpecError) as got:
        files.load_combined(str(target), count)
    assert (got.value.id, got.value.offset) == (expected.value.id, expected.value.offset)
    if read != "read-then-parsed":  # the first read was the reading thread's
        assert calls and calls[0][0] != threading.get_ident()


@pytest.mark.parametrize("case", ["uniform-small", "uniform-big", "mixed-runs",
                                  "uniform-strided", "empty"])
def test_encode_runs_written_with_writev_are_the_encoders_bytes(tmp_path, case):
    """Small records are packed into runs, big payloads sent as the arrays themselves; either
    way the file holds exactly the encoder's stream."""
    from fluidspec.numba_kernels import cpu

    arrays, lods = {
        "uniform-small": ([np.full((4, 4), i, np.float32) for i in range(5000)], None),
        "uniform-big": ([np.full((300, 100), i, np.float32) for i in range(3)], None),
        "mixed-runs": ([np.full(i % 700, i, np.int16 if i % 3 else np.float64)
                        for i in range(3000)] + [np.arange(40000, dtype=np.float32)]
                       + _mixed_arrays()[0], None),
        "uniform-strided": ([np.arange(4800, dtype=np.float32).reshape(300, 16)[i, ::2]
                             for i in range(300)], None),  # not contiguous: copied, same bytes
        "empty": ([], None),
    }[case]
    arrs, meta, uni = cpu.plan(arrays, lods, None, None)
    runs = cpu.encode_runs(arrs, meta, uni)
    target = str(tmp_path / "combined")
    _files.write_chunks([target], [runs])
    with open(target, "rb") as f:
        assert f.read() == cpu.encode_to_bytes(*cpu.plan(arrays, lods, None, None))
    if case == "uniform-small":  # packed, one run at a time: far fewer buffers than records
        written: list[bytes] = []
        runs.write_to(written.append)
        assert isinstance(runs, cpu.StagedRuns) and len(written) < 100
    if case == "uniform-big":
        assert any(r is a or getattr(r, "base", None) is a for r in runs for a in arrays)


class _Unwritable:
    """A chunk whose bytes cannot be made: the write of its file fails."""

    def __init__(self, label: str) -> None:
        self.label, self.nbytes = label, 1

    def write_to(self, write):
        raise RuntimeError(self.label)


@pytest.mark.parametrize("threads", ["adaptive", "pool"])
def test_many_files_fail_with_the_first_bad_file_and_leave_nothing(tmp_path, monkeypatch,
                                                                   threads):
    """SEL-SAVE-008: 400 files, two of them failing: the error is the first in file order
    (whether the rest went to the pool or not), no target appears and no temporary is left."""
    if threads == "pool":
        monkeypatch.setattr(_files, "_POOL_PAYS_S", 0.0)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(400)]
    chunks: list = [np.full(8, i % 256, np.uint8) for i in range(400)]
    chunks[350], chunks[150] = _Unwritable("second"), _Unwritable("first")
    with pytest.raises(RuntimeError, match="^first$"):
        _files.write_chunks(paths, chunks)
    assert os.listdir(tmp_path) == []
    chunks[150] = chunks[350] = np.zeros(1, np.uint8)
    _files.write_chunks(paths, chunks)
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(p) for p in paths]
    assert (tmp_path / "v007").read_bytes() == bytes([7] * 8)


@pytest.mark.parametrize("header", [0, 16, 27, 30])
def test_big_payloads_misaligned_with_their_file_position_are_staged_to_the_same_bytes(
        tmp_path, header):
    """Big arrays whose address and file position disagree mod 16 go through the staging
    buffer, in 4 MiB pieces (here 9 MiB: two whole pieces and a part); the file holds exactly
    the parts' bytes either way."""
    rng = np.random.default_rng(header)
    big = rng.integers(0, 256, 9 * (1 << 20) + 5, dtype=np.uint8)
    wide = rng.standard_normal(300_000).astype(np.float32)  # 1.2 MB, after an odd offset
    parts = [np.arange(header, dtype=np.uint8), big, np.arange(3, dtype=np.uint8), wide]
    target = str(tmp_path / "staged")
    _files.write_chunks([target], [parts])
    with open(target, "rb") as f:
        assert f.read() == b"".join(p.tobytes() for p in parts)


@pytest.mark.parametrize("cores", [1, 2])
@pytest.mark.parametrize("slower", ["staged", "straight"])
def test_a_big_misaligned_payload_goes_the_way_its_probe_pieces_went_faster(
        tmp_path, monkeypatch, slower, cores):
    """Past ``_PROBE_FROM``, a misaligned payload's first four pieces are written staged and
    straight in turn (staged, straight, straight, staged); the rest goes the way that took less
    time (here one way is slowed down), and the file holds exactly the parts' bytes.  With two
    cores the staged way is the two threads' one, in pieces of ``_PAIR_PROBE_CHUNKS`` chunks."""
    monkeypatch.setattr(_files, "_cores", lambda: cores)
    monkeypatch.setattr(_files, "_PROBE_FROM", 1 << 20)
    monkeypatch.setattr(_files, "_PROBE_PIECE", 1 << 16)
    monkeypatch.setattr(_files, "_PAIR_CHUNK", 1 << 14)
    monkeypatch.setattr(_files, "_STAGE_BYTES", 1 << 16)
    ways: list[tuple[str, int]] = []
    real_all = _files._write_all
    name = "_write_staged" if cores == 1 else "_write_staged_in_pairs"
    real_staged = getattr(_files, name)
    inside_staged = []

    def staged(fd, array, pos, **helper):
        ways.append(("staged", array.nbytes))
        if slower == "staged":
            time.sleep(0.01)
        inside_staged.append(True)
        try:
            real_staged(fd, array, pos, **helper)
        finally:
            inside_staged.pop()

    def straight(fd, chunk):
        if not inside_staged:  # the staging buffer's own writes are not the straight way
            ways.append(("straight", memoryview(chunk).nbytes))
            if slower == "straight":
                time.sleep(0.01)
        real_all(fd, chunk)

    monkeypatch.setattr(_files, name, staged)
    monkeypatch.setattr(_files, "_write_all", straight)
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, (2 << 20) + 7, dtype=np.uint8)
    parts = [np.arange(30, dtype=np.uint8), big]
    target = str(tmp_path / "probed")
    _files.write_chunks([target], [parts])
    with open(target, "rb") as f:
        assert f.read() == b"".join(p.tobytes() for p in parts)
    faster = "straight" if slower == "staged" else "staged"
    piece = 1 << 16 if cores == 1 else _files._PAIR_PROBE_CHUNKS * (1 << 14)
    assert ways == [("staged", piece), ("straight", piece), ("straight", piece),
                    ("staged", piece), (faster, big.nbytes - 4 * piece)]


def _pairs_write(path, head: bytes, payload: np.ndarray, tail: bytes) -> None:
    """``head``, then ``payload`` by ``_write_staged_in_pairs``, then ``tail`` at the position
    it leaves."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        os.write(fd, head)
        with ThreadPoolExecutor(1) as helper:
            _files._write_staged_in_pairs(fd, payload, len(head), helper=helper)
        os.write(fd, tail)
    finally:
        os.close(fd)


def test_a_payload_staged_in_pairs_is_written_even_chunks_here_odd_ones_by_the_helper(
        tmp_path, monkeypatch):
    """Two threads each stage every other chunk and write it at its place: the file holds the
    exact bytes, the calling thread wrote the even chunks and the other the odd ones, and the
    descriptor's position is left after the payload."""
    monkeypatch.setattr(_files, "_PAIR_CHUNK", 1 << 12)
    calls = []
    real = os.pwrite

    def recording(fd, data, offset):
        calls.append((threading.get_ident(), offset))
        return real(fd, data, offset)

    monkeypatch.setattr(_files.os, "pwrite", recording)
    payload = np.random.default_rng(5).integers(0, 256, 5 * 4096 + 3, dtype=np.uint8)
    target = tmp_path / "pairs"
    _pairs_write(target, b"h" * 30, payload, b"tail")
    assert target.read_bytes() == b"h" * 30 + payload.tobytes() + b"tail"
    here = threading.get_ident()
    chunk_of = {offset: (offset - 30) // 4096 for _, offset in calls}
    assert sorted(chunk_of.values()) == list(range(6))
    assert all((chunk_of[offset] % 2 == 0) == (thread == here) for thread, offset in calls)


@pytest.mark.parametrize("failing", [0, 1], ids=["here", "helper"])
def test_a_failed_write_staged_in_pairs_is_raised_once_both_threads_are_done(
        tmp_path, monkeypatch, failing):
    """A write that fails (here: the disk is full at one chunk) is raised to the caller, from
    either thread, and only after the other thread's writes have all returned."""
    import errno

    monkeypatch.setattr(_files, "_PAIR_CHUNK", 1 << 12)
    real = os.pwrite
    writing = []

    def full_at_one_chunk(fd, data, offset):
        if (offset - 30) // 4096 == failing:
            raise OSError(errno.ENOSPC, "No space left on device")
        writing.append(offset)
        time.sleep(0.02)  # the other thread is still writing when this one fails
        writing.remove(offset)
        return real(fd, data, offset)

    monkeypatch.setattr(_files.os, "pwrite", full_at_one_chunk)
    fd = os.open(tmp_path / "pairs", os.O_WRONLY | os.O_CREAT)
    try:
        with ThreadPoolExecutor(1) as helper:
            with pytest.raises(OSError) as info:
                try:
                    _files._write_staged_in_pairs(fd, np.zeros(6 * 4096, np.uint8), 30,
                                                  helper=helper)
                finally:
                    still_writing = list(writing)  # before the pool's own wait at its end
    finally:
        os.close(fd)
    assert info.value.errno == errno.ENOSPC
    assert still_writing == []


@pytest.mark.parametrize("cores", [1, 2, 3])
def test_a_big_file_is_read_whole_by_one_thread_per_core(tmp_path, monkeypatch, cores):
    """From ``SPLIT_FROM`` on, ``read_file`` cuts its read into one contiguous piece per core
    starting on a block, each read by a thread; the array is the file's bytes."""
    monkeypatch.setattr(_files, "SPLIT_FROM", 1 << 18)
    monkeypatch.setattr(_files, "_SPLIT_BLOCK", 1 << 12)
    monkeypatch.setattr(_files, "_cores", lambda: cores)
    data = np.random.default_rng(cores).integers(0, 256, (1 << 18) + 77, dtype=np.uint8)
    target = tmp_path / "big"
    target.write_bytes(data.tobytes())
    pieces = []
    real = os.preadv

    def recording(fd, buffers, offset):
        pieces.append(offset)
        return real(fd, buffers, offset)

    monkeypatch.setattr(_files.os, "preadv", recording)
    assert _files.read_file(str(target)).tobytes() == data.tobytes()
    assert len(pieces) == cores and all(offset % (1 << 12) == 0 for offset in pieces)


@pytest.mark.parametrize("cores", [1, 2])
def test_a_file_read_in_short_steps_or_cut_meanwhile_gives_the_bytes_it_had(
        tmp_path, monkeypatch, cores):
    """Each read call may move fewer bytes than asked (Linux moves at most ~2 GiB a call): the
    pieces loop until done.  A file that ends early (here from byte 300,000 on, as if cut
    while being read) gives its bytes up to there, whichever piece met the end."""
    monkeypatch.setattr(_files, "SPLIT_FROM", 1 << 18)
    monkeypatch.setattr(_files, "_SPLIT_BLOCK", 1 << 12)
    monkeypatch.setattr(_files, "_cores", lambda: cores)
    data = np.random.default_rng(9).integers(0, 256, 1 << 19, dtype=np.uint8)
    target = tmp_path / "big"
    target.write_bytes(data.tobytes())
    real = os.preadv
    end = {"at": len(data)}

    def short(fd, buffers, offset):
        view = memoryview(buffers[0])[:max(0, min(7919, end["at"] - offset))]
        return real(fd, [view], offset) if view.nbytes else 0

    monkeypatch.setattr(_files.os, "preadv", short)
    assert _files.read_file(str(target)).tobytes() == data.tobytes()
    end["at"] = 300_000
    assert _files.read_file(str(target)).tobytes() == data[:300_000].tobytes()


def test_a_separate_load_of_more_files_than_descriptors_allowed_works(tmp_path):
    """A load of 2,000 separate files in a process allowed 256 open descriptors: files beyond
    the held ones are sized first, then opened, read and closed one at a time."""
    import subprocess
    import sys

    code = f"""
import resource, numpy as np
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
from fluidspec.numba_kernels import files
root = {str(tmp_path)!r}
names = [f"v{{i:04d}}" for i in range(2000)]
arrays = [np.full(3, i, np.int32) for i in range(2000)]
files.save_dense(root, names, arrays)
loaded = files.load_dense([root + "/" + n for n in names], names)
assert [int(a[0]) for a, _ in loaded] == list(range(2000))
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


@pytest.mark.parametrize("damage", ["missing", "directory", "replaced"])
def test_files_beyond_the_held_ones_report_the_first_bad_file(tmp_path, monkeypatch, damage):
    """SEL-LOAD-001: the careful read (the one that names errors), with few files held open: a
    missing file, a directory, or a file replaced between sizing and reading (another size) is
    still the error of its own variable."""
    monkeypatch.setattr(_files, "_HELD_FILES", 4)
    monkeypatch.setattr(_files, "_read_regular_files", lambda paths: None)
    names = [f"v{i:02d}" for i in range(12)]
    paths = [str(tmp_path / n) for n in names]
    for i, p in enumerate(paths):
        with open(p, "wb") as f:
            f.write(bytes([i]) * (i + 1))
    arena, bounds = _files.read_files(paths, names)
    assert [arena[a:b].tobytes() for a, b in zip(bounds[:-1], bounds[1:], strict=True)] == [
        bytes([i]) * (i + 1) for i in range(12)]
    if damage == "missing":
        os.unlink(paths[7])
    elif damage == "directory":
        os.unlink(paths[7])
        os.mkdir(paths[7])
    else:  # sized, then replaced by a bigger file before it is read
        real_stat = os.stat

        def stat_then_replace(path, *args, **kwargs):
            st = real_stat(path, *args, **kwargs)
            if path == paths[7]:
                with open(path + ".new", "wb") as f:
                    f.write(b"x" * 100)
                os.replace(path + ".new", path)
            return st

        monkeypatch.setattr(_files.os, "stat", stat_then_replace)
    with pytest.raises(FluidSpecError) as info:
        _files.read_files(paths, names)
    assert info.value.id == "MISSING_FILE" and info.value.var == "v07"
    if damage == "directory":
        assert "directory" in str(info.value)
    if damage == "replaced":
        assert "changed" in str(info.value)


def test_big_files_are_reserved_before_they_are_written_and_end_at_their_size(tmp_path,
                                                                            monkeypatch):
    """A file of at least 1 MiB has its blocks reserved first (``fallocate``), one below that
    does not; a reserved file's size is still exactly its bytes, with no slack."""
    if _files._libc_fallocate() is None:
        pytest.skip("this C library has no fallocate")
    asked: list[int] = []
    real = _files._libc_fallocate()

    def recording(fd: int, nbytes: int) -> int:
        asked.append(nbytes)
        return real(fd, nbytes)

    monkeypatch.setattr(_files, "_libc_fallocate", lambda: recording)
    big = [np.arange(7, dtype=np.uint8), np.ones((1 << 20) // 4, np.float32)]
    small = np.zeros(1000, np.uint8)
    paths = [str(tmp_path / "big"), str(tmp_path / "small")]
    _files.write_chunks(paths, [big, small])
    assert asked == [7 + (1 << 20)]
    assert os.path.getsize(paths[0]) == 7 + (1 << 20)
    with open(paths[0], "rb") as f:
        assert f.read() == b"".join(p.tobytes() for p in big)


@pytest.mark.parametrize("error", ["ENOSPC", "EDQUOT", "EOPNOTSUPP"])
def test_a_reservation_refused_for_space_fails_before_writing_and_keeps_the_old_file(
        tmp_path, monkeypatch, error):
    """A disk or quota too full for the file fails the save at once, with the previous save
    whole and no temporary left; a filesystem without ``fallocate`` is simply written."""
    import errno

    code = getattr(errno, error)
    monkeypatch.setattr(_files, "_libc_fallocate", lambda: lambda fd, nbytes: code)
    target = tmp_path / "t"
    target.write_bytes(b"previous save")
    payload = np.ones(1 << 20, np.uint8)
    if error == "EOPNOTSUPP":
        _files.write_chunks([str(target)], [payload])
        assert target.read_bytes() == payload.tobytes()
        return
    with pytest.raises(OSError) as info:
        _files.write_chunks([str(target)], [payload])
    assert info.value.errno == code
    assert target.read_bytes() == b"previous save" and os.listdir(tmp_path) == ["t"]


def _pipeline_reads(monkeypatch, piece: int) -> list[tuple[int, int, int]]:
    """Combined files of any size parsed while read, ``piece`` bytes a read, on two cores;
    every read is recorded as ``(thread, file offset, bytes asked)``."""
    from read_calls import record_preadv

    monkeypatch.setattr(_files, "PIPELINE_FROM", 1)
    monkeypatch.setattr(_files, "_PIPELINE_PIECE", piece)
    monkeypatch.setattr(_files, "_cores", lambda: 2)
    return record_preadv(monkeypatch, _files)


@st.composite
def _combined_items(draw: st.DrawFn) -> list[tuple[np.ndarray, list[list[int]]]]:
    items = []
    for _ in range(draw(st.integers(2, 12))):
        dtype = draw(st.sampled_from([np.float32, np.int64, np.float16, np.int8, np.float64]))
        shape = draw(st.lists(st.integers(0, 30), min_size=0, max_size=3))
        array = np.arange(int(np.prod(shape)), dtype=np.int64).astype(dtype).reshape(shape)
        lod = [[0, shape[0] // 2, shape[0]]] if shape and draw(st.booleans()) else []
        items.append((array, lod))
    return items


@given(items=_combined_items(), piece=st.integers(1, 600))
def test_a_file_parsed_while_read_loads_what_the_reference_decodes(tmp_path_factory, items,
                                                                   piece):
    """FMT-COMB-001, SEL-LOAD-005: a combined file of many records is read front to back on a
    thread of its own, ``piece`` bytes a read, while the pass walks what has arrived; records
    cut by a piece's end wait for the next.  The arrays, dtypes and LoDs are the reference's,
    aligned and writable, and the reads cover the file once, in order, off the caller's
    thread."""
    from fluidspec.numba_kernels import files
    from fluidspec.reference import codec

    data = codec.encode_combined(items)
    target = tmp_path_factory.mktemp("piped") / "combined"
    target.write_bytes(data)
    with pytest.MonkeyPatch.context() as monkeypatch:
        calls = _pipeline_reads(monkeypatch, max(piece, len(data) // len(items)))
        loaded = files.load_combined(str(target), len(items))
    expected = codec.decode_combined(data, len(items))
    for (array, lod), want in zip(loaded, expected, strict=True):
        assert array.dtype == want.array.dtype and array.shape == want.array.shape
        assert array.tobytes() == want.array.tobytes() and lod == want.lod
        assert array.flags.aligned and array.flags.writeable
    reads = [(offset, asked) for _, offset, asked in calls]
    assert reads[0][0] == 0 and all(thread != threading.get_ident() for thread, _, _ in calls)
    assert [offset + asked for offset, asked in reads] == [o for o, _ in reads[1:]] + [len(data)]


_RECORDS = 40


def _records_read_a_piece_at_a_time(tmp_path, monkeypatch) -> tuple[Path, bytes, list]:
    """A combined file of ``_RECORDS`` records of 100 float32 (17 pieces of 1,000 bytes), to be
    parsed while read a piece at a time: ``(its path, its bytes, the reads recorded)``."""
    from fluidspec.reference import codec

    data = codec.encode_combined([(np.full(100, i, np.float32), []) for i in range(_RECORDS)])
    target = tmp_path / "combined"
    target.write_bytes(data)
    return target, data, _pipeline_reads(monkeypatch, 1000)


def test_a_read_that_fails_on_the_reading_thread_is_raised_once_it_has_stopped(tmp_path,
                                                                              monkeypatch):
    """The reading thread's error reaches the caller, after that thread has stopped: no write
    into the buffer outlives the load."""
    from fluidspec.numba_kernels import files

    target, _, calls = _records_read_a_piece_at_a_time(tmp_path, monkeypatch)
    recording = _files.os.preadv
    ended = []

    def failing(fd, buffers, offset, *rest):
        if offset >= 3000:
            ended.append(threading.current_thread())
            raise OSError(5, "Input/output error")
        return recording(fd, buffers, offset, *rest)

    monkeypatch.setattr(_files.os, "preadv", failing)
    with pytest.raises(OSError) as info:
        files.load_combined(str(target), _RECORDS)
    assert info.value.errno == 5 and len(calls) == 3
    assert ended and not ended[0].is_alive()


def test_a_parse_that_fails_stops_the_reading_and_raises_its_own_error(tmp_path, monkeypatch):
    """Left by an error of the parse (an interrupt, memory), the load does not wait for the
    rest of the file to be read for nobody: the thread stops after its piece, has stopped
    before the error reaches the caller, and the file is closed."""
    from fluidspec.numba_kernels import cpu, files

    target, _, calls = _records_read_a_piece_at_a_time(tmp_path, monkeypatch)
    recording = _files.os.preadv
    parse_failed = threading.Event()

    def waiting(fd, buffers, offset, *rest):
        if offset:  # every piece after the first is read only once the parse has failed
            parse_failed.wait(10)
        return recording(fd, buffers, offset, *rest)

    def failing_parse(buf, count, filled):
        filled(0)
        parse_failed.set()
        raise MemoryError

    monkeypatch.setattr(_files.os, "preadv", waiting)
    monkeypatch.setattr(cpu, "parse_in_place", failing_parse)
    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(MemoryError):
        files.load_combined(str(target), _RECORDS)
    assert len(os.listdir("/proc/self/fd")) == open_before
    assert not [t for t in threading.enumerate() if t.name == "fluidspec-read"]
    assert 2 <= len(calls) <= 3, calls  # of 17 pieces


def test_a_declined_parse_drops_its_buffer_before_the_file_is_read_again(tmp_path,
                                                                          monkeypatch):
    """Where the pass moved payloads and then met damage, the file is read again for the
    usual parse to name it; the first buffer is gone by then, so the load never holds two
    copies of the file."""
    from fluidspec.numba_kernels import cpu, files

    target, data, _ = _records_read_a_piece_at_a_time(tmp_path, monkeypatch)
    target.write_bytes(data[:-3])
    first: list[weakref.ref] = []
    alive_at_reread: list[bool] = []
    real_parse, real_read = cpu.parse_in_place, _files.read_file

    def parse(buf, *rest):
        first.append(weakref.ref(buf))
        return real_parse(buf, *rest)

    def read_again(path, *rest):
        alive_at_reread.append(first[0]() is not None)
        return real_read(path, *rest)

    monkeypatch.setattr(cpu, "parse_in_place", parse)
    monkeypatch.setattr(_files, "read_file", read_again)
    with pytest.raises(FluidSpecError) as info:
        files.load_combined(str(target), _RECORDS)
    assert info.value.id == "TRUNCATED" and alive_at_reread == [False]


def test_a_file_cut_while_parsed_as_read_is_judged_as_it_now_is(tmp_path, monkeypatch):
    """SEL-LOAD-004: the file is cut after its first piece was read; the reading stops where
    the file now ends, and the load names what the reference names for the bytes left."""
    from fluidspec.numba_kernels import files
    from fluidspec.reference import codec

    target, data, _ = _records_read_a_piece_at_a_time(tmp_path, monkeypatch)
    recording = _files.os.preadv

    def cutting(fd, buffers, offset, *rest):
        got = recording(fd, buffers, offset, *rest)
        if offset == 0:
            os.truncate(target, 2500)
        return got

    monkeypatch.setattr(_files.os, "preadv", cutting)
    with pytest.raises(FluidSpecError) as expected:
        codec.decode_combined(data[:2500], _RECORDS)
    with pytest.raises(FluidSpecError) as got:
        files.load_combined(str(target), _RECORDS)
    assert (got.value.id, got.value.offset) == (expected.value.id, expected.value.offset)
