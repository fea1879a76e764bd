"""fluidspec.numba_kernels.cpu._file_calls and the fast paths of ``numba_kernels._files`` built
on it.

* Loads: many regular files read into one arena by a kernel, in one thread or several, byte for
  byte what the careful Python read gives; anything else sends the load the careful way, whose
  errors name the file and the variable (SEL-LOAD-001).
* Saves: many small temporaries created, filled and renamed into place by kernels, byte for
  byte what the Python writer makes; a failure anywhere falls back to it, so the error and what
  is left on disk are the Python writer's (SEL-SAVE-008, SAFE-ATOMIC-001); plain names are
  checked at once, other names one by one (SEL-PATH-001/002).
"""

from __future__ import annotations

import os
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec.numba_kernels import _files, cpu
from fluidspec.spec.errors import FluidSpecError, UnsafeNameError

pytestmark = pytest.mark.skipif(not cpu.can_call_files(),
                                reason="the kernels' libc calls (statx) are Linux-only")

INF = float("inf")
# How the files after the first two (the probe) are read: "one thread" (a second run
# continuing the probe's arena), "threads" (many files: one run per core), "slow device" (the
# probe took long: the pool at once).
MODES = {
    "one thread": {"_PROBE_FILES": 2, "_THREADED_FROM": 1 << 30, "_POOL_PAYS_S": INF},
    "threads": {"_PROBE_FILES": 2, "_THREADED_FROM": 1, "_cores": lambda: 3,
                "_POOL_PAYS_S": INF},
    "slow device": {"_PROBE_FILES": 2, "_POOL_PAYS_S": 0.0},
}
# Saves into a new directory link unnamed files under their names; the tests of the other way
# (temporaries renamed into place, which targets that exist take) switch the first one off.
TEMPORARIES = {"_can_link_unnamed": lambda: False}


def _write(root: Path, contents: list[bytes]) -> list[str]:
    paths = [str(root / f"v{i:03d}") for i in range(len(contents))]
    for path, data in zip(paths, contents, strict=True):
        Path(path).write_bytes(data)
    return paths


