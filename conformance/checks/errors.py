"""Checks of the error taxonomy (spec/chapters/errors.md, ERR-*): crafted and mutated
inputs must be refused with a taxonomy error, and the CLI must report it.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from fluidspec.conformance import strategies as fs
from fluidspec.conformance._case import TensorValue, Value, VarSpec
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._diagnose import diagnose_record
from fluidspec.conformance._helpers import (
    NOT_TAXONOMY,
    load_file,
    save_separate,
)
from fluidspec.conformance._oracle import record_bytes
from fluidspec.conformance._registry import check
from fluidspec.conformance._vector_replay import register_vectors
from fluidspec.conformance._verdict import fail, require


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
