"""File I/O of numba_kernels: one write per file, atomic replace, arena reads.

* Writing (SEL-SAVE-008): every byte is encoded before the first file is touched; each file is
  written with a single ``os.write`` of its slice of one encoded buffer into a temporary file in
  the destination directory, then ``os.replace``d over the target, so a target is always either
  its old or its new complete content.  A failure removes the temporaries it made; temporaries
  a killed save left behind (named with the dead process's pid) are removed by the next save
  into the same directory.
* Reading: files are read with ``readinto`` straight into one ``uint8`` arena (separate files:
  back to back), so that one parse pass (``_parse``) indexes all of them.
* Names (SEL-PATH-001/002, SEL-FILE-001/002): refused before anything is written or read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from fluidspec.spec.errors import InvalidArgumentError, MissingFileError, UnsafeNameError

_TMP_PREFIX = ".fluidspec-nk-"


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but is not ours (EPERM): alive
        return False
    return False


def remove_stale_temporaries(directory: str) -> None:
    """Delete ``.fluidspec-nk-<pid>-<i>.tmp`` files of processes that no longer exist.

    Only a SIGKILL (or a power cut) leaves them: every other failure removes its own.  A file of a
    live process (a concurrent save, or a reused pid) is left alone.
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(_TMP_PREFIX) and name.endswith(".tmp")):
            continue
        pid_text = name[len(_TMP_PREFIX):].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and _process_is_gone(int(pid_text)):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


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


def check_layout(root: str, names: Sequence[str]) -> list[str]:
    """Target paths of a separate save, refusing file/directory clashes (SEL-PATH-002)."""
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
    """Write ``chunks[i]`` to ``paths[i]``: one write into a temporary file beside the target,
    then ``os.replace`` (SEL-SAVE-008); on failure the temporaries are removed."""
    made: set[str] = set()
    temps: list[tuple[str, str]] = []
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    try:
        for i, path in enumerate(paths):
            parent = os.path.dirname(path)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                remove_stale_temporaries(parent)
                made.add(parent)
            temp = os.path.join(parent, f"{_TMP_PREFIX}{os.getpid()}-{i}.tmp")
            fd = os.open(temp, flags, 0o644)
            temps.append((temp, path))
            try:
                chunk = chunks[i]
                size = memoryview(chunk).nbytes
                written = os.write(fd, chunk)
                while written < size:  # short writes only happen for huge files
                    written += os.write(fd, memoryview(chunk).cast("B")[written:])
            finally:
                os.close(fd)
        for temp, path in temps:
            os.replace(temp, path)
        temps = []
    finally:
        for temp, _ in temps:
            try:
                os.unlink(temp)
            except OSError:
                pass


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


def read_file(path: str, var: str | None = None) -> np.ndarray:
    """The whole file as a fresh ``uint8`` array, read with ``readinto`` (SEL-LOAD-001)."""
    fd = _open_for_read(path, var)
    try:
        size = os.fstat(fd).st_size
        if os.path.isdir(path):
            raise MissingFileError("path is a directory", path=path, var=var,
                                   expected="a file", found="a directory")
        buf = np.empty(size, np.uint8)
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as f:
            got = f.readinto(memoryview(buf))
        return buf[:got or 0]
    finally:
        os.close(fd)


def read_files(paths: Sequence[str], names: Sequence[str] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Every file back to back in one arena; returns ``(arena, bounds)`` (``len(paths)+1``)."""
    fds: list[int] = []
    try:
        sizes = []
        for i, path in enumerate(paths):
            fd = _open_for_read(path, names[i] if names is not None else None)
            fds.append(fd)
            st = os.fstat(fd)
            if not os.path.isfile(path) and os.path.isdir(path):
                raise MissingFileError("path is a directory", path=path,
                                       var=names[i] if names is not None else None,
                                       expected="a file", found="a directory")
            sizes.append(st.st_size)
        bounds = np.zeros(len(paths) + 1, np.int64)
        np.cumsum(sizes, out=bounds[1:])
        arena = np.empty(int(bounds[-1]), np.uint8)
        mv = memoryview(arena)
        starts = bounds.tolist()
        for i, fd in enumerate(fds):
            a, b = starts[i], starts[i + 1]
            got = os.preadv(fd, [mv[a:b]], 0) if b > a else 0
            if got != b - a:  # the file shrank under us: read what is there, flag it short
                raise MissingFileError("file changed while being read", path=paths[i],
                                       expected=f"{b - a} bytes", found=f"{got} bytes")
        return arena, bounds
    finally:
        for fd in fds:
            os.close(fd)


def unique_in_order(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