def _files_of(arena: np.ndarray, bounds: np.ndarray) -> list[bytes]:
    return [arena[a:b].tobytes() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _root_of(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _quick(paths: list[str], mode: str) -> tuple[np.ndarray, np.ndarray] | None:
    with mock.patch.multiple(_files, **MODES[mode]):
        return _files._read_regular_files(paths)


@pytest.mark.parametrize("mode", list(MODES))
@given(sizes=st.lists(st.one_of(st.integers(0, 64), st.integers(0, 5000)), min_size=1,
                      max_size=40))
def test_regular_files_read_by_the_kernel_are_the_careful_reads_bytes(mode, sizes):
    """Every file's bytes at its bounds, in order, whatever the sizes (empty files included) and
    however the files were split between threads; the same arena and bounds as the careful
    read."""
    rng = np.random.default_rng(len(sizes))
    contents = [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for size in sizes]
    with tempfile.TemporaryDirectory() as root:
        paths = _write(Path(root), contents)
        quick = _quick(paths, mode)
        assert quick is not None
        arena, bounds = quick
        assert _files_of(arena, bounds) == contents
        assert bounds[0] == 0 and bounds[-1] == arena.size == sum(sizes)
        careful_arena, careful_bounds = _files._read_files_carefully(paths)
        assert np.array_equal(arena, careful_arena) and np.array_equal(bounds, careful_bounds)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("sizes", [
    [1 << 20] + [1] * 300,           # a big first file: the guess from it is far too high
    [1] * 300 + [1 << 20] * 3,       # big last files: far past the guess from the small ones
    [(i * 997) % 40_000 for i in range(200)],
], ids=["big-first", "big-last", "mixed"])
def test_the_arena_grows_past_wrong_guesses_and_keeps_no_more_than_an_eighth_over(
        tmp_path, mode, sizes):
    """The arena is sized by guesses from the files read so far; whatever they were, the files
    come back whole and the memory the arena keeps is at most an eighth (or 1 MiB) over."""
    rng = np.random.default_rng(7)
    contents = [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for size in sizes]
    quick = _quick(_write(tmp_path, contents), mode)
    assert quick is not None
    arena, bounds = quick
    assert _files_of(arena, bounds) == contents
    used = int(bounds[-1])
    assert _root_of(arena).nbytes <= used + max(used >> 3, 1 << 20)


def _read(paths: list[str], most_per_call: int = cpu.MOST_PER_CALL, most_per_file: int = 1 << 20,
          most_bytes: int = 1 << 28, first: int = 0, stop: int | None = None,
          arena: np.ndarray | None = None, used: int = 0, bounds: np.ndarray | None = None
          ) -> tuple[int, int, int, int, np.ndarray, np.ndarray]:
    names, ends = _files._nul_terminated(paths)
    bounds = np.zeros(len(paths) + 1, np.int64) if bounds is None else bounds
    arena = np.empty(1 << 16, np.uint8) if arena is None else arena
    why, at, used, size = cpu.read_regular_files(
        names, ends, cpu.READ_FLAGS, most_per_call, most_per_file, most_bytes, first,
        len(paths) if stop is None else stop, arena, used, bounds)
    return why, at, used, size, arena, bounds


def test_files_longer_than_one_read_come_in_several_reads(tmp_path):
    """Each file is read by ``pread`` calls of at most ``most_per_call`` bytes (1 GiB in use;
    here 7, so that every file takes several calls, the last one partial)."""
    contents = [bytes(range(i, i + 30)) for i in range(5)]
    why, at, used, _, arena, bounds = _read(_write(tmp_path, contents), most_per_call=7)
    assert (why, at, used) == (cpu.READ_ALL, 5, 150)
    assert _files_of(arena[:used], bounds) == contents


def test_the_kernel_stops_where_the_arena_ends_and_goes_on_from_there(tmp_path):
    """``READ_FULL``: the file that does not fit, its size, and nothing of it read; called again
    with a bigger arena from that file, the kernel goes on as if it had not stopped."""
    contents = [bytes([i]) * (i + 10) for i in range(6)]
    paths = _write(tmp_path, contents)
    small = np.empty(25, np.uint8)
    why, at, used, size, _, bounds = _read(paths, arena=small)
    assert (why, at, used, size) == (cpu.READ_FULL, 2, 21, 12)
    bigger = np.empty(100, np.uint8)
    bigger[:used] = small[:used]
    why, at, used, _, _, bounds = _read(paths, first=2, arena=bigger, used=used, bounds=bounds)
    assert (why, used) == (cpu.READ_ALL, sum(map(len, contents)))
    assert _files_of(bigger[:used], bounds) == contents


@pytest.mark.parametrize("limit", ["per file", "in all"])
def test_big_reads_are_left_to_the_careful_path(tmp_path, monkeypatch, limit):
    """``READ_TOO_BIG`` for a file over the per-file bound or an arena past the total bound;
    ``read_files`` then reads them all the careful way (one exact allocation)."""
    contents = [b"a" * 100, b"b" * 5000, b"c" * 100]
    paths = _write(tmp_path, contents)
    if limit == "per file":
        why, at, _, size, _, _ = _read(paths, most_per_file=4999)
        monkeypatch.setattr(_files, "_SMALL_READ_FILE", 4999)
    else:
        why, at, _, size, _, _ = _read(paths, most_bytes=5099)
        monkeypatch.setattr(_files, "_SMALL_READS_MOST", 5099)
    assert (why, at, size) == (cpu.READ_TOO_BIG, 1, 5000)
    assert _files._read_regular_files(paths) is None
    arena, bounds = _files.read_files(paths)
    assert _files_of(arena, bounds) == contents


def test_an_arena_that_cannot_grow_sends_the_load_the_careful_way(tmp_path, monkeypatch):
    contents = [bytes([i]) * 3000 for i in range(50)]
    paths = _write(tmp_path, contents)
    before = _open_descriptors()

    def no_memory(capacity):
        raise MemoryError

    monkeypatch.setattr(_files, "_new_arena", no_memory)
    assert _files._read_regular_files(paths) is None
    assert _open_descriptors() == before
    arena, bounds = _files.read_files(paths)
    assert _files_of(arena, bounds) == contents


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_write_that_fails_stops_the_write_kernel_at_that_file():
    """``/dev/full`` refuses every write (ENOSPC): the kernel reports that file, not success."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    names, ends = _files._nul_terminated(["/dev/full"])
    data = np.arange(10, dtype=np.uint8)
    bounds = np.array([0, 10], np.int64)
    assert cpu.write_new_files(names, ends, os.O_WRONLY, 0, cpu.MOST_PER_CALL, data, bounds,
                               0, 1) == 0


def test_files_longer_than_one_write_come_in_several_writes(tmp_path):
    paths = [str(tmp_path / f"w{i}") for i in range(3)]
    names, ends = _files._nul_terminated(paths)
    data = np.arange(90, dtype=np.uint8)
    bounds = np.array([0, 30, 30, 90], np.int64)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    assert cpu.write_new_files(names, ends, flags, 0o600, 7, data, bounds, 0, 3) == -1
    assert [Path(p).read_bytes() for p in paths] == [data[:30].tobytes(), b"",
                                                    data[30:].tobytes()]
    assert stat.S_IMODE(os.stat(paths[0]).st_mode) == 0o600 & ~_umask()
    assert cpu.write_new_files(names, ends, flags, 0o600, 7, data, bounds, 1, 2) == 1  # exists


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_a_run_appends_to_the_arena_it_is_given(tmp_path):
    """A second run continues the first one's arena and bounds, as the load does after the
    probe files."""
    contents = [bytes([i]) * (i + 1) for i in range(6)]
    paths = _write(tmp_path, contents)
    why, _, used, _, arena, bounds = _read(paths, stop=2)
    assert (why, used) == (cpu.READ_ALL, 3)
    why, _, used, _, arena, bounds = _read(paths, first=2, arena=arena, used=used, bounds=bounds)
    assert (why, used) == (cpu.READ_ALL, 21)
    assert _files_of(arena[:used], bounds) == contents


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("damage", ["missing", "directory", "unreadable"])
@pytest.mark.parametrize("at", [0, 5, 39])
def test_a_file_the_kernel_cannot_read_is_the_careful_reads_error(tmp_path, mode, damage, at):
    """A missing file, a directory or a file without read permission stops the kernel (at the
    first file, in the middle, at the last), and ``read_files`` raises the careful read's error
    for that file."""
    if damage == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    paths = _write(tmp_path, [bytes([i]) * 10 for i in range(40)])
    names = [f"var{i}" for i in range(40)]
    os.unlink(paths[at])
    if damage == "directory":
        os.mkdir(paths[at])
    elif damage == "unreadable":
        Path(paths[at]).write_bytes(b"secret")
        os.chmod(paths[at], 0)
    before = _open_descriptors()
    assert _quick(paths, mode) is None
    assert _open_descriptors() == before  # every descriptor the kernel opened is closed
    # A file without read permission is the operating system's refusal, raised as it is (an
    # OSError with the path), as before the kernel existed.
    expected = PermissionError if damage == "unreadable" else FluidSpecError
    with mock.patch.multiple(_files, **MODES[mode]), pytest.raises(expected) as info:
        _files.read_files(paths, names)
    if damage == "unreadable":
        assert info.value.filename == paths[at]
    else:
        assert info.value.id == "MISSING_FILE" and info.value.var == f"var{at}"
        assert info.value.path == paths[at]


def test_a_file_that_is_not_regular_is_read_the_careful_way(tmp_path):
    """A character device is no regular file: the kernel stops at it and the careful read takes
    the load (a device's reported size, 0, is what it reads)."""
    if not os.path.exists("/dev/null") or not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        pytest.skip("no /dev/null character device")
    paths = _write(tmp_path, [b"abc", b"de"])
    paths.insert(1, "/dev/null")
    assert _files._read_regular_files(paths) is None
    arena, bounds = _files.read_files(paths)
    assert _files_of(arena, bounds) == [b"abc", b"", b"de"]


@pytest.mark.parametrize("paths", [
    [b"/tmp/some-file"],                   # bytes: os.open takes them, the kernel's input not
    ["/tmp/a\0b"],                         # a NUL inside: os.open refuses it by itself
    ["/tmp/\udcff-\ud800"],                # a lone surrogate the file system encoding refuses
], ids=["bytes", "nul", "unencodable"])
def test_paths_the_kernel_cannot_take_go_the_careful_way(paths):
    assert _files._nul_terminated(paths) is None
    assert _files._read_regular_files(paths) is None


def test_without_the_kernel_read_files_reads_the_careful_way(tmp_path, monkeypatch):
    """Where ``can_call_files`` is false (not Linux, no statx), the kernel is never called and
    the load is the same."""
    contents = [bytes([i]) * i for i in range(20)]
    paths = _write(tmp_path, contents)
    monkeypatch.setattr(cpu, "can_call_files", lambda: False)
    monkeypatch.setattr(cpu, "read_regular_files", mock.Mock(side_effect=AssertionError))
    arena, bounds = _files.read_files(paths)
    assert _files_of(arena, bounds) == contents


# ----------------------------------------------------------------------------------- saves


def _chunks(count: int, seed: int = 0) -> list[Any]:
    """Mostly ``[header, payload]`` per file, as ``record_parts`` makes them, with sizes that
    vary (some empty); every fifth chunk is one ``bytes``, every seventh a list of one or three
    parts, so that files and parts do not line up."""
    rng = np.random.default_rng(seed)
    chunks: list[Any] = []
    for i in range(count):
        chunk = [rng.integers(0, 256, 1 + i % 7, dtype=np.uint8),
                 rng.standard_normal(i % 50).astype(np.float32)]
        if i % 5 == 0:
            chunks.append(_bytes_of(chunk))
        elif i % 7 == 0:
            chunks.append(chunk[:1] if i % 2 else [*chunk, np.arange(i % 3, dtype=np.int16)])
        else:
            chunks.append(chunk)
    return chunks


def _bytes_of(chunk: Any) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    return b"".join(part.tobytes() for part in chunk)


def _leftovers(root: Path) -> list[str]:
    return sorted(n for n in os.listdir(root) if n.startswith(_files._TMP_PREFIX))


@pytest.mark.parametrize("mode", list(MODES))
def test_small_files_written_by_the_kernels_hold_the_python_writers_bytes(tmp_path, mode):
    """200 files through the write and rename kernels (in one thread or several): each holds
    exactly its chunk's bytes, nothing else is left in the directory, and the kernels were the
    ones that wrote them."""
    chunks = _chunks(200)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(200)]
    calls = {"write": 0, "rename": 0}
    real_write, real_rename = cpu.write_new_files, cpu.rename_files

    def counting(kind, real):
        def call(*args):
            calls[kind] += 1
            return real(*args)
        return call

    with mock.patch.multiple(_files, **MODES[mode], **TEMPORARIES), \
            mock.patch.object(cpu, "write_new_files", counting("write", real_write)), \
            mock.patch.object(cpu, "rename_files", counting("rename", real_rename)):
        _files.write_chunks(paths, chunks)
    assert calls["write"] >= 1 and calls["rename"] >= 1
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert sorted(os.listdir(tmp_path)) == [f"v{i:03d}" for i in range(200)]


@pytest.mark.parametrize("mode", list(MODES))
def test_small_files_past_one_batch_go_through_the_kernel_in_bounded_batches(tmp_path, mode):
    """More bytes than one batch may copy: the kernel still writes every file, from copies of
    at most ``_SMALL_FILES_MOST_BYTES`` each, and the files hold the Python writer's bytes."""
    chunks = _chunks(300)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(300)]
    most = 2048
    total = sum(len(_bytes_of(c)) for c in chunks)
    assert total > 10 * most  # many batches
    copies: list[int] = []
    real_write = cpu.write_new_files

    def write(names, ends, flags, mode_bits, per_call, data, bounds, first, stop):
        copies.append(data.size)
        assert 0 <= bounds[first] <= bounds[stop] <= data.size  # its files lie in this copy
        return real_write(names, ends, flags, mode_bits, per_call, data, bounds, first, stop)

    with mock.patch.multiple(_files, _SMALL_FILES_MOST_BYTES=most, **MODES[mode], **TEMPORARIES), \
            mock.patch.object(cpu, "write_new_files", write):
        _files.write_chunks(paths, chunks)
    assert max(copies) <= most and len(set(copies)) > 1
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert sorted(os.listdir(tmp_path)) == [f"v{i:03d}" for i in range(300)]


def test_a_kernel_stop_in_a_later_batch_removes_the_earlier_batches_temporaries(tmp_path):
    """The kernel stops at a file of the third batch: every temporary it made (the first two
    batches' too) is removed and the Python writer writes all the files again."""
    chunks = _chunks(300)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(300)]
    real_write = cpu.write_new_files
    starts: list[int] = []

    def stop_in_third_batch(names, ends, flags, mode_bits, per_call, data, bounds, first, stop):
        starts.append(first)
        if len(starts) >= 3:
            return first
        return real_write(names, ends, flags, mode_bits, per_call, data, bounds, first, stop)

    with mock.patch.multiple(_files, _SMALL_FILES_MOST_BYTES=4096, **MODES["one thread"],
                             **TEMPORARIES), \
            mock.patch.object(cpu, "write_new_files", stop_in_third_batch), \
            mock.patch.object(cpu, "rename_files", mock.Mock(side_effect=AssertionError)):
        _files.write_chunks(paths, chunks)
    assert len(starts) == 3 and starts[2] > 0
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert sorted(os.listdir(tmp_path)) == [f"v{i:03d}" for i in range(300)]


