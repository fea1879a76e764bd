"""Many small files read or written by one kernel each, with no Python bytecode per file.

Separate files of 10,000 small tensors are system calls: the plain Python loop spends about
9 µs per file to read one back, of which the calls themselves (``open``, ``statx``, ``pread``,
``close``) are about 4.5 µs.  These kernels call the C library straight from nopython code —
the functions are declared as external C symbols, resolved from the C library the process
already has loaded, so the kernels still cache to disk — and release the GIL, so that runs of
files can go to threads.

* ``read_regular_files``: files appended to one arena, which the caller grows when the kernel
  says it is full (a separate-files load).
* ``write_new_files``: each slice of one buffer into a newly created file (the temporaries of a
  separate-files save); ``rename_files``: the temporaries into place, in order.
* ``link_new_files``: each slice into an unnamed file (``O_TMPFILE``) that is linked under its
  target's name once complete (the targets of a separate-files save that do not exist yet).

They are the fast paths only: a call that fails (a missing or unreadable file, something not a
regular file, a full disk) stops the run, and the caller does that work again the careful way
(``numba_kernels._files``), which is what names the file, the variable and the error
(SEL-LOAD-001).  Linux only (the ``statx`` layout and the ``AT_EMPTY_PATH`` flag are Linux's);
``can_call_files`` says so.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils

from fluidspec.numba_kernels.cpu._jit import inline, kernel

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_BYTE_PTR = ir.IntType(8).as_pointer()

# statx(2): fstat's fields at fixed offsets on every architecture (struct statx in
# <linux/stat.h>): the 16-bit stx_mode at byte 28 and the 64-bit stx_size at byte 40.
_AT_EMPTY_PATH = 0x1000
_STATX_TYPE_AND_SIZE = 0x0001 | 0x0200
_STATX_BYTES = 256
_MODE_AT = 28
_SIZE_AT = 40
_S_IFMT = 0o170000
_S_IFREG = 0o100000

READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
# pread(2) and write(2) move at most 0x7ffff000 bytes per call on Linux, so a bigger file takes
# several calls anyway; asking for 1 GiB at a time keeps each call's count far from any limit.
MOST_PER_CALL = 1 << 30


@functools.cache
def can_call_files() -> bool:
    """Whether this process can run these kernels: Linux, little-endian, 64-bit, and a C library
    with ``statx`` (glibc 2.28 or later)."""
    if sys.platform != "linux" or sys.byteorder != "little" or sys.maxsize < 1 << 62:
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:  # pragma: no cover - every Linux Python can dlopen itself
        return False
    return all(hasattr(libc, name)
               for name in ("open", "statx", "pread", "write", "rename", "close", "linkat"))


def _address(context: Any, builder: Any, array_type: Any, array: Any, at: Any, at_type: Any
             ) -> Any:
    """``(char *) array.data + at``."""
    data = context.make_array(array_type)(context, builder, array).data
    offset = context.cast(builder, at, at_type, numba.types.intp)
    return builder.gep(builder.bitcast(data, _BYTE_PTR), [offset])


def _c_function(builder: Any, name: str, result: Any, args: list[Any], var_arg: bool = False
                ) -> Any:
    return cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(result, args, var_arg=var_arg), name)


def _int32(context: Any, builder: Any, signature: Any, args: Any, i: int) -> Any:
    return context.cast(builder, args[i], signature.args[i], numba.types.int32)


def _int64(context: Any, builder: Any, signature: Any, args: Any, i: int) -> Any:
    return context.cast(builder, args[i], signature.args[i], numba.types.int64)


@numba.extending.intrinsic
def _open(typingctx: Any, names: Any, at: Any, flags: Any, mode: Any) -> Any:
    """``open(names + at, flags, mode)``: the NUL-terminated path starting at byte ``at``."""
    sig = numba.types.int32(names, at, flags, mode)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        path = _address(context, builder, signature.args[0], args[0], args[1], signature.args[1])
        # open is variadic in C (its third argument, the mode, is read only with O_CREAT)
        return builder.call(_c_function(builder, "open", _I32, [_BYTE_PTR, _I32], True),
                            [path, _int32(context, builder, signature, args, 2),
                             _int32(context, builder, signature, args, 3)])

    return sig, codegen


@numba.extending.intrinsic
def _statx_fd(typingctx: Any, fd: Any, names: Any, nul_at: Any, out: Any) -> Any:
    """``statx(fd, "", AT_EMPTY_PATH, type|size, out)``: fstat of an open descriptor; the empty
    path is the NUL byte at ``names + nul_at``."""
    sig = numba.types.int32(fd, names, nul_at, out)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        empty = _address(context, builder, signature.args[1], args[1], args[2],
                         signature.args[2])
        buf = context.make_array(signature.args[3])(context, builder, args[3]).data
        fn = _c_function(builder, "statx", _I32, [_I32, _BYTE_PTR, _I32, _I32, _BYTE_PTR])
        return builder.call(fn, [
            _int32(context, builder, signature, args, 0), empty,
            ir.Constant(_I32, _AT_EMPTY_PATH), ir.Constant(_I32, _STATX_TYPE_AND_SIZE),
            builder.bitcast(buf, _BYTE_PTR)])

    return sig, codegen


@numba.extending.intrinsic
def _pread(typingctx: Any, fd: Any, arena: Any, at: Any, count: Any, offset: Any) -> Any:
    """``pread(fd, arena + at, count, offset)``."""
    sig = numba.types.int64(fd, arena, at, count, offset)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        dest = _address(context, builder, signature.args[1], args[1], args[2], signature.args[2])
        fn = _c_function(builder, "pread", _I64, [_I32, _BYTE_PTR, _I64, _I64])
        return builder.call(fn, [_int32(context, builder, signature, args, 0), dest,
                                 _int64(context, builder, signature, args, 3),
                                 _int64(context, builder, signature, args, 4)])

    return sig, codegen


@numba.extending.intrinsic
def _write(typingctx: Any, fd: Any, data: Any, at: Any, count: Any) -> Any:
    """``write(fd, data + at, count)``."""
    sig = numba.types.int64(fd, data, at, count)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        src = _address(context, builder, signature.args[1], args[1], args[2], signature.args[2])
        fn = _c_function(builder, "write", _I64, [_I32, _BYTE_PTR, _I64])
        return builder.call(fn, [_int32(context, builder, signature, args, 0), src,
                                 _int64(context, builder, signature, args, 3)])

    return sig, codegen


@numba.extending.intrinsic
def _rename(typingctx: Any, olds: Any, old_at: Any, news: Any, new_at: Any) -> Any:
    """``rename(olds + old_at, news + new_at)``: two NUL-terminated paths."""
    sig = numba.types.int32(olds, old_at, news, new_at)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        old = _address(context, builder, signature.args[0], args[0], args[1], signature.args[1])
        new = _address(context, builder, signature.args[2], args[2], args[3], signature.args[3])
        return builder.call(_c_function(builder, "rename", _I32, [_BYTE_PTR, _BYTE_PTR]),
                            [old, new])

    return sig, codegen


# linkat(2) of an unnamed file: its descriptor's ``/proc/self/fd/N`` link, followed.  (Linking
# the descriptor itself, with AT_EMPTY_PATH, needs CAP_DAC_READ_SEARCH; open(2) documents this
# form for O_TMPFILE files.)
_AT_FDCWD = -100
_AT_SYMLINK_FOLLOW = 0x400
_PROC_FD_PREFIX = b"/proc/self/fd/"
_FD_DIGITS_AND_NUL = 12  # a descriptor number (at most 10 digits) and its NUL


def proc_fd_path() -> np.ndarray:
    """The ``proc_fd`` argument of ``link_new_files``: ``/proc/self/fd/`` and room for a
    descriptor number and its NUL (the kernel writes those into a copy of its own)."""
    return np.frombuffer(_PROC_FD_PREFIX + bytes(_FD_DIGITS_AND_NUL), np.uint8)


@numba.extending.intrinsic
def _link_followed(typingctx: Any, source: Any, names: Any, at: Any) -> Any:
    """``linkat(AT_FDCWD, source, AT_FDCWD, names + at, AT_SYMLINK_FOLLOW)``: ``source`` is a
    NUL-terminated path in a byte array of its own."""
    sig = numba.types.int32(source, names, at)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        src = context.make_array(signature.args[0])(context, builder, args[0]).data
        dest = _address(context, builder, signature.args[1], args[1], args[2], signature.args[2])
        fn = _c_function(builder, "linkat", _I32, [_I32, _BYTE_PTR, _I32, _BYTE_PTR, _I32])
        here = ir.Constant(_I32, _AT_FDCWD)
        return builder.call(fn, [here, builder.bitcast(src, _BYTE_PTR), here, dest,
                                 ir.Constant(_I32, _AT_SYMLINK_FOLLOW)])

    return sig, codegen


@numba.extending.intrinsic
def _close(typingctx: Any, fd: Any) -> Any:
    sig = numba.types.int32(fd)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        fn = _c_function(builder, "close", _I32, [_I32])
        return builder.call(fn, [_int32(context, builder, signature, args, 0)])

    return sig, codegen


@inline
def _path_start(ends: np.ndarray, i: int) -> int:
    """Where path ``i`` starts in a buffer of NUL-terminated paths (``ends[i]`` is its NUL)."""
    return 0 if i == 0 else ends[i - 1] + 1


# Why ``read_regular_files`` returned.
READ_ALL = 0        # every file was read
READ_FAILED = 1     # a file could not be opened, is no regular file, or read short
READ_FULL = 2       # the arena ends before the file would: grow it, then call again from it
READ_TOO_BIG = 3    # the file is over ``most_per_file``, or the arena would pass ``most_bytes``

_STATX_WANTED = _STATX_TYPE_AND_SIZE  # stx_mask must report both as filled in


@kernel
def read_regular_files(names: np.ndarray, name_ends: np.ndarray, flags: int,
                       most_per_call: int, most_per_file: int, most_bytes: int, first: int,
                       stop: int, arena: np.ndarray, used: int, bounds: np.ndarray
                       ) -> tuple[int, int, int, int]:
    """Append files ``first..stop-1`` to ``arena[:used]``; returns ``(why, at, used, size)``.

    ``names`` holds the paths, each ending with a NUL at ``name_ends[i]``; each file is opened
    with ``flags`` and read by ``pread`` calls of at most ``most_per_call`` bytes, and
    ``bounds[i + 1]`` becomes its end in the arena.  ``why`` is ``READ_ALL``, or why the kernel
    stopped at file ``at`` (of ``size`` bytes, when known): ``READ_FAILED``, ``READ_TOO_BIG``, or
    ``READ_FULL`` — the caller then grows the arena and calls again from ``at``.  The kernel
    allocates nothing, so a stop never leaves a descriptor open."""
    info = np.empty(_STATX_BYTES // 8, np.int64)
    for i in range(first, stop):
        fd = _open(names, _path_start(name_ends, i), flags, 0)
        if fd < 0:
            return READ_FAILED, i, used, 0
        if (_statx_fd(fd, names, name_ends[i], info) != 0
                or (info[0] & _STATX_WANTED) != _STATX_WANTED):
            _close(fd)
            return READ_FAILED, i, used, 0
        mode = (info[_MODE_AT // 8] >> (8 * (_MODE_AT % 8))) & 0xFFFF
        size = info[_SIZE_AT // 8]
        if (mode & _S_IFMT) != _S_IFREG:
            _close(fd)
            return READ_FAILED, i, used, 0
        if size > most_per_file or used + size > most_bytes:
            _close(fd)
            return READ_TOO_BIG, i, used, size
        if used + size > arena.size:
            _close(fd)
            return READ_FULL, i, used, size
        got = 0
        while got < size:
            n = _pread(fd, arena, used + got, min(size - got, most_per_call), got)
            if n <= 0:
                break
            got += n
        _close(fd)
        if got != size:
            return READ_FAILED, i, used, size
        used += size
        bounds[i + 1] = used
    return READ_ALL, stop, used, 0


@kernel
def write_new_files(names: np.ndarray, name_ends: np.ndarray, flags: int, mode: int,
                    most_per_call: int, data: np.ndarray, bounds: np.ndarray, first: int,
                    stop: int) -> int:
    """Create files ``first..stop-1`` (``open(path, flags, mode)``; the caller's flags make it
    exclusive) and write ``data[bounds[i]:bounds[i + 1]]`` into file ``i``, by ``write`` calls
    of at most ``most_per_call`` bytes.  Returns ``-1``, or the index of the first file that
    could not be created or written: that file may exist, partly written, for the caller to
    remove with the others."""
    for i in range(first, stop):
        fd = _open(names, _path_start(name_ends, i), flags, mode)
        if fd < 0:
            return i
        end = bounds[i + 1]
        at = _write_slice(fd, data, bounds[i], end, most_per_call)
        if _close(fd) != 0 or at != end:  # close reports a delayed write error (NFS, quota)
            return i
    return -1


@inline
def _write_slice(fd: int, data: np.ndarray, at: int, end: int, most_per_call: int) -> int:
    """Write ``data[at:end]`` to ``fd``; where it got to (``end`` unless a write failed)."""
    while at < end:
        n = _write(fd, data, at, min(end - at, most_per_call))
        if n <= 0:
            break
        at += n
    return at


@inline
def _put_fd_path(path: np.ndarray, prefix_length: int, fd: int) -> None:
    """Write ``fd``'s decimal digits and a NUL after the ``/proc/self/fd/`` already in ``path``."""
    digits = 1
    rest = fd
    while rest >= 10:
        rest //= 10
        digits += 1
    rest = fd
    for k in range(digits - 1, -1, -1):
        path[prefix_length + k] = 48 + rest % 10
        rest //= 10
    path[prefix_length + digits] = 0


