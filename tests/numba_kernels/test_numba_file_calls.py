"""fluidspec.numba_kernels.cpu._file_calls and the fast path of ``_files.read_files``: many
regular files read into one arena by a kernel, in one thread or several, byte for byte what the
careful Python read gives; anything else sends the load the careful way, whose errors name the
file and the variable (SEL-LOAD-001)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec.numba_kernels import _files, cpu
from fluidspec.spec.errors import FluidSpecError

pytestmark = pytest.mark.skipif(not cpu.can_call_files(),
                                reason="the kernel's libc calls (statx) are Linux-only")

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
    [3 << 20] + [1] * 300,           # a big first file: the guess from it is far too high
    [1] * 300 + [3 << 20],           # a big last file: far past the guess from the small ones
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


def test_files_longer_than_one_read_come_in_several_reads(tmp_path):
    """Each file is read by ``pread`` calls of at most ``most_per_read`` bytes (1 GiB in use;
    here 7, so that every file takes several calls, the last one partial)."""
    contents = [bytes(range(i, i + 30)) for i in range(5)]
    paths = _write(tmp_path, contents)
    names, ends = _files._nul_terminated(paths)
    bounds = np.zeros(len(paths) + 1, np.int64)
    failed, arena, used = cpu.read_regular_files(names, ends, cpu.READ_FLAGS, 7, 0, len(paths),
                                                 np.empty(0, np.uint8), 0, bounds)
    assert failed == -1 and used == 150
    assert _files_of(arena[:used], bounds) == contents


def test_a_run_appends_to_the_arena_it_is_given(tmp_path):
    """A second run continues the first one's arena and bounds, as the load does after the
    probe files."""
    contents = [bytes([i]) * (i + 1) for i in range(6)]
    paths = _write(tmp_path, contents)
    names, ends = _files._nul_terminated(paths)
    bounds = np.zeros(7, np.int64)
    failed, arena, used = cpu.read_regular_files(names, ends, cpu.READ_FLAGS, cpu.MOST_PER_CALL,
                                                 0, 2, np.empty(0, np.uint8), 0, bounds)
    assert (failed, used) == (-1, 3)
    failed, arena, used = cpu.read_regular_files(names, ends, cpu.READ_FLAGS, cpu.MOST_PER_CALL,
                                                 2, 6, arena, used, bounds)
    assert (failed, used) == (-1, 21)
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
    assert _quick(paths, mode) is None
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