@pytest.mark.parametrize(("sizes", "expected"), [
    ([], []),
    ([3, 3, 3, 3], [(0, 2), (2, 4)]),
    ([6, 0, 0, 6], [(0, 3), (3, 4)]),
    ([6, 5, 1], [(0, 1), (1, 3)]),
    ([2] * 5, [(0, 3), (3, 5)]),
])
def test_small_file_batches_are_runs_of_at_most_the_bound(monkeypatch, sizes, expected):
    monkeypatch.setattr(_files, "_SMALL_FILES_MOST_BYTES", 6)
    bounds = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
    assert _files._small_file_batches(bounds) == expected


@pytest.mark.parametrize("sizes", [[7, 1, 1], [3] * 2], ids=["one file past", "big average"])
def test_small_file_batches_refuse_a_file_past_the_bound_or_a_big_average(monkeypatch, sizes):
    monkeypatch.setattr(_files, "_SMALL_FILES_MOST_BYTES", 6)
    monkeypatch.setattr(_files, "_SMALL_FILE_BYTES", 2)
    bounds = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
    assert _files._small_file_batches(bounds) is None


def test_concurrent_kernel_saves_into_one_directory_never_mix_their_bytes(tmp_path):
    """SAFE-CONC-001 on the kernels' path: eight threads save the same 200 names at once, each
    with its own bytes, in two threads each (the kernels release the GIL); every file ends as
    one whole save's version of it, and no temporary is left."""
    count, savers = 200, 8
    paths = [str(tmp_path / f"v{i:03d}") for i in range(count)]
    versions = [[[np.full(1 + i % 5, s, np.uint8), np.full(i % 40, s, np.float32)]
                 for i in range(count)] for s in range(savers)]
    with mock.patch.multiple(_files, **MODES["threads"]), ThreadPoolExecutor(savers) as pool:
        list(pool.map(lambda chunks: _files.write_chunks(paths, chunks), versions))
    wholes = [{_bytes_of(v[i]) for v in versions} for i in range(count)]
    assert all(Path(p).read_bytes() in whole for p, whole in zip(paths, wholes, strict=True))
    assert _leftovers(tmp_path) == []


