"""Compare two saves variable by variable (``fluidspec diff``).

A *save* is a directory of separate files, a combined file, or the bytes of a memory save
written to a file; each is read with ``fluidspec.reference.codec`` into ``name -> SavedVar``:

* a directory: every file that is not a program (PROG-SNIFF-001) is one variable named by its
  path relative to the directory; a file that holds several records (a combined file inside the
  directory) gives ``file#0``, ``file#1``, … unless names are given for it;
* a file: its records in order.  Combined streams carry no names (FMT-COMB-001), so records are
  named ``#0``, ``#1``, … unless names are given — then they are the given names **sorted**, the
  order every saver writes (FMT-COMB-001).  Without ``--names``, a combined file with a program
  beside it (``X.pdmodel``/``X.json`` for ``X.pdiparams``, ``__model__`` for ``__params__``) is
  named from that program when its count and shapes fit (``fluidspec._record_names``).

Programs (``__model__``, ``.pdmodel``, PIR ``.json``) are compared as programs
(``fluidspec._program_diff``): two program files, or the programs at the same relative path in
two directories.  Values are read in chunks (``fluidspec._values``), never whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluidspec import _detect, _pir_view, _program_diff, _program_view, _record_names
from fluidspec._usage import UsageError
from fluidspec._values import ValueSource, compare_sources, map_file
from fluidspec.reference.codec import RecordHeader, read_records
from fluidspec.spec.errors import MissingFileError, RecordCountMismatchError

__all__ = ["SavedVar", "VarChange", "SaveDiff", "read_save", "names_from", "diff_saves"]

@dataclass
class SavedVar:
    """One saved variable as read back: kind, element type, dims, LoD, where its values are."""

    kind: str
    dtype: str
    dims: list[int]
    lod: list[list[int]]
    values: ValueSource
    rows: list[int] | None = None
    height: int | None = None


@dataclass
class VarChange:
    """How one variable present in both saves differs; empty lists/None mean "same"."""

    name: str
    changes: list[str] = field(default_factory=list)
    values_differ: int = 0
    numel: int = 0
    max_abs_diff: float | int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "changes": self.changes,
            "values_differ": self.values_differ,
            "numel": self.numel,
            # JSON has no NaN: a difference involving NaN is the string "nan".
            "max_abs_diff": "nan" if self.max_abs_diff != self.max_abs_diff else self.max_abs_diff,
        }


@dataclass
class SaveDiff:
    """The whole comparison of save A with save B."""

    a: str
    b: str
    only_in_a: list[str]
    only_in_b: list[str]
    changed: list[VarChange]
    same: list[str]
    program_changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        """Variables added, removed or changed, plus differences between the programs."""
        return (len(self.only_in_a) + len(self.only_in_b) + len(self.changed)
                + len(self.program_changes))

    @property
    def equal(self) -> bool:
        return self.differences == 0

    @property
    def summary(self) -> str:
        """The last line of the human view, for CI logs to grep."""
        return "diff: identical" if self.equal else f"diff: {self.differences} difference(s)"

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "equal": self.equal,
            "removed": self.only_in_a,
            "added": self.only_in_b,
            "changed": [c.to_json() for c in self.changed],
            "same": self.same,
            "program_changes": self.program_changes,
            "notes": self.notes,
            "differences": self.differences,
        }

    def render(self) -> str:
        lines = [f"A: {self.a}", f"B: {self.b}"]
        if self.only_in_a:
            lines.append(f"removed (only in A): {', '.join(self.only_in_a)}")
        if self.only_in_b:
            lines.append(f"added (only in B): {', '.join(self.only_in_b)}")
        for c in self.changed:
            parts = list(c.changes)
            if c.values_differ:
                parts.append(f"{c.values_differ} of {c.numel} values differ, "
                             f"max abs difference {c.max_abs_diff}")
            lines.append(f"changed {c.name}: " + "; ".join(parts))
        unnamed = [n for n in self.only_in_a + self.only_in_b if n.startswith("#")]
        if unnamed and len(unnamed) < len(self.only_in_a) + len(self.only_in_b):
            lines.append("hint: a combined file's records have no names (FMT-COMB-001); "
                         "give them with --names to compare them with named variables")
        lines += [f"program: {d}" for d in self.program_changes]
        lines += [f"note: {n}" for n in self.notes]
        verdict = "equal" if self.equal else "different"
        if self.same or self.changed or self.only_in_a or self.only_in_b:  # not two programs
            lines.append(f"{len(self.same)} variable(s) identical; saves are {verdict}")
        lines.append(self.summary)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Reading


def _read_headers(file: Path) -> list[RecordHeader]:
    """The records of ``file``, read from an mmap (only header pages are touched)."""
    shown = str(file)
    with file.open("rb") as fh:
        head = fh.read(_detect.HEAD_SIZE)
    identity = _detect.identify(file, head, file.stat().st_size)
    if identity is not None:
        raise _detect.not_a_tensor_file(identity, shown)
    # The map is not closed here: an error's traceback may still hold views of it; it goes
    # with the last reference (headers hold plain ints and lists, no views).
    return read_records(map_file(file), path=shown)


def _records(file: Path) -> list[SavedVar]:
    """Every record of ``file``, each as a SavedVar (FMT-SNIFF-001 via read_records)."""
    return [SavedVar(h.kind, h.data_type_name, list(h.dims), h.lod if h.kind != "SelectedRows"
                     else [], ValueSource.of(file, h), h.rows, h.height)
            for h in _read_headers(file)]


def _name_records(records: list[SavedVar], names: list[str] | None, prefix: str,
                  shown: str) -> dict[str, SavedVar]:
    if names is None:
        return {f"{prefix}#{i}": r for i, r in enumerate(records)}
    # Savers write each name once, in code-point order (SEL-SAVE-004, FMT-COMB-001).
    names = sorted(set(names))
    if len(names) != len(records):
        raise RecordCountMismatchError(
            "the names given do not match the records in the file", path=shown,
            expected=f"{len(names)} records (one per name)", found=f"{len(records)} records",
        )
    return dict(zip(names, records, strict=True))


def _companion_names(file: Path, records: list[SavedVar]) -> list[str] | None:
    """Names from the program beside a combined file, when they fit its records."""
    program = _record_names.companion_program(file)
    if program is None:
        return None
    names, _ = _record_names.match_names(_record_names.program_names(program),
                                         [r.dims for r in records], str(program))
    return names


def program_of(file: Path) -> dict[str, Any] | None:
    """The view of ``file`` when it is a program (ProgramDesc or PIR JSON), else None."""
    with file.open("rb") as fh:
        head = fh.read(_detect.HEAD_SIZE)
    if _detect.is_pir_json(head):
        return _pir_view.pir_view(file.read_bytes(), str(file))
    return _program_view.dispatch(file, str(file))


def read_save(path: str | Path, names: list[str] | None = None) -> dict[str, SavedVar]:
    """``name -> SavedVar`` for a directory, a combined file or a memory dump (module docstring)."""
    root = Path(path)
    if not root.exists():
        raise MissingFileError("no such file or directory", path=root)
    if root.is_file():
        records = _records(root)
        return _name_records(records, names if names is not None
                             else _companion_names(root, records), "", str(root))
    out: dict[str, SavedVar] = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if _detect.is_side_file(file) or program_of(file) is not None:
            continue  # programs are compared by read_programs
        rel = file.relative_to(root).as_posix()
        records = _records(file)
        given = _companion_names(file, records) if names is None else names
        if len(records) == 1 and (names is not None or given is None):
            out[rel] = records[0]
        else:
            out.update(_name_records(records, given, rel, str(file)))
    return out


def read_programs(path: str | Path) -> dict[str, dict[str, Any]]:
    """``relative path -> program view`` of every program under a directory (or the file)."""
    root = Path(path)
    if root.is_file():
        view = program_of(root)
        return {} if view is None else {root.name: view}
    out = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        view = program_of(file)
        if view is not None:
            out[file.relative_to(root).as_posix()] = view
    return out


def names_from(spec_text: str) -> list[str]:
    """Names for ``--names``: a program file (its saved persistables, as save_inference_model
    writes them; or a PIR ``.json``'s parameters), a text file with one name per line, or a
    comma-separated list."""
    source = Path(spec_text)
    if source.is_file():
        buf = source.read_bytes()
        if (_program_view.is_program_name(source) or _program_view.sniff_program(buf)
                or _detect.is_pir_json(buf[: _detect.HEAD_SIZE])):
            return [n.name for n in _record_names.program_names(source)]
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"--names {source}: neither a program file nor a UTF-8 text file "
                             "of names (one per line)") from None
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [n.strip() for n in spec_text.split(",") if n.strip()]


# --------------------------------------------------------------------------------------------
# Comparing


def _compare(name: str, a: SavedVar, b: SavedVar, atol: float, rtol: float) -> VarChange | None:
    change = VarChange(name)
    if a.kind != b.kind:
        change.changes.append(f"kind {a.kind} -> {b.kind}")
    if a.dtype != b.dtype:
        change.changes.append(f"dtype {a.dtype} -> {b.dtype}")
    if a.dims != b.dims:
        change.changes.append(f"shape {a.dims} -> {b.dims}")
    if a.lod != b.lod:
        change.changes.append(f"lod {a.lod} -> {b.lod}")
    if a.rows != b.rows:
        change.changes.append(f"rows {a.rows} -> {b.rows}")
    if a.height != b.height:
        change.changes.append(f"height {a.height} -> {b.height}")
    # Values are comparable element by element only when type and shape agree.
    if a.dtype == b.dtype and a.dims == b.dims and a.values.count == b.values.count:
        change.numel = a.values.count
        change.values_differ, change.max_abs_diff = compare_sources(a.values, b.values, atol, rtol)
    return change if change.changes or change.values_differ else None


def _compare_programs(a: str | Path, b: str | Path) -> tuple[list[str], list[str]]:
    """(differences, notes) between the programs of two saves, matched by relative path."""
    left, right = read_programs(a), read_programs(b)
    if len(left) == len(right) == 1 and (left.keys() != right.keys() or Path(a).is_file()):
        # One program on each side (two program files; model.pdmodel beside model.json) are
        # the two saves' programs whatever their names.
        left, right = {"program": next(iter(left.values()))}, {"program": next(iter(right.values()))}
    differences = []
    for rel in sorted(left.keys() & right.keys()):
        prefix = "" if rel == "program" else f"{rel}: "
        differences += [prefix + d for d in _program_diff.compare_programs(left[rel], right[rel])]
    # A program beside the data on one side only is a note, not a difference of the variables.
    notes = [f"program {rel} only in A (not compared)" for rel in sorted(left.keys() - right.keys())]
    notes += [f"program {rel} only in B (not compared)" for rel in sorted(right.keys() - left.keys())]
    return differences, notes


def diff_saves(a: str | Path, b: str | Path, names: list[str] | None = None,
               atol: float = 0.0, rtol: float = 0.0) -> SaveDiff:
    """Compare save ``a`` with save ``b``; raises a taxonomy error when either cannot be read.

    Two program files are compared as programs; directories have their variables and their
    programs (matched by relative path) compared.
    """
    a_file_program = Path(a).is_file() and program_of(Path(a)) is not None
    b_file_program = Path(b).is_file() and program_of(Path(b)) is not None
    if a_file_program != b_file_program:
        raise UsageError(f"{a if a_file_program else b} is a program and "
                         f"{b if a_file_program else a} is not: compare a program with a program")
    programs, notes = _compare_programs(a, b)
    if a_file_program:
        return SaveDiff(str(a), str(b), [], [], [], [], programs, notes)
    left, right = read_save(a, names), read_save(b, names)
    changed, same = [], []
    for name in sorted(left.keys() & right.keys()):
        change = _compare(name, left[name], right[name], atol, rtol)
        if change is None:
            same.append(name)
        else:
            changed.append(change)
    return SaveDiff(str(a), str(b), sorted(left.keys() - right.keys()),
                    sorted(right.keys() - left.keys()), changed, same, programs, notes)
