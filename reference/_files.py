"""Where saves write and loads read: safe name-to-path mapping and atomic writes.

Paddle joins variable names onto ``dirname`` as they are, so ``../x`` or ``/abs`` escape it
(Paddle 2.6.2 builds paths with ``os.path.join(dirname, name)``, python/paddle/static/io.py).
fluidspec keeps Paddle's mapping for every ordinary name — ``/`` in a
name makes sub-directories — and refuses the rest with UNSAFE_NAME before anything is written
or read (SEL-PATH-001, SEL-PATH-002).  Every file is written to a temporary file in its
destination directory and renamed over the target, so a failed save leaves the previous
file whole (SEL-SAVE-008).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.spec.errors import MissingFileError, UnsafeNameError

Buffer = bytes | bytearray | memoryview

__all__ = [
    "name_components",
    "checked_dirname",
    "resolve",
    "check_no_prefix_collisions",
    "check_writable_target",
    "atomic_write",
    "read_bytes",
]

#: Longest file-name component (bytes) common file systems accept.
_NAME_MAX = 255


def name_components(name: Any, *, what: str = "variable name", var: str | None = None) -> list[str]:
    """Split a name used as a relative path into components, refusing unsafe ones (SEL-PATH-001)."""

    def refuse(why: str) -> UnsafeNameError:
        return UnsafeNameError(
            f"{what} {name!r} cannot be used as a path inside dirname: {why}", var=var,
            expected="a relative path of non-empty components other than '.' and '..'",
            found=repr(name),
        )

    if not isinstance(name, str):
        raise refuse(f"it is a {type(name).__name__}, not a str")
    if name == "":
        raise refuse("it is empty")
    if "\x00" in name:
        raise refuse("it contains a NUL character")
    if name.startswith("/"):
        raise refuse("it is absolute")
    try:
        os.fsencode(name)
    except UnicodeEncodeError:
        raise refuse("the file system encoding cannot represent it") from None
    parts = name.split("/")
    for part in parts:
        if part == "":
            raise refuse("it has an empty component ('//' or a trailing '/')")
        if part in (".", ".."):
            raise refuse(f"it has a {part!r} component")
        if len(os.fsencode(part)) > _NAME_MAX:
            raise refuse(f"a component is longer than {_NAME_MAX} bytes")
    return parts


def checked_dirname(dirname: Any) -> Path:
    """``dirname`` as a Path (str or os.PathLike); Paddle normalises it with normpath."""
    try:
        text = os.fspath(dirname)
    except TypeError:
        raise UnsafeNameError(
            "dirname must be a path", expected="str or os.PathLike", found=type(dirname).__name__
        ) from None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if text == "" or "\x00" in text:
        raise UnsafeNameError("dirname is empty or contains NUL", expected="a directory path",
                              found=repr(text))
    return Path(os.path.normpath(text))


def resolve(dirname: Path, name: str, *, what: str = "variable name", var: str | None = None) -> Path:
    """The path ``name`` maps to under ``dirname`` (SEL-FILE-001), or UNSAFE_NAME."""
    return dirname.joinpath(*name_components(name, what=what, var=var))


def check_no_prefix_collisions(names: Iterable[str]) -> None:
    """Refuse a set of names where one would be a file and also a directory (SEL-PATH-002)."""
    unique = set(names)
    for name in sorted(unique):
        parts = name.split("/")
        for cut in range(1, len(parts)):
            prefix = "/".join(parts[:cut])
            if prefix in unique:
                raise UnsafeNameError(
                    f"variable {prefix!r} would be a file and the directory of {name!r}",
                    var=name, expected="no name that is a directory prefix of another",
                    found=f"{prefix!r} and {name!r}",
                )


def check_writable_target(dirname: Path, path: Path, *, var: str | None = None) -> None:
    """Refuse a target that exists as a directory or lies below an existing file (SEL-PATH-002)."""
    if path.is_dir():
        raise UnsafeNameError("the target is an existing directory", path=path, var=var,
                              expected="a file path", found="a directory")
    current = path.parent
    while True:
        if current.exists() and not current.is_dir():
            raise UnsafeNameError("a parent of the target is an existing file", path=path,
                                  var=var, expected=f"{current} to be a directory",
                                  found="a regular file")
        if current == dirname or current == current.parent or dirname not in current.parents:
            break
        current = current.parent


def atomic_write(path: Path, data: Buffer | Sequence[Buffer]) -> None:
    """Write ``data`` (one buffer, or buffers written one after the other) to ``path``
    through a temporary file renamed over it (SEL-SAVE-008)."""
    parts = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".fluidspec-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_parts(handle, parts)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


# The OS copies a big buffer into a file at about half speed when the buffer's address and
# the file position disagree mod 16 — which a payload after its 20-odd-byte record header
# usually does (256 MiB: 110 ms against 55 ms, measured on Linux 6.x).  Such a payload is
# written in pieces copied into a buffer placed to agree; small buffers go as they are.
_PIECE = 4 << 20


def _write_parts(handle: Any, parts: Iterable[Buffer]) -> None:
    position = 0
    raw = None
    for part in parts:
        view = memoryview(part).cast("B")
        if view.nbytes < _PIECE or (position - _address(view)) % 16 == 0:
            handle.write(view)  # a big write goes straight from the view to the OS
        else:
            raw = np.empty(_PIECE + 64, np.uint8) if raw is None else raw
            start = (position - raw.ctypes.data) % 64
            staging = raw[start:start + _PIECE]
            for at in range(0, view.nbytes, _PIECE):
                piece = view[at:at + _PIECE]
                staging[:piece.nbytes] = piece
                handle.write(staging[:piece.nbytes])
        position += view.nbytes


def _address(view: memoryview) -> int:
    return np.frombuffer(view, np.uint8).ctypes.data


def read_bytes(path: Path, *, var: str | None = None) -> memoryview:
    """The bytes of the file a load needs; MISSING_FILE when it is absent (SEL-LOAD-001)."""
    if not path.is_file():
        found = "a directory" if path.is_dir() else "nothing"
        raise MissingFileError("a file the load needs does not exist", path=path, var=var,
                               expected="a regular file", found=found)
    with path.open("rb", buffering=0) as handle:
        # readinto a buffer of the file's size: one read, no growing and no second copy.  A
        # numpy buffer, not a bytearray: it is not zeroed first and big ones get huge pages
        # (256 MiB: 60 ms against 210 ms).
        data = np.empty(os.fstat(handle.fileno()).st_size, np.uint8)
        view, got = memoryview(data), 0
        while got < data.size:  # one call moves at most ~2 GiB on Linux
            step = handle.readinto(view[got:]) or 0
            if step == 0:
                break  # a file that shrank while being read is a short one
            got += step
    return memoryview(data[:got])