def test_a_save_over_an_older_one_replaces_every_file(tmp_path):
    paths = [str(tmp_path / f"v{i:03d}") for i in range(100)]
    _files.write_chunks(paths, _chunks(100, seed=1))
    newer = _chunks(100, seed=2)
    _files.write_chunks(paths, newer)
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in newer]
    assert _leftovers(tmp_path) == []


def _link_calls(record: list[tuple[int, int]]) -> Any:
    real_link = cpu.link_new_files

    def link(*args):
        record.append((args[-2], args[-1]))
        return real_link(*args)
    return link


@pytest.mark.parametrize("mode", list(MODES))
def test_new_targets_are_unnamed_files_linked_under_their_names(tmp_path, mode):
    """A save into a new directory: the link kernel writes every file (no temporary is created,
    none renamed), each holds its chunk's bytes and the permissions a created file gets, and
    the directory holds the names only (no lock file either)."""
    chunks = _chunks(200)
    paths = [str(tmp_path / "new" / f"v{i:03d}") for i in range(200)]
    spans: list[tuple[int, int]] = []
    with mock.patch.multiple(_files, **MODES[mode]), \
            mock.patch.object(cpu, "link_new_files", _link_calls(spans)), \
            mock.patch.object(cpu, "write_new_files", mock.Mock(side_effect=AssertionError)), \
            mock.patch.object(cpu, "rename_files", mock.Mock(side_effect=AssertionError)):
        _files.write_chunks(paths, chunks)
    assert sum(b - a for a, b in spans) == 200
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert sorted(os.listdir(tmp_path / "new")) == [f"v{i:03d}" for i in range(200)]
    umask = os.umask(0)
    os.umask(umask)
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in paths} == {0o644 & ~umask}
    assert all(os.stat(p).st_nlink == 1 for p in paths)


