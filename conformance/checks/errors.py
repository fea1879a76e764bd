"""Checks of the error taxonomy (spec/chapters/errors.md, ERR-*): crafted and mutated
inputs must be refused with a taxonomy error, and the CLI must report it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from fluidspec.conformance import strategies as fs
from fluidspec.conformance._case import TensorValue, VarSpec
from fluidspec.conformance._context import CheckContext
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
        for _ in range(data.draw(st.integers(1, 3), label="flips")):
            i = data.draw(st.integers(0, len(raw) - 1), label="at")
            raw[i] ^= 1 << data.draw(st.integers(0, 7), label="bit")
        if data.draw(st.booleans(), label="cut"):
            raw = raw[: data.draw(st.integers(0, len(raw)), label="len")]
        out = load_file(ctx, bytes(raw), var=VarSpec("t", shape=None, persistable=True))
        if out.ok:
            return
        if out.error_id in NOT_TAXONOMY:
            err = out.error or {}
            raise fail("ERR-001", f"{out.error_id} ({err.get('type')}: {err.get('message')}) on "
                       f"mutated bytes {bytes(raw[:64]).hex()}")
        err = out.error or {}
        require(bool(err.get("path")) or bool(err.get("var")), "ERR-002",
                f"{out.error_id} names neither the file nor the variable: {err}")

    prop()


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
