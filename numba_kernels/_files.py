"""File I/O of numba_kernels: one write per file, atomic replace, arena reads.

* Writing (SEL-SAVE-008): every record is planned and checked before the first file is touched;
  each file is written with one ``os.write`` (or ``os.writev`` of its headers and the arrays
  themselves, so no payload is copied; a file of 1 MiB or more has its blocks reserved first)
  into a temporary file in the destination directory — many files by a few threads — then
  ``os.replace``d over the target, so a target is always either its old or its new complete
  content.  Many small files whose targets do not exist yet go into unnamed files instead,
  each linked under its name once complete (``_link_new_small_files``).  A failure removes the
  temporaries it made and the names it linked; temporaries a killed save left behind
  are removed by the next save into the same directory, judged dead by a lock on the save's
  lock file, never by pid (SAFE-CONC-001; see ``_DirLock``).
* Reading: files are read with ``readinto`` straight into one ``uint8`` arena (separate files:
  back to back, by a kernel that makes the system calls itself where the platform allows, see
  ``read_files``), so that one parse pass (``_parse``) indexes all of them.
* Names (SEL-PATH-001/002, SEL-FILE-001/002): refused before anything is written or read.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import operator
import os
import re
import secrets
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

import numpy as np

from fluidspec.spec.errors import InvalidArgumentError, MissingFileError, UnsafeNameError

_TMP_PREFIX = ".fluidspec-nk-"
_LOCK_SUFFIX = ".lock"
_PENDING_SUFFIX = ".lock.new"
# A pending lock file is only ever unlocked for the instant between its exclusive creation and
# ``flock``; one older than this was left by a writer killed in that instant.
_PENDING_GRACE_S = 60.0
_TOKEN = re.compile(r"[0-9a-f]{32}")
_OPEN_FLAGS = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


def _new_token() -> str:
    """128 random bits: a name no other writer (thread, process, container) can compute."""
    return secrets.token_hex(16)


class _DirLock:
    """The liveness token of one save's temporaries in one directory.

    ``.fluidspec-nk-<token>.lock`` is held with ``flock(LOCK_EX)`` for as long as the save runs;
    its temporaries are ``.fluidspec-nk-<token>-<i>.tmp``.  The lock is taken on a file with a
    name cleanup ignores (``….lock.new``, created with ``O_EXCL``) and only then renamed to
    ``….lock``: a ``.lock`` file is therefore locked from the moment any cleaner can see it, so
    "I could take its lock" always means "its writer is gone" — in any process, container or pid
    namespace, since the kernel releases ``flock`` locks when the holder dies.  Pids are never
    consulted: two containers sharing a volume both run their writer as pid 1.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.token = _new_token()
        self._count = 0
        base = os.path.join(directory, _TMP_PREFIX + self.token)
        pending = base + _PENDING_SUFFIX
        self.path = base + _LOCK_SUFFIX
        self._fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            os.rename(pending, self.path)
        except BaseException:
            os.close(self._fd)
            _unlink_quietly(pending)
            raise

    def next_temporary(self) -> str:
        """The name of a fresh temporary, for ``O_EXCL`` creation by whichever thread writes it."""
        return self.temporaries(1)[0]

    def temporaries(self, count: int) -> list[str]:
        """The names of ``count`` fresh temporaries."""
        base = os.path.join(self.directory, f"{_TMP_PREFIX}{self.token}-")
        first = self._count
        self._count += count
        return [f"{base}{i}.tmp" for i in range(first, first + count)]

    def create_temporary(self) -> tuple[str, int]:
        """A fresh temporary (exclusively created) and its open descriptor."""
        temp = self.next_temporary()
        return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o644)

    def release(self) -> None:
        """Called after every temporary was renamed or removed: unlink, then unlock."""
        _unlink_quietly(self.path)
        os.close(self._fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _token_of(name: str) -> str | None:
    """The token of one of our file names, or None for any other name (other tools' files and
    any name a writer did not draw at random are left alone)."""
    if not name.startswith(_TMP_PREFIX):
        return None
    rest = name[len(_TMP_PREFIX):]
    for suffix in (_PENDING_SUFFIX, _LOCK_SUFFIX, ".tmp"):
        if rest.endswith(suffix):
            token = rest[:-len(suffix)].split("-", 1)[0]
            return token if _TOKEN.fullmatch(token) else None
    return None


def remove_stale_temporaries(directory: str) -> None:
    """Delete the temporaries of saves whose writer died (SAFE-CONC-001, SEL-SAVE-008).

    Only a SIGKILL (or a power cut) leaves them: every other failure removes its own.  A
    temporary is removed only when the lock file of its save can be locked (its writer is gone)
    or no longer exists (its writer released it after renaming or removing every temporary).
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return
    by_token: dict[str, list[str]] = {}
    for name in names:
        token = _token_of(name)
        if token is not None:
            by_token.setdefault(token, []).append(name)
    for token, group in by_token.items():
        _remove_pending_if_old(directory, [n for n in group if n.endswith(_PENDING_SUFFIX)])
        temps = [n for n in group if n.endswith(".tmp")]
        if temps or any(n.endswith(_LOCK_SUFFIX) for n in group):
            _remove_if_dead(directory, token, temps)


def _remove_pending_if_old(directory: str, names: list[str]) -> None:
    """A writer stalled for longer than the grace between ``O_EXCL`` and ``flock`` loses its
    save (its rename fails, it raises); it never loses bytes to another writer."""
    for name in names:
        path = os.path.join(directory, name)
        try:
            old = time.time() - os.stat(path).st_mtime > _PENDING_GRACE_S
        except OSError:
            continue
        if old:
            _unlink_quietly(path)


def _remove_if_dead(directory: str, token: str, temps: list[str]) -> None:
    # The lock path is opened by name rather than trusted from the listing: a listing is not a
    # snapshot, and a writer creates its lock before its first temporary and unlinks it only
    # after its last, so "the lock does not exist now" means the writer has finished with them.
    lock_path = os.path.join(directory, f"{_TMP_PREFIX}{token}{_LOCK_SUFFIX}")
    try:
        fd = os.open(lock_path, os.O_RDONLY | _OPEN_FLAGS)
    except FileNotFoundError:
        for name in temps:
            _unlink_quietly(os.path.join(directory, name))
        return
    except OSError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a live writer, whatever its pid or pid namespace
            return
        for name in temps:
            _unlink_quietly(os.path.join(directory, name))
        _unlink_quietly(lock_path)
    finally:
        os.close(fd)


def checked_dirname(dirname: Any) -> str:
    """``dirname`` as a normalised ``str`` (SEL-PATH-001: str or PathLike, ``os.path.normpath``)."""
    if not isinstance(dirname, (str, os.PathLike)):
        raise InvalidArgumentError("dirname must be a str or os.PathLike",
                                   expected="a path", found=type(dirname).__name__)
    return os.path.normpath(os.fspath(dirname))


def safe_components(name: Any, what: str = "variable name") -> list[str]:
    """The ``/``-separated components of ``name`` used as a path under dirname (SEL-PATH-001)."""
    def refuse(why: str) -> UnsafeNameError:
        return UnsafeNameError(f"{what} {why}", var=name if isinstance(name, str) else None,
                               expected="a relative path of plain components",
                               found=repr(name))

    if not isinstance(name, str) or not name:
        raise refuse("is empty or not a string")
    if "\0" in name:
        raise refuse("contains NUL")
    if name.startswith("/"):
        raise refuse("is absolute")
    parts = name.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise refuse(f"has a {part!r} component" if part else "has an empty component")
        try:
            encoded = os.fsencode(part)
        except UnicodeError:
            raise refuse("cannot be represented in the file system encoding") from None
        if len(encoded) > 255:
            raise refuse("has a component longer than 255 bytes")
    return parts


class TargetChecker:
    """SEL-PATH-002 for many targets under one root, with one directory listing per parent
    instead of two ``stat`` calls per file (a separate save may write 10,000 files)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._subdirs: dict[str, set[str]] = {}
        self._parents_ok: set[str] = set()

    def _dirs_in(self, parent: str) -> set[str]:
        found = self._subdirs.get(parent)
        if found is None:
            found = set()
            try:
                with os.scandir(parent) as entries:
                    found = {e.name for e in entries if e.is_dir()}
            except (FileNotFoundError, NotADirectoryError):
                pass
            self._subdirs[parent] = found
        return found

    def check(self, target: str, var: str | None) -> None:
        """Refuse a target that is an existing directory or lies below an existing file."""
        parent, name = os.path.split(target)
        if name in self._dirs_in(parent):
            raise UnsafeNameError("the target is an existing directory", path=target, var=var,
                                  expected="a file path", found="a directory")
        if parent in self._parents_ok:
            return
        current = parent
        while True:
            if os.path.exists(current) and not os.path.isdir(current):
                raise UnsafeNameError("a parent of the target is an existing file", path=target,
                                      var=var, expected=f"{current} to be a directory",
                                      found="a regular file")
            if (current == self.root or len(current) <= len(self.root)
                    or os.path.dirname(current) == current):
                break
            current = os.path.dirname(current)
        self._parents_ok.add(parent)


def refuse_prefix_clash(name: str, parts: Sequence[str], names: set[str]) -> None:
    """SEL-PATH-002: ``name`` (split into ``parts``) may not lie below another name of ``names``."""
    for k in range(1, len(parts)):
        prefix = "/".join(parts[:k])
        if prefix in names:
            raise UnsafeNameError("a name is a directory prefix of another name", var=name,
                                  expected="no name both a file and a directory",
                                  found=f"{prefix!r} and {name!r}")


def plain_targets(root: str, names: Sequence[str]) -> list[str] | None:
    """``os.path.join(root, name)`` for each name, when every name is one plain component (no
    ``/``, NUL, ``.``/``..`` or empty name, encodable and at most 63 characters, so at most 255
    bytes) and no target is an existing directory: what a separate save of Fluid variables
    almost always is, checked in a few C-level passes (SEL-PATH-001/002).  None when any name
    needs the careful per-name check, which raises the first bad name's error."""
    if not names or set(map(type, names)) != {str}:
        return None
    joined = "".join(names)
    if ("/" in joined or "\0" in joined or min(map(len, names)) == 0
            or max(map(len, names)) > 63 or "." in names or ".." in names):
        return None
    try:
        joined.encode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())
    except UnicodeError:
        return None
    checker = TargetChecker(root)
    if not checker._dirs_in(root).isdisjoint(names):
        return None
    prefix = os.path.join(root, "")
    checker.check(prefix + names[0], names[0])  # the one parent, root, must not be a file
    return [prefix + name for name in names]