@pytest.mark.parametrize("way", ["linked", "temporaries", "some exist"])
@pytest.mark.parametrize("uniform", [False, True], ids=["mixed", "uniform"])
def test_a_separate_saves_records_reach_the_kernels_joined_by_batch(tmp_path, way, uniform):
    """A separate save's records (``_separate.record_parts``) reach the link or write kernel in
    batches each record set joins itself: no list of parts is flattened for them (only for the
    new targets of a directory where some exist, taken as a subset) and the batches stay within
    ``_SMALL_FILES_MOST_BYTES``; every file holds the reference's record."""
    from fluidspec.numba_kernels import _separate
    from fluidspec.reference import codec as ref

    if uniform:
        arrays = [np.full((4, 4), i, np.float32) for i in range(300)]
    else:
        arrays = [np.arange(i % 40, dtype=(np.float32, ">i4", np.float16)[i % 3])
                  for i in range(300)]
    names = [f"v{i:03d}" for i in range(300)]
    paths = [str(tmp_path / name) for name in names]
    if way == "some exist":
        for path in paths[::3]:
            Path(path).write_bytes(b"older")
    records = _separate.record_parts(arrays, None, names)
    batches: list[int] = []
    real_small_file_batches = _files._small_file_batches

    def small_file_batches(bounds):
        found = real_small_file_batches(bounds)
        batches.extend(int(bounds[b] - bounds[a]) for a, b in found or [])
        return found

    flattening = (mock.Mock(wraps=_files._flat_parts) if way == "some exist"
                  else mock.Mock(side_effect=AssertionError("flattened")))
    with mock.patch.multiple(_files, _SMALL_FILES_MOST_BYTES=4096, **MODES["threads"],
                             **(TEMPORARIES if way == "temporaries" else {})), \
            mock.patch.object(_files, "_small_file_batches", small_file_batches), \
            mock.patch.object(_files, "_flat_parts", flattening):
        _files.write_chunks(paths, records)
    assert [Path(p).read_bytes() for p in paths] == [ref.encode_lod_tensor(a) for a in arrays]
    assert len(batches) > 3 and max(batches) <= 4096
    assert sorted(os.listdir(tmp_path)) == names


