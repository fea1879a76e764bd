"""``fluidspec inspect``: show what saved files hold, record by record, with annotated headers.

A file is read as a stream of dense-tensor records, or as one SelectedRows record when that
fails (FMT-SNIFF-001); program files go to ``fluidspec._program_view`` (PROG-SNIFF-001) and
Paddle 3 PIR ``.json`` programs to ``fluidspec._pir_view``; files of other formats are named by
``fluidspec._detect``.  The records of a combined file are named from the program beside it
(``fluidspec._record_names``).  Files are mapped, not read: only header pages are touched, and
``--values`` reads the data in chunks (``fluidspec._values``).  Only the pure-Python codec is
imported (no numba), so the command starts fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from fluidspec import _detect, _pir_view, _program_view, _record_names
from fluidspec._values import ValueSource, map_file, value_stats
from fluidspec.reference.codec import RecordHeader, read_lod_tensor_header, read_records
from fluidspec.spec.errors import FluidSpecError, MissingFileError, TruncatedError

__all__ = ["FileReport", "scan", "inspect_path", "run"]

_LIST_SHOWN = 8  # longest LoD level / row list the human view prints in full
_HEX_SHOWN = 16  # bytes of a field the human view prints


@dataclass
class FileReport:
    """What inspect found in one file: records, a program view, or the error that stopped it."""

    path: Path
    size: int = 0
    headers: list[RecordHeader] = field(default_factory=list)
    program: dict[str, Any] | None = None
    error: FluidSpecError | None = None
    os_error: str | None = None  # the file could not be read at all (permissions, ...)
    buf: Any = b""  # the file's bytes: an mmap (or b"" when empty)
    names: list[str] | None = None  # of the records, from the program beside a combined file
    note: str | None = None  # why the records are left unnamed
    values: list[dict[str, Any]] | None = None  # --values: statistics per record

    def record_json(self, i: int, h: RecordHeader) -> dict[str, Any]:
        """The ``--json`` object of record ``i``: its header, name and value statistics."""
        out = h.to_json(str(self.path))
        if self.names is not None:
            out = {"path": out.pop("path"), "name": self.names[i], **out}
        if self.values is not None and i < len(self.values):
            out["values"] = self.values[i]
        return out

    def records_json(self) -> list[dict[str, Any]]:
        return [self.record_json(i, h) for i, h in enumerate(self.headers)]


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


def _open(report: FileReport) -> bool:
    """Fill in what the file is when it is not tensor data; True when its records are to be read."""
    file, shown = report.path, str(report.path)
    with file.open("rb") as fh:
        head = fh.read(_detect.HEAD_SIZE)
    report.size = file.stat().st_size
    if report.size == 0:
        report.error = TruncatedError(
            "the file is empty: nothing was saved in it (save it again, or copy it again)",
            path=shown, offset=0, expected="a tensor record", found="0 bytes")
        return False
    if _detect.is_pir_json(head):
        report.program = _pir_view.pir_view(file.read_bytes(), shown)
        return False
    identity = _detect.identify(file, head, report.size)
    if identity is not None:
        report.error = _detect.not_a_tensor_file(identity, shown)
        return False
    # Program files are not tensor records: fluidspec._program_view reads them (PROG-SNIFF-001).
    report.program = _program_view.dispatch(file, shown)
    if report.program is not None:
        return False
    report.buf = map_file(file)
    return True


def _name_records(report: FileReport, program: Path | None) -> None:
    """Names for a combined file's records from ``program`` or the program beside the file."""
    source = program or _record_names.companion_program(report.path)
    if source is None or not report.headers:
        return
    try:
        saved = _record_names.program_names(source)
    except (FluidSpecError, OSError) as exc:
        report.note = f"{source} gives no names: {exc}"
        return
    report.names, report.note = _record_names.match_names(
        saved, [h.dims for h in report.headers], str(source))


def _inspect_file(file: Path, program: Path | None = None, values: bool = False) -> FileReport:
    report = FileReport(file)
    try:
        if not _open(report):
            return report
    except FluidSpecError as exc:
        report.error = exc
        return report
    except OSError as exc:
        report.os_error = f"cannot read {file}: {exc.strerror or exc}"
        return report
    try:
        report.headers = read_records(report.buf, path=str(file))
    except FluidSpecError as exc:
        report.error = exc
        report.headers = _records_before(report.buf, exc.offset)
        return report
    _name_records(report, program)
    if values:
        report.values = [value_stats(ValueSource.of(file, h)) for h in report.headers]
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


def scan(path: str | Path, program: Path | None = None,
         values: bool = False) -> Iterator[FileReport]:
    """One report per file: ``path`` itself, or every file under it in sorted order.

    ``program`` names the records of ``path`` (a file); ``values`` adds value statistics.
    """
    root = Path(path)
    if not root.exists():
        yield FileReport(root, error=MissingFileError("no such file or directory", path=root))
        return
    if root.is_file():
        yield _inspect_file(root, program, values)
        return
    for file in _files_under(root):
        if _detect.is_side_file(file):
            yield FileReport(file, program={
                "path": str(file), "kind": "JitSaveInfo", "size": file.stat().st_size,
                "note": "paddle.jit.save's pickled parameter attributes (Paddle 2.x); no "
                        "variables in it"})
        else:
            yield _inspect_file(file, program, values)


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
            records.extend(report.records_json())
        elif report.program is not None:
            records.append(report.program)
        else:
            records.extend(report.records_json())
    return records, errors