def check_layout(root: str, names: Sequence[str]) -> list[str]:
    """Target paths of a separate save, refusing file/directory clashes (SEL-PATH-002)."""
    plain = plain_targets(root, names)
    if plain is not None:
        return plain
    paths = []
    seen = set(names)
    checker = TargetChecker(root)
    for name in names:
        parts = safe_components(name)
        refuse_prefix_clash(name, parts, seen)
        path = os.path.join(root, *parts)
        checker.check(path, name)
        paths.append(path)
    return paths


def write_slices(paths: Sequence[str], data: Any, bounds: Sequence[int]) -> None:
    """Write ``data[bounds[i]:bounds[i+1]]`` to ``paths[i]``, atomically per file (SEL-SAVE-008)."""
    view = memoryview(data).cast("B")
    write_chunks(paths, [view[a:b] for a, b in zip(bounds, bounds[1:], strict=False)])


def write_chunks(paths: Sequence[str], chunks: Sequence[Any]) -> None:
    """Write ``chunks[i]`` (one buffer, a list of buffers written in order with ``os.writev``,
    or an object whose ``write_to(write)`` makes them as they are written) to ``paths[i]``, so
    that each target is at every instant its old or its new complete content (SEL-SAVE-008,
    SAFE-CONC-001).

    Many small files whose targets do not exist yet (a save into a new directory) are written
    into unnamed files, each linked under its name once complete (``_link_new_small_files``):
    no temporary name, no rename.  The others go to a fresh temporary beside the target, then
    ``os.replace`` of all of them (``_write_replacing``).  If the save fails, the names it
    linked are removed again and the temporaries with them: a failed save leaves no file."""
    parents = _parents_of(paths)
    for parent in dict.fromkeys(parents):
        os.makedirs(parent, exist_ok=True)
    linked = _link_new_small_files(paths, parents, chunks)
    if not linked:
        _write_replacing(paths, parents, chunks)
        return
    rest = [i for i in range(len(paths)) if i not in linked]
    try:
        if rest:
            _write_replacing([paths[i] for i in rest], [parents[i] for i in rest],
                             [chunks[i] for i in rest])
    except BaseException:
        for i in linked:
            _unlink_quietly(paths[i])
        raise


def _parents_of(paths: Sequence[str]) -> list[str]:
    """``os.path.dirname`` of each path.  Paths all directly in one directory (a separate
    save's usual case) are told in a few C-level passes: each starts with the first one's
    directory and a separator, and they hold no other separator (10,000 paths: ~0.5 ms, against
    ~8 ms for a ``dirname`` each)."""
    if paths and type(paths[0]) is str and os.altsep is None:
        parent = os.path.dirname(paths[0])
        prefix = os.path.join(parent, "")
        try:
            separators = "".join(paths).count(os.sep)
        except TypeError:  # not all str
            separators = -1
        if (separators == len(paths) * prefix.count(os.sep)
                and all(map(operator.methodcaller("startswith", prefix), paths))):
            return [parent] * len(paths)
    return list(map(os.path.dirname, paths))


def _write_replacing(paths: Sequence[str], parents: Sequence[str], chunks: Sequence[Any]
                     ) -> None:
    """Each chunk into a fresh temporary beside its target, then ``os.replace`` of all of them,
    in order; on failure the temporaries are removed.  One locked lock file per directory marks
    the temporaries as in use.  Many files are written by a few threads
    (``_write_temporaries``); the renames stay in order, after every write."""
    locks: dict[str, _DirLock] = {}
    temps: list[str] = []
    try:
        for parent in dict.fromkeys(parents):
            remove_stale_temporaries(parent)
            locks[parent] = _DirLock(parent)
        if len(locks) == 1:  # one directory (the usual case): names in one comprehension
            temps = next(iter(locks.values())).temporaries(len(paths))
        else:
            temps = [locks[parent].next_temporary() for parent in parents]
        encoded = _write_temporaries(temps, chunks)
        _replace_in_order(temps, paths, encoded)
        temps = []
    finally:
        for temp in temps:
            _unlink_quietly(temp)
        for lock in locks.values():
            lock.release()


