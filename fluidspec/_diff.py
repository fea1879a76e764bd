"""Compare two saves variable by variable (``fluidspec diff``).

A *save* is a directory of separate files, a combined file, or the bytes of a memory save
written to a file; each is read with ``fluidspec.reference.codec`` into ``name -> SavedVar``:

* a directory: every file that is not a program (PROG-SNIFF-001) is one variable named by its
  path relative to the directory; a file that holds several records (a combined file inside the
  directory) gives ``file#0``, ``file#1``, … unless names are given for it;
* a file: its records in order.  Combined streams carry no names (FMT-COMB-001), so records are
  named ``#0``, ``#1``, … unless names are given — then they are the given names **sorted**, the
  order every saver writes (FMT-COMB-001).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec import _program_view
from fluidspec._usage import UsageError
from fluidspec.reference.codec import decode_lod_tensor, decode_selected_rows, read_records
from fluidspec.spec.errors import MissingFileError, RecordCountMismatchError

__all__ = ["SavedVar", "VarChange", "SaveDiff", "read_save", "names_from", "diff_saves"]

# Variable kinds a saver never writes (SEL-*: feed/fetch holders and raw vars are not data).
_NOT_SAVED = {"FEED_MINIBATCH", "FETCH_LIST", "RAW", "READER", "STEP_SCOPES"}


@dataclass
class SavedVar:
    """One saved variable as read back: kind, element type, dims, LoD, values."""

    kind: str
    dtype: str
    dims: list[int]
    lod: list[list[int]]
    array: np.ndarray
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

    @property
    def equal(self) -> bool:
        return not (self.only_in_a or self.only_in_b or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "equal": self.equal,
            "removed": self.only_in_a,
            "added": self.only_in_b,
            "changed": [c.to_json() for c in self.changed],
            "same": self.same,
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
        verdict = "equal" if self.equal else "different"
        lines.append(f"{len(self.same)} variable(s) identical; saves are {verdict}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Reading


def _records(buf: bytes, shown: str) -> list[SavedVar]:
    """Every record of ``buf`` decoded, each as a SavedVar (FMT-SNIFF-001 via read_records)."""
    out = []
    for h in read_records(buf, path=shown):
        if h.kind == "SelectedRows":
            sr = decode_selected_rows(buf, h.offset, path=shown, copy=False)
            out.append(SavedVar(h.kind, h.data_type_name, list(h.dims), [], sr.array,
                                list(sr.rows), sr.height))
        else:
            t = decode_lod_tensor(buf, h.offset, path=shown, copy=False)
            out.append(SavedVar(h.kind, h.data_type_name, list(h.dims), t.lod, t.array))
    return out


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


def read_save(path: str | Path, names: list[str] | None = None) -> dict[str, SavedVar]:
    """``name -> SavedVar`` for a directory, a combined file or a memory dump (module docstring)."""
    root = Path(path)
    if not root.exists():
        raise MissingFileError("no such file or directory", path=root)
    if root.is_file():
        return _name_records(_records(root.read_bytes(), str(root)), names, "", str(root))
    out: dict[str, SavedVar] = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if _program_view.dispatch(file, str(file)) is not None:
            continue  # programs are not variables
        rel = file.relative_to(root).as_posix()
        records = _records(file.read_bytes(), str(file))
        if len(records) == 1:
            out[rel] = records[0]
        else:
            out.update(_name_records(records, names, rel, str(file)))
    return out


def names_from(spec_text: str) -> list[str]:
    """Names for ``--names``: a program file (its saved persistables, as save_inference_model
    writes them), a text file with one name per line, or a comma-separated list."""
    source = Path(spec_text)
    if source.is_file():
        buf = source.read_bytes()
        if _program_view.is_program_name(source) or _program_view.sniff_program(buf):
            view = _program_view.program_view(buf, str(source))
            return [v["name"] for v in view["blocks"][0]["vars"]
                    if v["persistable"] and v["kind"] not in _NOT_SAVED]
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"--names {source}: neither a program file nor a UTF-8 text file "
                             "of names (one per line)") from None
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [n.strip() for n in spec_text.split(",") if n.strip()]


# --------------------------------------------------------------------------------------------
# Comparing


def _compare_values(a: np.ndarray, b: np.ndarray, atol: float) -> tuple[int, Any]:
    """(number of elements that differ by more than ``atol``, their max abs difference).

    Integers are subtracted in unsigned 64-bit so that no difference overflows; floating types
    (including bfloat16/float8, whose numpy kind is "V") in float64 or complex128, where NaN
    equals NaN and NaN versus a number differs (its difference is reported as nan).
    """
    if a.dtype.kind == "b":
        count = int(np.count_nonzero(a != b))
        return count, (1 if count else None)
    if a.dtype.kind in "iu":
        wide = np.uint64
        diff = np.where(a >= b, a.astype(wide) - b.astype(wide), b.astype(wide) - a.astype(wide))
        differ = diff > atol
        count = int(np.count_nonzero(differ))
        return count, (int(diff[differ].max()) if count else None)
    wide_t = np.complex128 if a.dtype.kind == "c" else np.float64
    fa, fb = a.astype(wide_t), b.astype(wide_t)
    nan_a, nan_b = np.isnan(fa), np.isnan(fb)
    diff = np.abs(np.where(nan_a | nan_b, 0, fa - fb))
    differ = (nan_a ^ nan_b) | (diff > atol)
    count = int(np.count_nonzero(differ))
    if not count:
        return 0, None
    if np.any(nan_a ^ nan_b):
        return count, float("nan")
    return count, float(diff[differ].max())


def _compare(name: str, a: SavedVar, b: SavedVar, atol: float) -> VarChange | None:
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
    if a.dtype == b.dtype and a.dims == b.dims:
        change.numel = int(a.array.size)
        change.values_differ, change.max_abs_diff = _compare_values(a.array, b.array, atol)
    return change if change.changes or change.values_differ else None


def diff_saves(a: str | Path, b: str | Path, names: list[str] | None = None,
               atol: float = 0.0) -> SaveDiff:
    """Compare save ``a`` with save ``b``; raises a taxonomy error when either cannot be read."""
    left, right = read_save(a, names), read_save(b, names)
    changed, same = [], []
    for name in sorted(left.keys() & right.keys()):
        change = _compare(name, left[name], right[name], atol)
        if change is None:
            same.append(name)
        else:
            changed.append(change)
    return SaveDiff(str(a), str(b), sorted(left.keys() - right.keys()),
                    sorted(right.keys() - left.keys()), changed, same)