# --------------------------------------------------------------------------------------------
# Human-readable view


def _hex(raw: bytes, size: int) -> str:
    shown = " ".join(f"{b:02x}" for b in raw[:_HEX_SHOWN])
    return shown + (f" … ({size} bytes)" if size > _HEX_SHOWN else "")


def _short(values: list[int]) -> str:
    if len(values) <= _LIST_SHOWN:
        return str(values)
    return f"[{', '.join(map(str, values[:_LIST_SHOWN]))}, … ({len(values)} values)]"


def _annotated_fields(buf: Any, h: RecordHeader) -> list[tuple[int, bytes, int, str]]:
    """(offset, first bytes, size, meaning) for every header field of a record, then its data.

    The fields are those of the grammars in spec/chapters/format.md §1.1 and §1.5.
    """
    out: list[tuple[int, bytes, int, str]] = []

    def add(at: int, size: int, meaning: str) -> None:
        # Only the bytes shown are sliced: a 1 GiB data field is not copied to print 16 of them.
        out.append((at, bytes(buf[at : at + min(size, _HEX_SHOWN)]), size, meaning))

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
    if report.names is not None:
        lines[0] += ", names from the program"
    for i, h in enumerate(report.headers):
        lod = f" lod {_short_lod(h.lod)}" if h.lod else ""
        extra = (f" rows {_short(h.rows or [])} height {h.height}"
                 if h.kind == "SelectedRows" else "")
        name = f" ({report.names[i]})" if report.names is not None else ""
        lines.append(f"  record at {h.offset}{name}: {h.kind} {h.data_type_name} {h.dims}{lod}"
                     f"{extra}, {h.data_nbytes} data bytes at {h.data_offset}")
        if report.values is not None and i < len(report.values):
            lines.append(f"    values: {_render_stats(report.values[i])}")
        for at, raw, size, meaning in _annotated_fields(report.buf, h):
            lines.append(f"    {at:08x}  {_hex(raw, size):<64}  {meaning}")
    return "\n".join(lines)


def _render_stats(stats: dict[str, Any]) -> str:
    return (f"min {stats['min']}, max {stats['max']}, mean {stats['mean']}, "
            f"NaN {stats['nan']}, Inf {stats['inf']}, first {stats['first']}")


def _short_lod(lod: list[list[int]]) -> str:
    return "[" + ", ".join(_short(level) for level in lod) + "]"


# --------------------------------------------------------------------------------------------
# The command


def _report_failure(report: FileReport, as_json: bool, out: TextIO, err: TextIO) -> None:
    if report.headers:  # the good records before the point of failure
        if as_json:
            _write_json_lines(report.records_json(), out)
        else:
            print(_render_file(report), file=out)
    out.flush()  # keep the human view and the errors in file order on a terminal
    print(f"error: {report.error or report.os_error}", file=err)
    hint = lookalike(bytes(report.buf[:8])) if report.error is not None else None
    if hint:
        print(f"  hint: the file looks like {hint}", file=err)


def _render_program(view: dict[str, Any]) -> str:
    if view["kind"] == "JitSaveInfo":
        return f"{view['path']}: {view['note']}, {view['size']} bytes"
    if view["kind"] == "PIRProgram":
        return _pir_view.render_pir(view)
    return _program_view.render_program(view)


def run(path: str, as_json: bool, out: TextIO | None = None, err: TextIO | None = None, *,
        program: Path | None = None, values: bool = False) -> int:
    """The ``inspect`` command; returns the exit status (1 when any file is bad or unreadable).

    Errors go to ``err`` as ``error: ID: message (file, offset, ...; expected ..., found ...)``,
    never as a traceback; ``--json`` output on ``out`` stays valid JSON Lines either way (ERR-003).
    Records left unnamed although a program was there get a ``note:`` line on ``err`` saying why.
    """
    # Looked up per call, not bound at import, so a redirected sys.stdout is honoured.
    out, err = out or sys.stdout, err or sys.stderr
    failed = False
    for report in scan(path, program, values):
        if report.error is not None or report.os_error is not None:
            failed = True
            _report_failure(report, as_json, out, err)
            continue
        if as_json:
            _write_json_lines([report.program] if report.program is not None
                              else report.records_json(), out)
        elif report.program is not None:
            print(_render_program(report.program), file=out)
        else:
            print(_render_file(report), file=out)
        if report.note:
            out.flush()
            print(f"note: {report.note}", file=err)
    return 1 if failed else 0


def _write_json_lines(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    """``--json`` is JSON Lines: one object per line, written as each file is read, so a large
    directory streams and ``head``/``jq -c`` work record by record."""
    for record in records:
        print(json.dumps(record, ensure_ascii=False), file=out)