# Threads pay when the work waits on the device, or copies megabytes with the GIL released;
# for small files whose data is in memory (tmpfs, a warm page cache) each file is a few
# microseconds of system calls, and threads handing the GIL back and forth make the whole
# slower (10,000 x 1 KiB on tmpfs, 2 cores: reads 72 ms in one thread, 112 ms in four).  So
# many small files start in one thread, and the rest go to the pool only when those first
# ones took longer than _POOL_PAYS_S each.
_POOL_MIN_BYTES = 1 << 20
_POOL_WORKERS = 4
_PROBE_FILES = 128
_POOL_PAYS_S = 50e-6


def _write_temporaries(temps: Sequence[str], chunks: Sequence[Any]
                       ) -> tuple[np.ndarray, np.ndarray] | None:
    """Create and fill every temporary; the first failure in file order is the one raised.
    Many small files go to a kernel first (``_write_small_files``, which returns the names as it
    encoded them, for the renames); if it stops at a file, the temporaries it made are removed
    and all are written again here, which raises that file's error."""
    n = len(temps)
    if n >= _SMALL_FILES_FROM:
        encoded = _write_small_files(temps, chunks)
        if encoded is not None:
            return encoded
    total = sum(_nbytes(c) for c in chunks) if n > 1 else 0

    def write_run(a: int, b: int) -> None:
        for i in range(a, b):
            _write_new(temps[i], chunks[i])

    _in_runs(n, write_run, pool_now=n > 1 and total >= _POOL_MIN_BYTES * min(n, _PROBE_FILES))
    return None


# Many small files are written by a kernel making the system calls itself, from a joined copy
# of their bytes (10,000 x 1 KiB on tmpfs, 2 cores: 24 µs a file through Python, 13.5 µs so).
# The copy is what bounds it: the files go in batches of at most _SMALL_FILES_MOST_BYTES, one
# batch's copy alive at a time, and only while they average _SMALL_FILE_BYTES a file or less
# (past that, the system calls are a small part of each file's cost anyway).
_SMALL_FILES_FROM = 64
_SMALL_FILE_BYTES = 1 << 16
_SMALL_FILES_MOST_BYTES = 1 << 26
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS


def _write_small_files(temps: Sequence[str], chunks: Sequence[Any]
                       ) -> tuple[np.ndarray, np.ndarray] | None:
    """Create and fill every temporary with ``cpu.write_new_files`` (``_in_small_file_batches``);
    returns the temporaries' names as the kernel took them, or None when the kernel cannot be
    used (sizes past the bounds, a chunk that cannot be joined) or stopped at a file, with every
    temporary it made removed."""
    from fluidspec.numba_kernels import cpu

    plan = _small_files_plan(chunks) if cpu.can_call_files() else None
    encoded = _nul_terminated(temps) if plan is not None else None
    if plan is None or encoded is None:
        return None
    names, ends = encoded

    def write_run(a: int, b: int, data: np.ndarray, bounds: np.ndarray) -> int:
        return cpu.write_new_files(names, ends, _CREATE_FLAGS, 0o644, cpu.MOST_PER_CALL, data,
                                   bounds, a, b)

    if _in_small_file_batches(len(temps), plan, write_run) >= 0:
        for temp in temps:
            _unlink_quietly(temp)
        return None
    return encoded


# An unnamed file (O_TMPFILE) is linked under its name once complete, so a target that does not
# exist yet needs no temporary name and no rename, and the directory's lock is taken once per
# file (by the link) instead of twice; the inode is allocated without it, so two threads
# overlap more.  10,000 x 1 KiB into a new directory on ext4, 2 cores, C: 0.22-0.32 s, against
# 0.37-0.46 s for exclusive temporaries renamed into place.  Linked through /proc/self/fd
# (open(2)); where /proc, O_TMPFILE or the file system's support for it is missing, the first
# file fails and the save goes the temporaries' way.
_TMPFILE_FLAGS = getattr(os, "O_TMPFILE", 0) | os.O_WRONLY | os.O_CLOEXEC


@functools.cache
def _can_link_unnamed() -> bool:
    return bool(getattr(os, "O_TMPFILE", 0)) and os.path.isdir("/proc/self/fd")


def _link_new_small_files(paths: Sequence[str], parents: Sequence[str], chunks: Sequence[Any]
                          ) -> set[int]:
    """The indices of the files written by ``cpu.link_new_files``: of the targets that did not
    exist, when they are many small files (as ``_write_small_files`` takes them).  Where the
    kernel stops (the name appeared meanwhile, no ``O_TMPFILE`` here, a full disk) the files it
    linked stay, complete, and the rest are left to the temporaries' way, which then raises the
    error if it persists; empty when the kernel cannot be used."""
    from fluidspec.numba_kernels import cpu

    if len(paths) < _SMALL_FILES_FROM or not _can_link_unnamed() or not cpu.can_call_files():
        return set()
    present: dict[str, set[str]] = {}
    try:
        for parent in dict.fromkeys(parents):
            present[parent] = set(os.listdir(parent))
    except OSError:
        return set()
    if any(present.values()):
        new = [i for i, (path, parent) in enumerate(zip(paths, parents, strict=True))
               if os.path.basename(path) not in present[parent]]
        new_paths = [paths[i] for i in new]
        new_parents = [parents[i] for i in new]
        new_chunks = [chunks[i] for i in new]
    else:  # empty directories (a save into a new one): every target is new
        new, new_paths, new_parents, new_chunks = range(len(paths)), paths, parents, chunks
    if len(new) < _SMALL_FILES_FROM:
        return set()
    for parent, names_there in present.items():
        if any(name.startswith(_TMP_PREFIX) for name in names_there):
            remove_stale_temporaries(parent)
    directory_index = {parent: k for k, parent in enumerate(dict.fromkeys(new_parents))}
    plan = _small_files_plan(new_chunks)
    encoded = _nul_terminated(new_paths) if plan is not None else None
    directories = _nul_terminated(list(directory_index)) if encoded is not None else None
    if plan is None or encoded is None or directories is None:
        return set()
    names, ends = encoded
    dirs, dir_ends = directories
    if len(directory_index) == 1:
        dir_of = np.zeros(len(new), np.int64)
    else:
        dir_of = np.fromiter(map(directory_index.__getitem__, new_parents), np.int64, len(new))
    proc_fd = cpu.proc_fd_path()
    linked_runs: list[tuple[int, int]] = []

    def link_run(a: int, b: int, data: np.ndarray, bounds: np.ndarray) -> int:
        failed, linked = cpu.link_new_files(dirs, dir_ends, dir_of, names, ends, proc_fd,
                                            _TMPFILE_FLAGS, 0o644, cpu.MOST_PER_CALL, data,
                                            bounds, a, b)
        if failed >= 0 and linked > failed:  # linked, but its close reported an error
            _unlink_quietly(new_paths[failed])
            linked = failed
        linked_runs.append((a, linked))
        return failed

    _in_small_file_batches(len(new), plan, link_run)
    return {new[i] for a, linked in linked_runs for i in range(a, linked)}