def test_targets_that_exist_are_replaced_through_temporaries_and_the_rest_linked(tmp_path):
    """Half the targets exist (an older save): those go to temporaries renamed over them, the
    new ones are linked; every file ends with this save's bytes and no temporary is left."""
    paths = [str(tmp_path / f"v{i:03d}") for i in range(200)]
    for path in paths[::2]:
        Path(path).write_bytes(b"older")
    chunks = _chunks(200)
    spans: list[tuple[int, int]] = []
    written = []
    real_write = cpu.write_new_files

    def write(*args):
        written.append(args[-1] - args[-2])
        return real_write(*args)

    with mock.patch.multiple(_files, **MODES["one thread"]), \
            mock.patch.object(cpu, "link_new_files", _link_calls(spans)), \
            mock.patch.object(cpu, "write_new_files", write):
        _files.write_chunks(paths, chunks)
    assert sum(b - a for a, b in spans) == 100 and sum(written) == 100
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert sorted(os.listdir(tmp_path)) == [f"v{i:03d}" for i in range(200)]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("at", [0, 70, 199])
def test_a_name_that_appears_during_the_save_is_replaced_through_a_temporary(tmp_path, mode,
                                                                          at):
    """Another writer creates a target after this save looked (a link never replaces): the
    link kernel stops there, the files it linked stay, the rest go through temporaries, and the
    save ends with every file its own and no descriptor or temporary left."""
    chunks = _chunks(200)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(200)]
    stopped = []
    real_link = cpu.link_new_files

    def in_the_way_at(*args):
        first, stop = args[-2], args[-1]
        if first <= at < stop:
            Path(paths[at]).write_bytes(b"in the way")
        failed, linked = real_link(*args)
        stopped.append(failed)
        return failed, linked

    before = _open_descriptors()
    with mock.patch.multiple(_files, **MODES[mode]), \
            mock.patch.object(cpu, "link_new_files", in_the_way_at):
        _files.write_chunks(paths, chunks)
    assert at in stopped
    assert _open_descriptors() == before
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert sorted(os.listdir(tmp_path)) == [f"v{i:03d}" for i in range(200)]


def test_without_unnamed_files_the_save_goes_through_temporaries(tmp_path, monkeypatch):
    """A file system or kernel without ``O_TMPFILE`` (here: flags that cannot open the
    directory): the kernel stops at its first file and the temporaries' way writes them all."""
    monkeypatch.setattr(_files, "_TMPFILE_FLAGS", os.O_WRONLY | os.O_CLOEXEC)  # EISDIR
    written = []
    real_write = cpu.write_new_files
    monkeypatch.setattr(cpu, "write_new_files",
                        lambda *args: written.append(args[-1] - args[-2]) or real_write(*args))
    chunks = _chunks(100)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(100)]
    _files.write_chunks(paths, chunks)
    assert sum(written) == 100
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert _leftovers(tmp_path) == []


def test_a_save_that_fails_after_linking_removes_the_names_it_linked(tmp_path):
    """One target is a non-empty directory (no rename goes over it): the other 199 were linked,
    the rename of that one raises, and the save removes what it linked — it leaves nothing."""
    paths = [str(tmp_path / f"v{i:03d}") for i in range(200)]
    os.mkdir(paths[150])
    Path(paths[150], "inside").write_bytes(b"x")
    with pytest.raises(OSError):
        _files.write_chunks(paths, _chunks(200))
    assert os.listdir(tmp_path) == ["v150"]
    assert os.listdir(paths[150]) == ["inside"]


