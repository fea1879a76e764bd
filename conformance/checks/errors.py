"""Checks of the error taxonomy (spec/chapters/errors.md, ERR-*): crafted and mutated
inputs must be refused with a taxonomy error, and the CLI must report it.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from fluidspec.conformance import strategies as fs
from fluidspec.conformance._case import Outcome, SelectedRowsValue, TensorValue, Value, VarSpec
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._diagnose import diagnose_record
from fluidspec.conformance._helpers import (
    NOT_TAXONOMY,
    load_combined,
    load_file,
    record_count_cases,
    save_separate,
)
from fluidspec.conformance._oracle import record_bytes, selected_rows_bytes
from fluidspec.conformance._registry import check
from fluidspec.conformance._vector_replay import register_vectors
from fluidspec.conformance._verdict import Skip, fail, require
from fluidspec.conformance.checks.format import BAD_INPUTS, SR_VAR


@check("ERR-001", "ERR-002", apis=("load_vars",))
def check_mutations_give_taxonomy_errors(ctx: CheckContext) -> None:
    """Bit flips and cuts of valid files give a taxonomy error naming the file — or load."""

    @ctx.given(fs.tensor_values(paddle2=True), st.data())
    def prop(value: TensorValue, data: st.DataObject) -> None:
        raw = bytearray(record_bytes(value.array, value.lod))
        desc_span = _desc_span(bytes(raw), value.lod)
        flipped = []
        for _ in range(data.draw(st.integers(1, 3), label="flips")):
            i = data.draw(st.integers(0, len(raw) - 1), label="at")
            raw[i] ^= 1 << data.draw(st.integers(0, 7), label="bit")
            flipped.append(i)
        whole = not data.draw(st.booleans(), label="cut")
        if not whole:
            raw = raw[: data.draw(st.integers(0, len(raw)), label="len")]
        out = load_file(ctx, bytes(raw), var=VarSpec("t", shape=None, persistable=True))
        if out.ok:
            if whole and not any(i in desc_span for i in flipped):
                _judge_accepted(bytes(raw), out.scope.get("t"))
            return
        if out.error_id in NOT_TAXONOMY:
            err = out.error or {}
            raise fail("ERR-001", f"{out.error_id} ({err.get('type')}: {err.get('message')}) on "
                       f"mutated bytes {bytes(raw[:64]).hex()}")
        err = out.error or {}
        require(bool(err.get("path")) or bool(err.get("var")), "ERR-002",
                f"{out.error_id} names neither the file nor the variable: {err}")

    prop()


def _desc_span(raw: bytes, lod: list[list[int]]) -> range:
    """Where the desc size and the TensorDesc lie: a flip there may leave a valid but differently
    encoded desc (FMT-DESC-002), which need not re-encode to the same bytes."""
    at = 12 + sum(8 + 8 * len(level) for level in lod) + 4
    return range(at, at + 4 + struct.unpack_from("<i", raw, at)[0])


def _judge_accepted(raw: bytes, loaded: Value | None) -> None:
    """A whole file with a canonical desc that loads must load as exactly what it says: writing
    the loaded value again gives the same bytes.  An accepted flip of a version byte, or a value
    read from the wrong place, fails here instead of counting as a pass."""
    if not isinstance(loaded, TensorValue):
        raise fail("ERR-001", f"the load of mutated bytes {raw[:64].hex()} succeeded without a "
                              f"tensor value")
    again = record_bytes(np.asarray(loaded.array), loaded.lod)
    if again != raw:
        diag = diagnose_record(again, raw)
        clause, why = diag if diag else ("ERR-001", "other bytes")
        raise fail(clause, f"mutated bytes {raw[:64].hex()} loaded as a value whose record "
                           f"differs from them: {why}")


# ERR-002's facts for each crafted input of the format checks (and a few more below): the
# offset the error must give, and the numbers its ``found`` / ``expected`` must state.  The
# offsets follow from the record layout (format.md §1.1): the LoD-tensor version at 0, the level
# count at 4, the tensor version at 12, the desc size at 16, the desc at 20 (no LoD).
_FACTS: dict[str, tuple[int, int | None, int | None]] = {
    # what: (offset, found, expected)
    "LoD-tensor version 1": (0, 1, None),
    "tensor version 2": (12, 2, None),
    "LoD-tensor version 0x00000100": (0, 0x100, None),
    "LoD-tensor version 0x01000000": (0, 0x01000000, None),
    "tensor version 0x00000100": (12, 0x100, None),
    "tensor version 0x01000000": (12, 0x01000000, None),
    "desc size larger than the file": (20, 30, 4000),
    "desc is not protobuf": (20, None, None),
    "desc without data_type": (20, None, None),
    "data_type 99": (20, None, None),
    "negative desc size": (16, -1, None),
    "desc size one past the end": (20, 6, 7),
    "data_type LOD_TENSOR (7)": (20, 7, None),
    "data_type STRING (25)": (20, 25, None),
    "LoD level of 12 bytes": (12, 12, None),
    "LoD [[0,5,3]] on 2 rows": (4, None, None),
    "LoD ending past the rows": (4, None, None),
    "LoD [[0,2,1,2]] on 2 rows (decreasing)": (4, None, None),
    "LoD [[0,1],[0,1,2]] on 2 rows (levels disagree)": (4, None, None),
    "level count 2**60": (4, None, 1 << 60),
    "level byte size 2**40": (20, 38, 1 << 40),
    "negative dim": (20, None, None),
    "dims [2**62, 4] (product wraps to 0)": (20, None, None),
    "dims [2**20, 2**20] with no data": (30, 0, 1 << 42),
    "a Git LFS pointer": (0, None, None),
    "a Git LFS pointer cut after 4 bytes": (0, None, None),
    "a Git LFS pointer cut after 9 bytes": (0, None, None),
    "text 'version 2' (not a pointer)": (0, 0x73726576, None),
    "a separate file with 3 extra bytes": (50, 3, None),
    "a TensorDesc of 65 dims": (20, 65, None),
    # record_count_cases(): two records of 34 bytes each, the second's data at 60.
    "a combined stream whose last record is cut inside its data": (60, 6, 8),
    "2 records followed by 2 stray bytes": (68, 2, None),
    "2 records followed by a whole record and a cut one": (68, 49, None),
    "2 records followed by two whole records and a cut one": (68, 89, None),
    "a separate file with 60 extra bytes": (50, 60, None),
    # SelectedRows (2 rows): version 0..4, row count 4..12, rows 12..28, height 28..36, then
    # the tensor; 66 bytes in all.
    "a SelectedRows file with 70 extra bytes": (66, 70, None),
    "a SelectedRows claiming 9 rows in 54 bytes": (4, 54, None),
}


def _states(text: object, number: int) -> bool:
    """``text`` holds ``number`` as a whole decimal number (``3`` is not in ``30 bytes``)."""
    return re.search(rf"(?<![\d-]){re.escape(str(number))}(?!\d)", str(text or "")) is not None


def _fact_problems(what: str, error: dict, facts: tuple[int, int | None, int | None]) -> list[str]:
    offset, found, expected = facts
    problems = []
    if error.get("offset") != offset:
        problems.append(f"offset {error.get('offset')!r}, expected {offset}")
    if found is not None and not _states(error.get("found"), found):
        problems.append(f"found {error.get('found')!r} does not state {found}")
    if expected is not None and not _states(error.get("expected"), expected):
        problems.append(f"expected {error.get('expected')!r} does not state {expected}")
    return [f"{what}: {p}" for p in problems]


@check("ERR-002", apis=("load_vars",))
def check_error_facts(ctx: CheckContext) -> None:
    """The offset, expected and found of each refusal of a crafted input are the exact facts
    ERR-002 defines — judged wherever the input is refused with the error its clause names."""
    judged: list[str] = []
    problems: list[str] = []

    def judge(what: str, out: Outcome, ids: tuple[str, ...]) -> None:
        if out.ok or out.error_id not in ids:  # the format clause's failure, judged there
            return
        judged.append(what)
        problems.extend(_fact_problems(what, out.error or {}, _FACTS[what]))

    for _clause, what, raw, ids in BAD_INPUTS:
        judge(what, load_file(ctx, raw, var=VarSpec("t", shape=(-1, 3), persistable=True)), ids)
    for what, raw, vars_, error_id, _clause in record_count_cases():
        if what in _FACTS:
            for memory in (False, True):
                judge(what, load_combined(ctx, raw, vars_, memory=memory), (error_id,))
    if "selected_rows" in ctx.claims:
        sr = selected_rows_bytes(SelectedRowsValue(np.ones((2, 2), np.float32), [0, 3], 5))
        for what, raw, ids in (
                # More stray bytes than the record holds, so (file size) % (record end) is not
                # the count a reader must report.
                ("a SelectedRows file with 70 extra bytes", sr + b"\0" * 70, ("TRAILING_BYTES",)),
                ("a SelectedRows claiming 9 rows in 54 bytes",
                 sr[:4] + struct.pack("<Q", 9) + sr[12:], ("TRUNCATED",))):
            judge(what, load_file(ctx, raw, name="sr", var=SR_VAR), ids)
    if not judged:
        raise Skip("no crafted input was refused with the error its clause names; "
                   "there were no facts to judge")
    if problems:
        raise fail("ERR-002", f"{len(problems)} of the errors for crafted inputs give other "
                              f"facts: " + "; ".join(problems[:6]))


@check("ERR-003", apis=("save_vars",))
def check_cli_reports_errors(ctx: CheckContext) -> None:
    """``fluidspec inspect`` on a cut file the implementation wrote: one error line, exit != 0."""
    import subprocess
    import sys

    values = {"t": TensorValue(np.arange(6, dtype=np.float32).reshape(2, 3))}
    d = save_separate(ctx, values)
    path = Path(d, "t")
    path.write_bytes(path.read_bytes()[:-5])
    proc = subprocess.run([sys.executable, "-m", "fluidspec", "inspect", str(path)],
                          capture_output=True, text=True, timeout=60)
    require(proc.returncode != 0, "ERR-003", "inspect of a truncated file exited 0")
    require("Traceback" not in proc.stderr, "ERR-003", f"inspect printed a traceback: {proc.stderr}")
    require(any(line.startswith("error: TRUNCATED: ") for line in proc.stderr.splitlines()),
            "ERR-003", f"no 'error: TRUNCATED: …' line on stderr: {proc.stderr[-300:]!r}")


register_vectors("ERR")