@kernel
def link_new_files(dirs: np.ndarray, dir_ends: np.ndarray, dir_of: np.ndarray,
                   names: np.ndarray, name_ends: np.ndarray, proc_fd: np.ndarray,
                   flags: int, mode: int, most_per_call: int, data: np.ndarray,
                   bounds: np.ndarray, first: int, stop: int) -> tuple[int, int]:
    """For each file ``i`` of ``first..stop-1``: open an unnamed file in directory
    ``dir_of[i]`` (``open(dir, flags, mode)``, the caller's flags holding ``O_TMPFILE``), write
    ``data[bounds[i]:bounds[i + 1]]`` into it, then link it under path ``i`` — which must not
    exist: ``linkat`` never replaces — and close it.  A file is therefore seen under its name
    only whole.  ``proc_fd`` is ``proc_fd_path()``.

    Returns ``(-1, stop)``, or ``(i, linked)`` where file ``i`` could not be made, written,
    linked or closed, and files ``first..linked-1`` are linked (``linked`` is ``i + 1`` when
    only the close of a linked file failed): the caller removes those names."""
    source = proc_fd.copy()  # each run (thread) writes descriptor numbers into its own copy
    prefix_length = source.size - _FD_DIGITS_AND_NUL
    for i in range(first, stop):
        d = dir_of[i]
        fd = _open(dirs, _path_start(dir_ends, d), flags, mode)
        if fd < 0:
            return i, i
        end = bounds[i + 1]
        if _write_slice(fd, data, bounds[i], end, most_per_call) != end:
            _close(fd)  # never linked: the file goes with its descriptor
            return i, i
        _put_fd_path(source, prefix_length, fd)
        if _link_followed(source, names, _path_start(name_ends, i)) != 0:
            _close(fd)
            return i, i
        if _close(fd) != 0:  # a delayed write error (NFS, quota), reported by close
            return i, i + 1
    return -1, stop


@kernel
def rename_files(olds: np.ndarray, old_ends: np.ndarray, news: np.ndarray, new_ends: np.ndarray,
                 first: int, stop: int) -> int:
    """``rename(olds[i], news[i])`` for ``i`` in ``first..stop-1``, in order; ``-1``, or the
    index of the first that failed (the ones before it are done)."""
    for i in range(first, stop):
        if _rename(olds, _path_start(old_ends, i), news, _path_start(new_ends, i)) != 0:
            return i
    return -1