def test_stale_temporaries_are_removed_by_a_save_that_links_only(tmp_path):
    """A killed save's temporaries (no live lock) are cleaned by the next save into the
    directory even when all of that save's files are new."""
    stale = tmp_path / f"{_files._TMP_PREFIX}{'0' * 32}-0.tmp"
    stale.write_bytes(b"left by a killed save")
    paths = [str(tmp_path / f"v{i:03d}") for i in range(100)]
    _files.write_chunks(paths, _chunks(100))
    assert not stale.exists()
    assert sorted(os.listdir(tmp_path)) == [f"v{i:03d}" for i in range(100)]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("at", [0, 70, 199])
def test_a_write_the_kernel_fails_falls_back_to_the_python_writer(tmp_path, mode, at):
    """The kernel stops at a file (here: its temporary already exists, so the exclusive create
    fails): every temporary it made is removed, the Python writer writes them all, and the save
    ends as if the kernel had not been tried."""
    chunks = _chunks(200)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(200)]
    real_write = cpu.write_new_files
    stopped = []

    def blocked_at(names, ends, flags, mode_bits, most, data, bounds, first, stop):
        if first <= at < stop:  # the temporary exists before the kernel reaches it
            start = 0 if at == 0 else int(ends[at - 1]) + 1
            Path(bytes(names[start:int(ends[at])]).decode()).write_bytes(b"in the way")
        failed = real_write(names, ends, flags, mode_bits, most, data, bounds, first, stop)
        stopped.append(failed)
        if first <= at < stop:
            os.unlink(bytes(names[start:int(ends[at])]).decode())
        return failed

    before = _open_descriptors()
    with mock.patch.multiple(_files, **MODES[mode], **TEMPORARIES), \
            mock.patch.object(cpu, "write_new_files", blocked_at):
        _files.write_chunks(paths, chunks)
    assert at in stopped
    assert _open_descriptors() == before
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert sorted(os.listdir(tmp_path)) == [f"v{i:03d}" for i in range(200)]


def test_a_failure_the_python_writer_meets_too_is_its_error_and_leaves_nothing(tmp_path,
                                                                             monkeypatch):
    """When the Python writer fails as the kernel did (a full disk here), its error is raised
    and no target and no temporary is left."""
    paths = [str(tmp_path / f"v{i:03d}") for i in range(100)]
    monkeypatch.setattr(_files, "_can_link_unnamed", TEMPORARIES["_can_link_unnamed"])
    monkeypatch.setattr(cpu, "write_new_files", lambda *args: args[7])  # stops at its first file

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_files, "_write_new", full)
    with pytest.raises(OSError, match="No space left"):
        _files.write_chunks(paths, _chunks(100))
    assert os.listdir(tmp_path) == []


def test_a_rename_that_fails_is_raised_in_order_with_the_earlier_files_in_place(tmp_path,
                                                                                monkeypatch):
    """A target that is a directory: the rename kernel stops there, the one ``os.replace`` of
    that file raises its error; the files before it are in place, none after it, and no
    temporary is left — as with renames made one by one in Python."""
    chunks = _chunks(100)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(100)]
    monkeypatch.setattr(_files, "_can_link_unnamed", TEMPORARIES["_can_link_unnamed"])
    os.mkdir(paths[70])
    Path(paths[70], "inside").write_bytes(b"x")  # a non-empty directory: no rename over it
    with pytest.raises(OSError) as info:
        _files.write_chunks(paths, chunks)
    assert info.value.filename2 == paths[70] or info.value.filename == paths[70] or \
        paths[70] in str(info.value)
    assert [Path(p).read_bytes() for p in paths[:70]] == [_bytes_of(c) for c in chunks[:70]]
    assert not any(os.path.exists(p) for p in paths[71:])
    assert _leftovers(tmp_path) == []


