"""``fluidspec inspect``: show what saved files hold, record by record, with annotated headers.

Only the pure-Python codec is imported (no numba), so the command starts fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from fluidspec import _program_view  # issue 9
from reference._codec import RecordHeader, read_records
from spec.errors import FluidSpecError, MissingFileError

__all__ = ["inspect_path", "run"]

_MODEL_NAMES = ("__model__",)
_MODEL_SUFFIXES = (".pdmodel", ".main_program")


def _files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def _is_program_file(path: Path) -> bool:
    return path.name in _MODEL_NAMES or path.suffix in _MODEL_SUFFIXES


def inspect_path(path: str | Path) -> tuple[list[dict[str, Any]], list[FluidSpecError]]:
    """Records (as ``--json`` objects) of a file or of every file under a directory, and errors.

    Program files (``__model__``, ``*.pdmodel``, PROG-SNIFF-001) give one ``"kind":
    "ProgramDesc"`` object each, made by ``fluidspec._program_view`` (issue 9).
    """
    root = Path(path)
    if not root.exists():
        return [], [MissingFileError("no such file or directory", path=root)]
    files = [root] if root.is_file() else _files_under(root)  # issue 9: programs included
    records: list[dict[str, Any]] = []
    errors: list[FluidSpecError] = []
    for file in files:
        shown = str(file)
        # --- issue 9 (docs engineer): program files go to fluidspec._program_view (PROG-SNIFF-001)
        try:
            program = _program_view.dispatch(file, shown)
        except FluidSpecError as exc:
            errors.append(exc)
            continue
        if program is not None:
            records.append(program)
            continue
        # --- end issue 9
        try:
            headers = read_records(file.read_bytes(), path=shown)
        except FluidSpecError as exc:
            errors.append(exc)
            continue
        records.extend(h.to_json(shown) for h in headers)
    return records, errors


# --------------------------------------------------------------------------------------------
# Human-readable view


def _hex(raw: bytes, limit: int = 16) -> str:
    shown = " ".join(f"{b:02x}" for b in raw[:limit])
    return shown + (f" … ({len(raw)} bytes)" if len(raw) > limit else "")


def _annotated_fields(buf: bytes, h: RecordHeader) -> list[tuple[int, bytes, str]]:
    """(offset, bytes, meaning) for every header field of a record, then its data."""
    out: list[tuple[int, bytes, str]] = []

    def field(at: int, size: int, meaning: str) -> None:
        out.append((at, buf[at : at + size], meaning))

    if h.kind == "SelectedRows":
        field(h.offset, 4, f"version = {h.version}")
        field(h.offset + 4, 8, f"row count = {len(h.rows or [])}")
        field(h.offset + 12, 8 * len(h.rows or []), f"rows = {h.rows}")
        field(h.desc_offset - 8, 8, f"height = {h.height}")
    else:
        field(h.offset, 4, f"LoD-tensor version = {h.version}")
        field(h.lod_offset, 8, f"LoD levels = {len(h.lod)}")
        at = h.lod_offset + 8
        for i, level in enumerate(h.lod):
            field(at, 8, f"level {i} byte size = {8 * len(level)}")
            field(at + 8, 8 * len(level), f"level {i} offsets = {level}")
            at += 8 + 8 * len(level)
    field(h.desc_offset, 4, f"tensor version = {h.tensor_version}")
    field(h.desc_offset + 4, 4, f"TensorDesc size = {h.desc_size}")
    field(h.desc_offset + 8, h.desc_size, f"TensorDesc: data_type {h.data_type} "
          f"({h.data_type_name}), dims {h.dims}")
    field(h.data_offset, h.data_nbytes, "data")
    return out


def _print_human(path: Path, out: TextIO) -> list[FluidSpecError]:
    files = [path] if path.is_file() else _files_under(path)  # issue 9: programs included
    errors: list[FluidSpecError] = []
    for file in files:
        # --- issue 9 (docs engineer): program files go to fluidspec._program_view (PROG-SNIFF-001)
        try:
            program = _program_view.dispatch(file, str(file))
        except FluidSpecError as exc:
            errors.append(exc)
            print(f"{file}: {exc}", file=out)
            continue
        if program is not None:
            print(_program_view.render_program(program), file=out)
            continue
        # --- end issue 9
        buf = file.read_bytes()
        try:
            headers = read_records(buf, path=str(file))
        except FluidSpecError as exc:
            errors.append(exc)
            print(f"{file}: {exc}", file=out)
            continue
        print(f"{file}: {len(headers)} record(s), {len(buf)} bytes", file=out)
        for h in headers:
            lod = f" lod {h.lod}" if h.lod else ""
            extra = f" rows {h.rows} height {h.height}" if h.kind == "SelectedRows" else ""
            print(f"  record at {h.offset}: {h.kind} {h.data_type_name} {h.dims}{lod}{extra}, "
                  f"{h.data_nbytes} data bytes at {h.data_offset}", file=out)
            for at, raw, meaning in _annotated_fields(buf, h):
                print(f"    {at:08x}  {_hex(raw):<48}  {meaning}", file=out)
    return errors


def run(path: str, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The ``inspect`` command; returns the exit status (1 when any file is bad)."""
    target = Path(path)
    if as_json:
        records, errors = inspect_path(target)
        print(json.dumps(records, indent=2), file=out)
    else:
        if not target.exists():
            errors = [MissingFileError("no such file or directory", path=target)]
        else:
            errors = _print_human(target, out)
    for exc in errors:
        print(f"error: {exc}", file=err)
    return 1 if errors else 0