class _Plan(NamedTuple):
    """How a kernel writes many small files from joined copies of their bytes."""

    join: Callable[[int, int], np.ndarray | None]  # files first..stop-1 back to back, or None
    bounds: np.ndarray  # file i is bytes bounds[i]..bounds[i + 1] of all files back to back
    batches: list[tuple[int, int]]  # ``_small_file_batches``


def _small_files_plan(chunks: Sequence[Any]) -> _Plan | None:
    """The plan for writing ``chunks`` by a kernel; None when they are not small files of
    plain buffers.  Chunks that join themselves (``cpu.RecordParts``: ``bounds`` and
    ``joined``) are taken as they are; others are flattened into one list of parts first."""
    from fluidspec.numba_kernels import cpu

    if isinstance(chunks, cpu.RecordParts):
        batches = _small_file_batches(chunks.bounds)
        return None if batches is None else _Plan(chunks.joined, chunks.bounds, batches)
    parts = _flat_parts(chunks)
    if parts is None:
        return None
    flat, counts = parts
    part_ends = np.zeros(len(flat) + 1, np.int64)
    np.cumsum(np.fromiter(map(_NBYTES, flat), np.int64, len(flat)), out=part_ends[1:])
    first_parts = np.zeros(len(chunks) + 1, np.int64)
    np.cumsum(counts, out=first_parts[1:])
    bounds = part_ends[first_parts]
    batches = _small_file_batches(bounds)

    def join(first: int, stop: int) -> np.ndarray | None:
        return _joined(flat[first_parts[first]:first_parts[stop]])

    return None if batches is None else _Plan(join, bounds, batches)


def _in_small_file_batches(n: int, plan: _Plan,
                           run: Callable[[int, int, np.ndarray, np.ndarray], int]) -> int:
    """``run(a, b, data, bounds)`` (a kernel call: ``-1``, or the file it stopped at) over all
    ``n`` files, batch by batch: each batch's parts joined into one copy, one copy alive at a
    time, and within a batch in a few threads when that pays (the probe, as
    ``_read_regular_files``).  Returns ``-1``, or a file some run stopped at."""
    bounds = plan.bounds
    batch: dict[str, np.ndarray] = {}  # the batch being written: its copy and its bounds

    def write_run(a: int, b: int) -> int:
        return run(a, b, batch["joined"], batch["bounds"])

    workers = 0  # decided by the probe, at the start of the first batch
    failed = -1
    for first, stop in plan.batches:
        batch.clear()  # the previous batch's copy goes before the next is made
        joined = plan.join(first, stop)
        if joined is None or joined.size != bounds[stop] - bounds[first]:
            return first
        batch.update(joined=joined, bounds=bounds - bounds[first])
        del joined
        if not workers:
            write_run(first, first)  # loads the kernel: not part of the probe's time
            probe = min(stop - first, _PROBE_FILES)
            began = time.perf_counter()
            failed = write_run(first, first + probe)
            workers = _threads_for(n - probe, (time.perf_counter() - began) / probe)
            first += probe
        if failed < 0 and first < stop:
            if workers < 2:
                failed = write_run(first, stop)
            else:
                failed = max(stopped for _, _, stopped in _runs_in_threads(write_run, first,
                                                                           stop, workers))
        if failed >= 0:
            return failed
    return -1


def _small_file_batches(bounds: np.ndarray) -> list[tuple[int, int]] | None:
    """Runs ``(first, stop)`` of the files whose bytes ``bounds`` delimits, in order, each of
    at most ``_SMALL_FILES_MOST_BYTES``; None when the files average more than
    ``_SMALL_FILE_BYTES`` or one alone is past ``_SMALL_FILES_MOST_BYTES``: the Python writer
    does those without a copy."""
    n = len(bounds) - 1
    if n == 0:
        return []
    if bounds[-1] > n * _SMALL_FILE_BYTES or np.diff(bounds).max() > _SMALL_FILES_MOST_BYTES:
        return None
    batches = []
    first = 0
    while first < n:
        # the last file ending within the bound (at least file ``first``: none is past it)
        stop = int(np.searchsorted(bounds, bounds[first] + _SMALL_FILES_MOST_BYTES, "right")) - 1
        batches.append((first, stop))
        first = stop
    return batches


_NBYTES = operator.attrgetter("nbytes")


def _flat_parts(chunks: Sequence[Any]) -> tuple[list[Any], list[int]] | None:
    """Every chunk's parts in one list (each with ``nbytes``), and how many each chunk has;
    None for a chunk made as it is written (``write_to``)."""
    flat: list[Any] = []
    counts: list[int] = []
    for chunk in chunks:
        if isinstance(chunk, list):
            flat += chunk
            counts.append(len(chunk))
        elif hasattr(chunk, "write_to"):
            return None
        else:
            flat.append(memoryview(chunk).cast("B"))
            counts.append(1)
    return flat, counts


def _joined(parts: list[Any]) -> np.ndarray | None:
    """The parts' bytes back to back; None when a part has no plain buffer (bfloat16 arrays)."""
    try:
        return np.frombuffer(b"".join(parts), np.uint8)
    except (TypeError, ValueError, BufferError):
        return None


def _replace_in_order(temps: Sequence[str], paths: Sequence[str],
                      encoded_temps: tuple[np.ndarray, np.ndarray] | None) -> None:
    """``os.replace(temps[i], paths[i])`` for each file, in order.  Many go to
    ``cpu.rename_files`` (``encoded_temps``: the names as the write kernel took them); where it
    stops, that one file is replaced here — which raises its error, or, if the cause has
    passed, lets the kernel go on after it."""
    n = len(temps)
    news = _nul_terminated(paths) if encoded_temps is not None else None
    if encoded_temps is not None and news is not None:
        from fluidspec.numba_kernels import cpu

        done = 0
        while done < n:
            failed = cpu.rename_files(encoded_temps[0], encoded_temps[1], news[0], news[1],
                                      done, n)
            if failed < 0:
                return
            os.replace(temps[failed], paths[failed])
            done = failed + 1
        return
    for temp, path in zip(temps, paths, strict=True):
        os.replace(temp, path)


def _nbytes(chunk: Any) -> int:
    if isinstance(chunk, list):
        return sum(p.nbytes for p in chunk)  # see ``_writev_all``
    if hasattr(chunk, "write_to"):
        return int(chunk.nbytes)
    return memoryview(chunk).nbytes


def _write_new(temp: str, chunk: Any) -> None:
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o644)
    try:
        _reserve(fd, _nbytes(chunk), temp)
        if isinstance(chunk, list):
            _writev_all(fd, chunk)
        elif hasattr(chunk, "write_to"):  # made as written (``cpu.StagedRuns``)
            chunk.write_to(lambda buffer: _write_all(fd, buffer))
        else:
            _write_all(fd, chunk)
    finally:
        os.close(fd)


