"""``fluidspec inspect``: show what saved files hold, record by record, with annotated headers.

A file is read as a stream of dense-tensor records, or as one SelectedRows record when that
fails (FMT-SNIFF-001); program files go to ``fluidspec._program_view`` (PROG-SNIFF-001).  Only
the pure-Python codec is imported (no numba), so the command starts fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from fluidspec import _program_view
from fluidspec.reference.codec import RecordHeader, read_lod_tensor_header, read_records
from fluidspec.spec.errors import FluidSpecError, MissingFileError

__all__ = ["FileReport", "scan", "inspect_path", "run"]

_LIST_SHOWN = 8  # longest LoD level / row list the human view prints in full


@dataclass
class FileReport:
    """What inspect found in one file: records, a program view, or the error that stopped it."""

    path: Path
    size: int = 0
    headers: list[RecordHeader] = field(default_factory=list)
    program: dict[str, Any] | None = None
    error: FluidSpecError | None = None
    os_error: str | None = None  # the file could not be read at all (permissions, ...)
    buf: bytes = b""


# Formats people mistake for Fluid tensor files (paddle.save's pickle, python/paddle/framework/io.py
# in Paddle v2.6.2; numpy, zip and HDF5 containers): the codec's error stands; inspect adds what the bytes look like instead.
_LOOKALIKES: tuple[tuple[bytes, str], ...] = (
    *((bytes([0x80, protocol]), "a Python pickle (what paddle.save writes, e.g. a .pdparams "
       "state dict); read it with paddle.load, not load_vars") for protocol in range(2, 6)),
    (b"\x93NUMPY", "a numpy .npy file"),
    (b"PK\x03\x04", "a zip archive (numpy .npz, torch.save, ...)"),
    (b"\x89HDF", "an HDF5 file"),
)


def lookalike(buf: bytes) -> str | None:
    """What a file that is not tensor data looks like, when its first bytes say so."""
    for magic, meaning in _LOOKALIKES:
        if buf.startswith(magic):
            return meaning
    return None


def _files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def _inspect_file(file: Path) -> FileReport:
    shown = str(file)
    report = FileReport(file)
    try:
        # Program files are not tensor records: fluidspec._program_view reads them (PROG-SNIFF-001).
        report.program = _program_view.dispatch(file, shown)
        if report.program is not None:
            return report
        report.buf = file.read_bytes()
    except FluidSpecError as exc:
        report.error = exc
        return report
    except OSError as exc:
        report.os_error = f"cannot read {shown}: {exc.strerror or exc}"
        return report
    report.size = len(report.buf)
    try:
        report.headers = read_records(report.buf, path=shown)
    except FluidSpecError as exc:
        report.error = exc
        report.headers = _records_before(report.buf, exc.offset)
    return report


def _records_before(buf: bytes, offset: int | None) -> list[RecordHeader]:
    """The dense-tensor records that end at or before ``offset``, where a stream went bad.

    A combined file that breaks at its 40th record still shows the 39 good ones (ERR-003), and
    where the bad one starts: the usual sign of a stream cut short or read out of step.
    """
    headers: list[RecordHeader] = []
    pos = 0
    while offset is not None and pos < offset:
        try:
            header = read_lod_tensor_header(buf, pos)
        except FluidSpecError:
            break
        if header.end > offset:
            break
        headers.append(header)
        pos = header.end
    return headers


def scan(path: str | Path) -> Iterator[FileReport]:
    """One report per file: ``path`` itself, or every file under it in sorted order."""
    root = Path(path)
    if not root.exists():
        yield FileReport(root, error=MissingFileError("no such file or directory", path=root))
        return
    for file in [root] if root.is_file() else _files_under(root):
        yield _inspect_file(file)


def inspect_path(path: str | Path) -> tuple[list[dict[str, Any]], list[FluidSpecError]]:
    """Records (as ``--json`` objects) of a file or of every file under a directory, and errors.

    A file that goes bad part-way still contributes the records before the bad one.

    Program files (``__model__``, ``*.pdmodel``, PROG-SNIFF-001) give one ``"kind":
    "ProgramDesc"`` object each, made by ``fluidspec._program_view``.
    """
    records: list[dict[str, Any]] = []
    errors: list[FluidSpecError] = []
    for report in scan(path):
        if report.error is not None:
            errors.append(report.error)
            records.extend(h.to_json(str(report.path)) for h in report.headers)
        elif report.program is not None:
            records.append(report.program)
        else:
            records.extend(h.to_json(str(report.path)) for h in report.headers)
    return records, errors


# --------------------------------------------------------------------------------------------
# Human-readable view


def _hex(raw: bytes, limit: int = 16) -> str:
    shown = " ".join(f"{b:02x}" for b in raw[:limit])
    return shown + (f" … ({len(raw)} bytes)" if len(raw) > limit else "")


def _short(values: list[int]) -> str:
    if len(values) <= _LIST_SHOWN:
        return str(values)
    return f"[{', '.join(map(str, values[:_LIST_SHOWN]))}, … ({len(values)} values)]"


def _annotated_fields(buf: bytes, h: RecordHeader) -> list[tuple[int, bytes, str]]:
    """(offset, bytes, meaning) for every header field of a record, then its data.

    The fields are those of the grammars in spec/chapters/format.md §1.1 and §1.5.
    """
    out: list[tuple[int, bytes, str]] = []

    def add(at: int, size: int, meaning: str) -> None:
        out.append((at, buf[at : at + size], meaning))

    if h.kind == "SelectedRows":
        rows = h.rows or []
        add(h.offset, 4, f"SelectedRows version = {h.version}")
        add(h.offset + 4, 8, f"row count = {len(rows)}")
        if rows:
            add(h.offset + 12, 8 * len(rows), f"rows = {_short(rows)}")
        add(h.desc_offset - 8, 8, f"height = {h.height}")
    else:
        add(h.offset, 4, f"LoD-tensor version = {h.version}")
        add(h.lod_offset, 8, f"LoD levels = {len(h.lod)}")
        at = h.lod_offset + 8
        for i, level in enumerate(h.lod):
            add(at, 8, f"level {i} byte size = {8 * len(level)}")
            if level:
                add(at + 8, 8 * len(level), f"level {i} offsets = {_short(level)}")
            at += 8 + 8 * len(level)
    add(h.desc_offset, 4, f"tensor version = {h.tensor_version}")
    add(h.desc_offset + 4, 4, f"TensorDesc size = {h.desc_size}")
    add(h.desc_offset + 8, h.desc_size,
        f"TensorDesc: data_type {h.data_type} ({h.data_type_name}), dims {h.dims}")
    if h.data_nbytes:
        add(h.data_offset, h.data_nbytes, f"data ({h.data_nbytes} bytes)")
    return out


def _render_file(report: FileReport) -> str:
    if report.error is not None:
        lines = [f"{report.path}: {len(report.headers)} good record(s), then the error at offset "
                 f"{report.error.offset}, {report.size} bytes"]
    else:
        lines = [f"{report.path}: {len(report.headers)} record(s), {report.size} bytes"]
    for h in report.headers:
        lod = f" lod {_short_lod(h.lod)}" if h.lod else ""
        extra = (f" rows {_short(h.rows or [])} height {h.height}"
                 if h.kind == "SelectedRows" else "")
        lines.append(f"  record at {h.offset}: {h.kind} {h.data_type_name} {h.dims}{lod}{extra}, "
                     f"{h.data_nbytes} data bytes at {h.data_offset}")
        for at, raw, meaning in _annotated_fields(report.buf, h):
            lines.append(f"    {at:08x}  {_hex(raw):<64}  {meaning}")
    return "\n".join(lines)


def _short_lod(lod: list[list[int]]) -> str:
    return "[" + ", ".join(_short(level) for level in lod) + "]"


# --------------------------------------------------------------------------------------------
# The command


def run(path: str, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The ``inspect`` command; returns the exit status (1 when any file is bad or unreadable).

    Errors go to ``err`` as ``error: ID: message (file, offset, ...; expected ..., found ...)``,
    never as a traceback; ``--json`` output on ``out`` stays valid JSON Lines either way (ERR-003).
    """
    failed = False
    for report in scan(path):
        records: list[dict[str, Any]] = []
        if report.error is not None or report.os_error is not None:
            failed = True
            if report.headers:  # the good records before the point of failure
                if as_json:
                    _write_json_lines((h.to_json(str(report.path)) for h in report.headers), out)
                else:
                    print(_render_file(report), file=out)
            out.flush()  # keep the human view and the errors in file order on a terminal
            print(f"error: {report.error or report.os_error}", file=err)
            hint = lookalike(report.buf) if report.error is not None else None
            if hint:
                print(f"  hint: the file looks like {hint}", file=err)
        elif as_json:
            if report.program is not None:
                records.append(report.program)
            else:
                records.extend(h.to_json(str(report.path)) for h in report.headers)
        elif report.program is not None:
            print(_program_view.render_program(report.program), file=out)
        else:
            print(_render_file(report), file=out)
        _write_json_lines(records, out)
    return 1 if failed else 0


def _write_json_lines(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    """``--json`` is JSON Lines: one object per line, written as each file is read, so a large
    directory streams and ``head``/``jq -c`` work record by record."""
    for record in records:
        print(json.dumps(record, ensure_ascii=False), file=out)
