"""Argument checks every subcommand makes before it starts work.

A subcommand raises :class:`UsageError` for a user's mistake; ``fluidspec._cli`` prints it in one
line (``fluidspec COMMAND: error: ...``) and exits 2.  The checks run before any long work, so a
typo in an output path does not cost a ten-minute run.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["UsageError", "existing_input", "writable_file", "writable_directory"]


class UsageError(Exception):
    """A mistake in the command line or its inputs: reported in one line, exit status 2."""


def existing_input(path: str, what: str, *, kind: str = "any") -> Path:
    """``path`` as a readable input; ``kind`` is ``"file"``, ``"dir"`` or ``"any"`` (either)."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{what} {path}: no such file or directory")
    if kind == "file" and p.is_dir():
        raise UsageError(f"{what} {path}: is a directory, expected a file")
    if kind == "dir" and not p.is_dir():
        raise UsageError(f"{what} {path}: is not a directory")
    if not (p.is_dir() or p.is_file()):
        raise UsageError(f"{what} {path}: not a regular file or directory")
    if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
        raise UsageError(f"{what} {path}: permission denied")
    return p


def _nearest_existing(p: Path) -> Path:
    p = p.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def writable_file(path: str, what: str, *, overwrite: bool = True) -> Path:
    """``path`` as an output file that can be created (or replaced, when ``overwrite``)."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{what} {path}: is a directory, expected a file name")
    if p.exists():
        if not overwrite:
            raise UsageError(f"{what} {path}: already exists")
        if not os.access(p, os.W_OK):
            raise UsageError(f"{what} {path}: permission denied")
        return p
    parent = p.absolute().parent
    if not parent.is_dir():
        raise UsageError(f"{what} {path}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path}: cannot create files in {parent} (permission denied)")
    return p


def writable_directory(path: str, what: str) -> Path:
    """``path`` as an output directory: existing and writable, or creatable."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{what} {path}: exists and is not a directory")
    base = _nearest_existing(p)
    if not base.is_dir():
        raise UsageError(f"{what} {path}: {base} is not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path}: cannot write in {base} (permission denied)")
    return p