def test_a_rename_that_fails_once_is_made_in_python_and_the_kernel_goes_on(tmp_path,
                                                                         monkeypatch):
    chunks = _chunks(100)
    paths = [str(tmp_path / f"v{i:03d}") for i in range(100)]
    real_rename = cpu.rename_files
    refused = []

    def refuse_40_once(olds, old_ends, news, new_ends, first, stop):
        if first <= 40 < stop and not refused:
            refused.append(40)
            done = real_rename(olds, old_ends, news, new_ends, first, 40)
            return 40 if done < 0 else done
        return real_rename(olds, old_ends, news, new_ends, first, stop)

    monkeypatch.setattr(_files, "_can_link_unnamed", TEMPORARIES["_can_link_unnamed"])
    monkeypatch.setattr(cpu, "rename_files", refuse_40_once)
    _files.write_chunks(paths, chunks)
    assert refused == [40]
    assert [Path(p).read_bytes() for p in paths] == [_bytes_of(c) for c in chunks]
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("case", ["few files", "big on average", "made as written"])
def test_saves_the_write_kernel_does_not_take_go_through_the_python_writer(tmp_path,
                                                                           monkeypatch, case):
    """Fewer than 64 files, more than 64 KiB a file on average, or a chunk made as it is
    written: the Python writer does them, never a kernel."""
    monkeypatch.setattr(cpu, "write_new_files", mock.Mock(side_effect=AssertionError))
    monkeypatch.setattr(cpu, "link_new_files", mock.Mock(side_effect=AssertionError))
    if case == "few files":
        chunks: list = _chunks(_files._SMALL_FILES_FROM - 1)
        expected = [_bytes_of(c) for c in chunks]
    elif case == "big on average":
        chunks = [[np.full(_files._SMALL_FILE_BYTES + 1, i, np.uint8)] for i in range(64)]
        expected = [_bytes_of(c) for c in chunks]
    else:
        from fluidspec.numba_kernels.cpu import StagedRuns

        arrays = [np.full(4, i, np.float32) for i in range(64)]
        chunks = [StagedRuns(b"H", [a], 17) for a in arrays]
        expected = [b"H" + a.tobytes() for a in arrays]
    paths = [str(tmp_path / f"v{i:03d}") for i in range(len(chunks))]
    _files.write_chunks(paths, chunks)
    assert [Path(p).read_bytes() for p in paths] == expected


def test_bfloat16_separate_saves_through_the_kernel_are_the_references_bytes(tmp_path):
    """Arrays of a dtype a memoryview cannot describe (bfloat16) still join by their buffer."""
    import ml_dtypes

    from fluidspec.numba_kernels import files as nfiles
    from fluidspec.reference import codec as ref

    arrays = [np.arange(i % 9, dtype=ml_dtypes.bfloat16) for i in range(100)]
    names = [f"b{i:03d}" for i in range(100)]
    nfiles.save_dense(str(tmp_path), names, arrays)
    assert [(tmp_path / n).read_bytes() for n in names] == [
        ref.encode_lod_tensor(a) for a in arrays]


# ----------------------------------------------------------------------------------- names


@pytest.mark.parametrize("names", [
    ["a", "b/c"], ["a", "."], ["..", "b"], ["a", ""], ["a\0b"], ["x" * 64],
    ["a", "\udcff\ud800"], ["a", 3],
], ids=["slash", "dot", "dotdot", "empty", "nul", "long", "unencodable", "not-str"])
def test_names_that_are_not_one_plain_component_are_checked_one_by_one(tmp_path, names):
    assert _files.plain_targets(str(tmp_path), names) is None


def test_plain_names_give_the_targets_the_careful_check_gives(tmp_path, monkeypatch):
    names = [f"w{i}" for i in range(50)] + ["fc_0.w_0", "x" * 63, "é"]
    plain = _files.plain_targets(str(tmp_path), names)
    monkeypatch.setattr(_files, "plain_targets", lambda root, names: None)
    assert plain == _files.check_layout(str(tmp_path), names)


def test_a_plain_name_whose_target_is_a_directory_is_refused_naming_it(tmp_path):
    names = [f"w{i}" for i in range(50)]
    os.mkdir(tmp_path / "w30")
    assert _files.plain_targets(str(tmp_path), names) is None
    with pytest.raises(UnsafeNameError) as info:
        _files.check_layout(str(tmp_path), names)
    assert info.value.var == "w30"


def test_a_root_that_is_a_file_is_refused_for_plain_names_as_for_the_others(tmp_path,
                                                                            monkeypatch):
    (tmp_path / "file").write_bytes(b"x")
    root = str(tmp_path / "file")
    with pytest.raises(UnsafeNameError, match="parent of the target is an existing file") as fast:
        _files.plain_targets(root, ["a", "b"])
    monkeypatch.setattr(_files, "plain_targets", lambda root, names: None)
    with pytest.raises(UnsafeNameError) as careful:
        _files.check_layout(root, ["a", "b"])
    assert (fast.value.path, fast.value.var, str(fast.value)) == (
        careful.value.path, careful.value.var, str(careful.value))