# Reserving a big file's blocks before writing it (``fallocate``, as ``numpy.ndarray.tofile``
# does) lets ext4 skip delayed allocation page by page: a 256 MiB write took 39 ms instead of
# 55 ms here, and 1-64 MiB files 0.6-0.7x their time.  On tmpfs it costs 5-9 %, and below
# 1 MiB it gains nothing.  A disk too full for the file now fails before a byte is written;
# a filesystem without ``fallocate`` (EOPNOTSUPP) is written as before.  Not
# ``os.posix_fallocate``: where the filesystem lacks support, glibc emulates it by writing a
# byte per block.
_RESERVE_MIN = 1 << 20


@functools.cache
def _libc_fallocate() -> Callable[[int, int], int] | None:
    """``fallocate(fd, 0, 0, nbytes)`` answering 0 or an errno; None off Linux's C library."""
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).fallocate64
    except (AttributeError, OSError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    call.restype = ctypes.c_int

    def fallocate(fd: int, nbytes: int) -> int:
        return ctypes.get_errno() if call(fd, 0, 0, nbytes) else 0

    return fallocate


def _reserve(fd: int, nbytes: int, path: str) -> None:
    fallocate = _libc_fallocate() if nbytes >= _RESERVE_MIN else None
    if fallocate is not None:
        error = fallocate(fd, nbytes)
        if error in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise OSError(error, os.strerror(error), path)


def _write_all(fd: int, chunk: Any) -> None:
    view = memoryview(chunk).cast("B")
    written = os.write(fd, view)
    while written < view.nbytes:  # short writes only happen for huge files
        written += os.write(fd, view[written:])


_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024

# A big payload whose address and file position disagree mod 16 (the record header before it
# is 20-odd bytes) costs the kernel's copy more, by how much depends on the CPU.  On one machine
# 256 MiB after a 30-byte header took 110 ms, against 50-55 ms at any 16-byte-aligned offset,
# and a staging buffer placed to agree with the file position paid for its extra copy in user
# space (~6 ms).  On an AMD EPYC the same write took 62 ms straight and 72 ms staged (46 ms
# aligned).  With a second core the staging copy need not wait for the write: two threads each
# stage every other MiB and write it at its place (``_write_staged_in_pairs``), one copying
# while the other is in the kernel (whose writes to one file take turns anyway); the EPYC then
# wrote 256 MiB in 48 ms, numpy's aligned ``save`` 50 ms (one core: 80 ms).  So the first
# pieces of a payload of _PROBE_FROM or more are written both ways in turn (staged, straight,
# straight, staged: a drift hits both alike), and the rest goes the way that was faster;
# smaller ones are staged.
_STAGE_MIN = 1 << 20
_STAGE_BYTES = 1 << 22
_STAGE_ALIGN = 64
_PROBE_FROM = 16 << 20
_PROBE_PIECE = 1 << 20
_PAIR_CHUNK = 1 << 20  # each of the two threads stages and writes every other chunk
# Probe pieces of two threads' staging are this many chunks: in pieces of 4 MiB their gain
# (~20 % here) drowned in the start of each piece (one chunk staged before any write).
_PAIR_PROBE_CHUNKS = 8
_staging = threading.local()


def _writev_all(fd: int, parts: list[Any]) -> None:
    """``parts`` (C-contiguous ndarrays or memoryviews) in order, from a fresh file's start:
    straight from their buffers with ``os.writev``, ``IOV_MAX`` at a time, except big arrays
    misaligned with their file position (``_write_misaligned``).  Sizes come from ``nbytes``:
    ``memoryview`` cannot describe every dtype (bfloat16, float8), while ``os.writev`` only
    asks for the bytes."""
    pos = 0
    batch: list[Any] = []
    for part in parts:
        if (part.nbytes >= _STAGE_MIN and isinstance(part, np.ndarray)
                and (pos - part.ctypes.data) % 16):
            _writev_batches(fd, batch)
            batch = []
            _write_misaligned(fd, part, pos)
        else:
            batch.append(part)
        pos += part.nbytes
    _writev_batches(fd, batch)


def _writev_batches(fd: int, parts: list[Any]) -> None:
    """``IOV_MAX`` parts per ``os.writev``; a short write (Linux caps one call near 2 GiB)
    resumes inside the part it stopped in."""
    for i in range(0, len(parts), _IOV_MAX):
        batch = parts[i:i + _IOV_MAX]
        written = os.writev(fd, batch)
        if written == sum(p.nbytes for p in batch):
            continue
        for part in batch:
            size = part.nbytes
            if written < size:
                _write_all(fd, _byte_view(part)[written:])
                written = 0
            else:
                written -= size


def _write_misaligned(fd: int, array: np.ndarray, pos: int) -> None:
    """``array`` (written at file position ``pos``, which its address disagrees with) staged, or
    straight from its buffer where the probe pieces went faster so.  With two cores or more the
    staged way is two threads' (``_write_staged_in_pairs``), probed in pieces of
    ``_PAIR_PROBE_CHUNKS`` chunks."""
    src = array.reshape(-1).view(np.uint8)
    if _cores() >= 2 and src.nbytes >= 2 * _PAIR_CHUNK:
        buffers = [np.empty(_PAIR_CHUNK + _STAGE_ALIGN, np.uint8) for _ in range(2)]
        for buffer in buffers:
            buffer.fill(0)  # its pages faulted in before anything is timed
        with ThreadPoolExecutor(1) as helper:
            helper.submit(int).result()  # started before anything is timed
            _write_misaligned_with(fd, src, pos, functools.partial(
                _write_staged_in_pairs, helper=helper, buffers=buffers),
                _PAIR_PROBE_CHUNKS * _PAIR_CHUNK)
    else:
        _write_misaligned_with(fd, src, pos, _write_staged, _PROBE_PIECE)


def _write_misaligned_with(fd: int, src: np.ndarray, pos: int,
                           staged: Callable[[int, np.ndarray, int], None], piece_bytes: int
                           ) -> None:
    at = 0
    if src.nbytes >= max(_PROBE_FROM, 4 * piece_bytes):
        spent = {"staged": 0.0, "straight": 0.0}
        for way in ("staged", "straight", "straight", "staged"):
            piece = src[at:at + piece_bytes]
            began = time.perf_counter()
            if way == "staged":
                staged(fd, piece, pos + at)
            else:
                _write_all(fd, piece)
            spent[way] += time.perf_counter() - began
            at += piece.nbytes
        if spent["straight"] < spent["staged"]:
            _write_all(fd, src[at:])
            return
    staged(fd, src[at:], pos + at)


def _write_staged(fd: int, array: np.ndarray, pos: int) -> None:
    """``array`` (written at file position ``pos``) through this thread's staging buffer,
    placed so that the buffer's address agrees with the file position mod ``_STAGE_ALIGN``."""
    raw = getattr(_staging, "buffer", None)
    if raw is None:
        raw = _staging.buffer = np.empty(_STAGE_BYTES + _STAGE_ALIGN, np.uint8)
    shift = (pos - raw.ctypes.data) % _STAGE_ALIGN
    stage = raw[shift:shift + _STAGE_BYTES]
    src = array.reshape(-1).view(np.uint8)
    for at in range(0, src.nbytes, _STAGE_BYTES):
        piece = src[at:at + _STAGE_BYTES]
        chunk = stage[:piece.nbytes]
        np.copyto(chunk, piece)
        _write_all(fd, chunk)


def _write_staged_in_pairs(fd: int, array: np.ndarray, pos: int, helper: ThreadPoolExecutor,
                           buffers: Sequence[np.ndarray] | None = None) -> None:
    """``array`` written at file position ``pos`` (the descriptor's position, left after it),
    in chunks of ``_PAIR_CHUNK``: this thread stages and writes the even ones, ``helper``'s
    thread the odd ones, each through its own buffer (``buffers``, two of ``_PAIR_CHUNK +
    _STAGE_ALIGN`` bytes, or new ones) placed to agree with the file positions.
    ``numpy.copyto`` and ``os.pwrite`` release the GIL, so one thread copies while the other
    writes.  Returns only when both are done; the first error (this thread's first) is
    raised."""
    src = array.reshape(-1).view(np.uint8)
    if buffers is None:
        buffers = [np.empty(_PAIR_CHUNK + _STAGE_ALIGN, np.uint8) for _ in range(2)]

    def every_other(first: int) -> None:
        raw = buffers[first]
        for at in range(first * _PAIR_CHUNK, src.nbytes, 2 * _PAIR_CHUNK):
            piece = src[at:at + _PAIR_CHUNK]
            shift = (pos + at - raw.ctypes.data) % _STAGE_ALIGN
            chunk = raw[shift:shift + piece.nbytes]
            np.copyto(chunk, piece)
            done = 0
            while done < chunk.nbytes:
                done += os.pwrite(fd, chunk[done:], pos + at + done)

    odd = helper.submit(every_other, 1)
    try:
        every_other(0)
    finally:
        error = odd.exception()  # waits: no write outlives the call
    if error is not None:
        raise error
    os.lseek(fd, pos + src.nbytes, os.SEEK_SET)


def _byte_view(part: Any) -> memoryview:
    if isinstance(part, np.ndarray):  # via uint8: memoryview cannot describe bfloat16
        part = part.reshape(-1).view(np.uint8)
    return memoryview(part).cast("B")


def write_file(path: str, data: Any) -> None:
    """One file, written once and renamed into place."""
    write_chunks([path], [data])


def _open_for_read(path: str, var: str | None) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise MissingFileError("file does not exist", path=path, var=var,
                               expected="a file", found="nothing") from None
    except IsADirectoryError:
        raise MissingFileError("path is a directory", path=path, var=var,
                               expected="a file", found="a directory") from None
    return fd


def open_for_read(path: str, var: str | None) -> int:
    """A descriptor of ``path`` (MissingFileError when it does not exist)."""
    return _open_for_read(path, var)


def regular_size(fd: int, path: str, var: str | None) -> int:
    """The size of the open file; a directory is a missing file (SEL-LOAD-001)."""
    return _size_of(os.fstat(fd), path, var)


def _size_of(st: os.stat_result, path: str, var: str | None) -> int:
    if stat.S_ISDIR(st.st_mode):
        raise MissingFileError("path is a directory", path=path, var=var,
                               expected="a file", found="a directory")
    return st.st_size


def read_file(path: str, var: str | None = None) -> np.ndarray:
    """The whole file as a fresh ``uint8`` array (SEL-LOAD-001), read by ``read_split``; a
    file that ended early (cut meanwhile) gives the bytes it had."""
    fd = _open_for_read(path, var)
    try:
        return _read_whole(fd, regular_size(fd, path, var))
    finally:
        os.close(fd)


def _read_whole(fd: int, size: int) -> np.ndarray:
    """``size`` bytes of the open file from its start into a fresh array, cut where the file
    ended."""
    buf = np.empty(size, np.uint8)
    return buf[:read_split(fd, memoryview(buf), 0)]


# From SPLIT_FROM bytes on, one read is cut into a contiguous piece per core (at most
# _SPLIT_READERS), each read by its own thread (``preadv`` releases the GIL): the copy out of
# the page cache, and for fresh memory the faulting in and zeroing of its pages, then run on
# every core.  Measured here (2 cores, warm page cache): 256 MiB into a fresh array 46 ms in
# one read, 27-35 ms in two; into an existing one 37 against 21 ms; 16 MiB 2.4 against 1.7
# ms; 4 MiB even.
SPLIT_FROM = 16 << 20
_SPLIT_READERS = 4
_SPLIT_BLOCK = 1 << 20  # pieces start on a MiB of the destination


def read_split(fd: int, view: memoryview, offset: int, split: bool = True) -> int:
    """``view`` (bytes) filled from the file's ``offset`` on: how many of its bytes, from its
    start, were read before the file ended (``view.nbytes`` when all were).  Big reads go in
    pieces on threads (see ``SPLIT_FROM``) unless ``split`` is False; every piece finishes
    before this returns, and the first piece that met the end decides the answer, as one read
    would.  Each read moves at most ~2 GiB (Linux's cap per call), so a read loops."""
    n = view.nbytes
    workers = min(_cores(), _SPLIT_READERS) if split and n >= SPLIT_FROM else 1
    if workers < 2:
        return _read_span(fd, view, offset, 0, n)
    runs = _runs_in_threads(lambda a, b: _read_span(fd, view, offset, a * _SPLIT_BLOCK,
                                                    min(b * _SPLIT_BLOCK, n)),
                            0, -(-n // _SPLIT_BLOCK), workers)
    return next((got for a, b, got in runs if got < min(b * _SPLIT_BLOCK, n)), n)


def _read_span(fd: int, view: memoryview, offset: int, lo: int, hi: int) -> int:
    """``view[lo:hi]`` from the file's ``offset + lo`` on; where the reading stopped (``hi``,
    or where the file ended)."""
    while lo < hi:
        got = os.preadv(fd, [view[lo:hi]], offset + lo)
        if got <= 0:
            break
        lo += got
    return lo


def read_file_parsed_in_place(path: str, count: int) -> tuple[np.ndarray, Any]:
    """The combined file at ``path`` read whole and parsed by ``cpu.parse_in_place``, which
    moves its ``count`` payloads to aligned places as it goes: ``(buffer, parsed)``.  Where
    that pass declines, ``(the file's bytes, None)`` for the usual parse (which names the error,
    if any): the buffer read, or, when the pass had moved payloads before it stopped, the file
    read again once that buffer is dropped (two copies are never held at once; a file replaced
    in between is judged as it is now, like any later load).

    A file of many records (see ``PIPELINE_FROM``) is parsed while it is read: a thread reads
    it front to back a MiB at a time (``_FrontToBackReader``) and the pass walks each MiB as it
    arrives, still in cache.  The file is read whole either way before this returns."""
    from fluidspec.numba_kernels import cpu  # numba: imported by loads, not by the CLI

    fd = _open_for_read(path, None)
    try:
        size = regular_size(fd, path, None)
        if _pipelined(size, count):
            buf = np.empty(size, np.uint8)
            with _FrontToBackReader(fd, buf) as reader:
                parsed, intact = cpu.parse_in_place(buf, count, reader.filled)
            data = buf[:reader.done]
            del buf
        else:
            data = _read_whole(fd, size)
            parsed, intact = cpu.parse_in_place(data, count)
    finally:
        os.close(fd)
    if parsed is None and not intact:
        del data  # the last reference to the first buffer
        data = read_file(path)
    return data, parsed


# From PIPELINE_FROM bytes on, a combined file whose records average at most a piece
# (_PIPELINE_PIECE) is parsed while a second thread reads it (``read_file_parsed_in_place``):
# the pass over headers and payload moves then runs beside the read, on bytes still in cache,
# instead of after it over a buffer that has left the cache.  Measured here (2 cores, warm page
# cache, interleaved rounds of ``load_combined``, tensors of 1 KiB, medians): 10,000 tensors
# 5.0 ms read and then parsed, 4.1 ms parsed while read; 20,000 10.8 against 7.9; 100,000 60
# against 52.  In the prototype's run 2,000 tensors (2 MiB) lost, 0.92 against 1.04 ms: the
# thread's start and hand-overs outweigh what they hide.  A few big records would wait for
# each payload to be read whole and then move it; they keep the read split over the cores
# (``read_split``).
PIPELINE_FROM = 4 << 20
_PIPELINE_PIECE = 1 << 20


def _pipelined(size: int, count: int) -> bool:
    return size >= PIPELINE_FROM and count > 1 and size // count <= _PIPELINE_PIECE and (
        _cores() >= 2)


class _FrontToBackReader:
    """Fills ``buf`` from the file ``fd`` front to back on a thread of its own, a piece
    (``_PIPELINE_PIECE``) per read, telling ``filled`` callers how far it got.  It stops at the
    end of ``buf`` or of the file, whichever comes first (``done`` then says where).  Leaving
    the ``with`` waits for the thread, so no write into ``buf`` outlives it, lets go of ``buf``
    (its caller decides how long it lives) and raises the thread's error, if it had one and
    nothing else is being raised.  Left by an exception, the thread stops after the piece it is
    reading instead of reading the rest of the file for nobody."""

    def __init__(self, fd: int, buf: np.ndarray) -> None:
        self._fd, self._view, self._size = fd, memoryview(buf), buf.nbytes
        self.done, self._final, self._error, self._abandoned = 0, False, None, False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="fluidspec-read", daemon=True)

    def __enter__(self) -> _FrontToBackReader:
        self._thread.start()
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        self._abandoned = kind is not None
        self._thread.join()
        # A stored error's traceback holds the thread's frame and so this reader: without the
        # view, that cycle no longer keeps the buffer alive until the next collection.
        error, self._error, self._view = self._error, None, None
        if error is not None and kind is None:
            raise error

    def filled(self, walked: int) -> tuple[int, bool]:
        """Waits until more than ``walked`` bytes are in, or no more will come:
        ``(bytes in, whether that is all)``."""
        with self._changed:
            while self.done <= walked and not self._final:
                self._changed.wait()
            return self.done, self._final

    def _read(self) -> None:
        lo = 0
        try:
            while lo < self._size and not self._abandoned:
                hi = min(lo + _PIPELINE_PIECE, self._size)
                got = _read_span(self._fd, self._view, 0, lo, hi)
                with self._changed:
                    self.done = got
                    self._final = got < hi or got == self._size
                    self._changed.notify()
                if self._final:
                    return
                lo = hi
        except BaseException as exc:  # re-raised by the caller's thread on leaving the with
            self._error = exc
        finally:
            with self._changed:
                self._final = True
                self._changed.notify()


# Files held open at once by one load: the soft limit on descriptors is often 1,024 (20,000
# here), and a Program may have 100,000 variables.
_HELD_FILES = 512


def read_files(paths: Sequence[str], names: Sequence[str] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Every file back to back in one arena; returns ``(arena, bounds)`` (``len(paths)+1``).

    Where the platform allows, a kernel reads them all with no Python per file
    (``_read_regular_files``); when it meets anything but a readable regular file, everything
    is read again the careful way (``_read_files_carefully``), which raises the first file's
    error with its path and variable."""
    quick = _read_regular_files(paths)
    return quick if quick is not None else _read_files_carefully(paths, names)


def _read_regular_files(paths: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """``(arena, bounds)`` read by ``cpu.read_regular_files``, or None where that cannot be
    used or stopped at a file.  The first ``_PROBE_FILES`` files are read in this thread; the
    rest go to a few threads, one contiguous run and arena each (the kernel releases the GIL;
    the arenas are then joined), when ``_threads_for`` says so.  Files over
    ``_SMALL_READ_FILE`` or past ``_SMALL_READS_MOST`` in all go the careful way, which sizes
    every file first and allocates once: for them the system calls are no longer what costs,
    and the memory of growing and joining arenas would be."""
    from fluidspec.numba_kernels import cpu  # numba: imported by loads, not by the CLI

    n = len(paths)
    encoded = _nul_terminated(paths) if n and cpu.can_call_files() else None
    if encoded is None:
        return None
    names, ends = encoded
    bounds = np.zeros(n + 1, np.int64)

    def read_run(first: int, stop: int, arena: np.ndarray, used: int
                 ) -> tuple[bool, np.ndarray, int]:
        """Files ``first..stop-1`` appended to ``arena[:used]``, growing it as the kernel asks:
        ``(read them all, arena, used)``."""
        start, at = used, first
        while True:
            why, at, used, size = cpu.read_regular_files(
                names, ends, cpu.READ_FLAGS, cpu.MOST_PER_CALL, _SMALL_READ_FILE,
                _SMALL_READS_MOST, at, stop, arena, used, bounds)
            if why != cpu.READ_FULL:
                return why == cpu.READ_ALL, arena, used
            need = used + size
            guess = need + (need - start) // (at - first + 1) * (stop - at - 1)
            capacity = min(_SMALL_READS_MOST, max(need, arena.size + arena.size // 2,
                                                  min(guess, need + max(need, _GROW_AHEAD))))
            try:
                grown = _new_arena(capacity)
            except MemoryError:
                return False, arena, used
            grown[:used] = arena[:used]
            arena = grown

    read_run(0, 0, np.empty(0, np.uint8), 0)  # loads the kernel: not part of the probe's time
    probe = min(n, _PROBE_FILES)
    began = time.perf_counter()
    ok, arena, used = read_run(0, probe, np.empty(0, np.uint8), 0)
    workers = _threads_for(n - probe, (time.perf_counter() - began) / probe)
    if not ok or probe == n:
        pass
    elif workers < 2:
        ok, arena, used = read_run(probe, n, arena, used)
    else:
        ok, arena, used = _read_runs_in_threads(read_run, probe, n, workers, arena, used, bounds)
    if not ok:
        return None
    if arena.size - used > max(used >> 3, 1 << 20):  # a guess too high: give the rest back
        return arena[:used].copy(), bounds
    return arena[:used], bounds


# The kernel's reads are for small files: at most _SMALL_READ_FILE each and _SMALL_READS_MOST
# in all, since the arena grows by copies and a threaded load joins its runs' arenas, so that
# for a moment it holds up to twice what it read.  The arena grows to a guess from the average
# file so far, never more than max(_GROW_AHEAD, what is needed) past what is needed, and at
# least by half, so that the copies stay linear in the total.
_SMALL_READ_FILE = 1 << 20
_SMALL_READS_MOST = 1 << 28
_GROW_AHEAD = 1 << 26


def _new_arena(capacity: int) -> np.ndarray:
    return np.empty(capacity, np.uint8)


# Below this many files after the probe, one thread runs a kernel over them faster than
# several (whose arenas must then be joined, for reads): 10,000 x 1 KiB read from ext4 (warm),
# 2 cores: 43 ms in one thread, 29 ms in two; 1,000 files: 5.7 ms against 6.2 ms.
_THREADED_FROM = 2048


def _threads_for(rest: int, probe_seconds_per_file: float) -> int:
    """How many threads should run a kernel over ``rest`` more files, after the probe files
    took ``probe_seconds_per_file`` each: the pool when they waited on the device, one thread
    per core when they are many, else one."""
    if rest == 0:
        return 1
    if probe_seconds_per_file >= _POOL_PAYS_S:
        return min(_POOL_WORKERS, rest)
    if rest >= _THREADED_FROM:
        return min(_POOL_WORKERS, _cores())
    return 1


def _cores() -> int:
    """The cores this process may run on (its affinity, where the platform tells it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _read_runs_in_threads(read_run: Callable[[int, int, np.ndarray, int],
                                             tuple[bool, np.ndarray, int]],
                          first: int, stop: int, workers: int, arena: np.ndarray, used: int,
                          bounds: np.ndarray) -> tuple[bool, np.ndarray, int]:
    """Files ``first..stop-1`` as ``workers`` runs in threads, each into its own arena, then
    appended to ``arena[:used]`` with their bounds moved along; ``(read them all, arena,
    used)``."""
    runs = _runs_in_threads(lambda a, b: read_run(a, b, np.empty(0, np.uint8), 0), first, stop,
                            workers)
    if not all(ok for _, _, (ok, _, _) in runs):
        return False, arena, used
    pieces = [arena[:used]]
    for a, b, (_, run_arena, run_used) in runs:
        bounds[a + 1:b + 1] += used
        used += run_used
        pieces.append(run_arena[:run_used])
    return True, np.concatenate(pieces), used


_R = TypeVar("_R")


def _runs_in_threads(run: Callable[[int, int], _R], first: int, stop: int, workers: int
                     ) -> list[tuple[int, int, _R]]:
    """``run(a, b)`` over ``first..stop-1`` cut into ``workers`` contiguous runs, one thread
    each; every run's ``(a, b, result)``, in order.  Returns only when no run is still going
    (no write outlives the call); where runs raise, the earliest run's exception is raised."""
    step = -(-(stop - first) // workers)
    spans = [(a, min(a + step, stop)) for a in range(first, stop, step)]
    with ThreadPoolExecutor(len(spans)) as pool:
        results = list(pool.map(lambda span: run(*span), spans))
    return [(a, b, result) for (a, b), result in zip(spans, results, strict=True)]


def _nul_terminated(paths: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """The paths as the file system's bytes (``os.fsencode``), each ending with a NUL, and the
    index of each NUL; None for anything but ``str`` paths without NULs."""
    if set(map(type, paths)) != {str}:
        return None
    try:
        raw = ("\0".join(paths) + "\0").encode(sys.getfilesystemencoding(),
                                               sys.getfilesystemencodeerrors())
    except UnicodeError:
        return None
    names = np.frombuffer(raw, np.uint8)
    ends = np.flatnonzero(names == 0)
    return (names, ends) if len(ends) == len(paths) else None


def _read_files_carefully(paths: Sequence[str], names: Sequence[str] | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``read_files`` in Python, file by file, raising the first failure in path order.

    Every file is sized before the arena is allocated, then read with ``preadv`` into its
    slice; many files are opened and read by a few threads when it pays (``_in_runs``), and
    the first failure in path order is the one raised.  Up to ``_HELD_FILES`` files are opened
    once and held (sized with ``fstat``); more are sized with ``stat`` first, then each is
    opened, checked to be the same file of the same size, read and closed, so that a load
    never holds more than a few descriptors."""
    n = len(paths)
    sizes = [0] * n
    held = n <= _HELD_FILES
    fds = [-1] * n if held else []
    identity: list[tuple[int, int]] = [] if held else [(0, 0)] * n

    def var(i: int) -> str | None:
        return names[i] if names is not None else None

    def size_run(a: int, b: int) -> None:
        for i in range(a, b):
            if held:
                fds[i] = fd = _open_for_read(paths[i], var(i))
                st = os.fstat(fd)
            else:
                try:
                    st = os.stat(paths[i])
                except OSError:
                    os.close(_open_for_read(paths[i], var(i)))  # its error, or it appeared
                    st = os.stat(paths[i])
                identity[i] = (st.st_dev, st.st_ino)
            sizes[i] = _size_of(st, paths[i], var(i))

    try:
        _in_runs(n, size_run)
        bounds = np.zeros(n + 1, np.int64)
        np.cumsum(sizes, out=bounds[1:])
        arena = np.empty(int(bounds[-1]), np.uint8)
        mv = memoryview(arena)
        starts = bounds.tolist()

        def read_one(i: int, fd: int) -> None:
            lo, hi = starts[i], starts[i + 1]
            got = os.preadv(fd, [mv[lo:hi]], 0) if hi > lo else 0
            if got != hi - lo:  # the file shrank under us
                raise MissingFileError("file changed while being read", path=paths[i],
                                       var=var(i), expected=f"{hi - lo} bytes",
                                       found=f"{got} bytes")

        def read_run(a: int, b: int) -> None:
            for i in range(a, b):
                if held:
                    read_one(i, fds[i])
                    continue
                fd = _open_for_read(paths[i], var(i))
                try:
                    st = os.fstat(fd)
                    if (st.st_dev, st.st_ino) != identity[i] or st.st_size != sizes[i]:
                        raise MissingFileError(
                            "file changed while being read", path=paths[i], var=var(i),
                            expected=f"the file of {sizes[i]} bytes it was when sized",
                            found=f"another file, or {st.st_size} bytes")
                    read_one(i, fd)
                finally:
                    os.close(fd)

        _in_runs(n, read_run)
        return arena, bounds
    finally:
        for fd in fds:
            if fd >= 0:
                os.close(fd)


def _in_runs(count: int, work: Callable[[int, int], None], pool_now: bool = False) -> None:
    """``work(a, b)`` over ``range(count)``, in order: the first ``_PROBE_FILES`` in this
    thread, then the rest here too unless they took over ``_POOL_PAYS_S`` each (or
    ``pool_now``: big files), in which case the rest is cut into one contiguous run per
    thread.  Waits for every run, then raises the failure of the earliest run that failed —
    each run stops at its first failure, so that is the first failure in order."""
    start = 0
    if not pool_now:
        start = min(count, _PROBE_FILES)
        began = time.perf_counter()
        work(0, start)
        if start == count or (time.perf_counter() - began) / start < _POOL_PAYS_S:
            work(start, count)
            return
    workers = min(_POOL_WORKERS, count - start)
    if workers < 2:
        work(start, count)
        return
    _runs_in_threads(work, start, count, workers)


def unique_in_order(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
