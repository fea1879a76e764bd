"""A stateful check: save / overwrite / load / corrupt / delete against a model of the directory.

Hypothesis drives random sequences of operations on one directory; the model says what every
load must return — the last saved values, MISSING_FILE after a delete, TRUNCATED after a file is
cut — so bugs that need several steps (stale files, a load that sees an older save, a combined
file not replaced) show up.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from fluidspec.conformance import strategies as fs
from fluidspec.conformance._case import Call, ProgramSpec, TensorValue, Value
from fluidspec.conformance._checks_api import writer_at_fault
from fluidspec.conformance._helpers import expect_error, expect_ok, expect_values, var_for
from fluidspec.conformance._registry import PROFILES, CheckContext, check, require

_DTYPES = {"a": np.float32, "b/c": np.int64, "é": np.float16, "Z9": np.uint8}
_NAMES = list(_DTYPES)


def _values(names: list[str]) -> st.SearchStrategy[dict[str, Value]]:
    return st.fixed_dictionaries({n: fs.tensor_values(dtype=np.dtype(_DTYPES[n]),
                                                      shape=None) for n in names})


@check("SEL-FILE-001", "SEL-FILE-002", "SEL-LOAD-001", "FMT-SAFE-001", "SEL-LOAD-004",
       apis=("save_vars", "load_vars"))
def check_stateful_directory(ctx: CheckContext) -> None:
    """Random save/overwrite/load/corrupt/delete sequences agree with a model of the directory."""
    program = ProgramSpec(vars=tuple(var_for(n, TensorValue(np.zeros(1, _DTYPES[n])), shape=(-1,))
                                     for n in _NAMES))

    class Directory(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.dir = ctx.fresh_dir("state")
            self.files: dict[str, Value] = {}  # separate file -> value it holds
            self.broken: set[str] = set()  # separate files cut short
            self.combined: dict[str, Value] | None = None

        def _save(self, values: dict[str, Value], filename: str | None) -> None:
            call = Call("save_vars", {"dirname": self.dir, "filename": filename,
                                      "vars": list(values), "predicate": None})
            out = ctx.run(program, values, call)
            expect_ok(out, "SEL-FILE-002" if filename else "SEL-FILE-001",
                      f"save of {sorted(values)} (filename={filename})")
            writer_at_fault(values, sorted(values), call, None)  # wrong bytes: say which clause

        @rule(names=st.lists(st.sampled_from(_NAMES), min_size=1, unique=True), data=st.data())
        def save_separate(self, names: list[str], data: st.DataObject) -> None:
            values = data.draw(_values(names))
            self._save(values, None)
            self.files.update(values)
            self.broken -= set(names)

        @rule(names=st.lists(st.sampled_from(_NAMES), min_size=1, unique=True), data=st.data())
        def save_combined(self, names: list[str], data: st.DataObject) -> None:
            values = data.draw(_values(names))
            self._save(values, "__params__")
            self.combined = values

        @rule(names=st.lists(st.sampled_from(_NAMES), min_size=1, unique=True))
        def load_separate(self, names: list[str]) -> None:
            out = ctx.run(program, {}, Call("load_vars", {"dirname": self.dir, "filename": None,
                                                          "vars": names, "predicate": None}))
            missing = [n for n in names if n not in self.files]
            cut = self.broken & set(names)
            if missing:  # with a cut file selected too, either problem may be reported first
                expect_error(out, ("MISSING_FILE", "TRUNCATED") if cut else "MISSING_FILE",
                             "SEL-LOAD-001", f"load of {names}, {missing} never saved or deleted")
            elif self.broken & set(names):
                expect_error(out, "TRUNCATED", "FMT-SAFE-001", f"load of {names} after cutting "
                             f"{sorted(self.broken & set(names))}")
            else:
                expect_ok(out, "SEL-FILE-001", f"load of {names}")
                expect_values({n: self.files[n] for n in names}, out.scope, None,
                              f"separate load of {names}")

        @rule(data=st.data())
        def load_combined(self, data: st.DataObject) -> None:
            if self.combined is None:
                return
            same = data.draw(st.booleans(), label="same names")
            names = list(self.combined) if same else data.draw(
                st.lists(st.sampled_from(_NAMES), min_size=1, unique=True), label="names")
            out = ctx.run(program, {}, Call("load_vars", {"dirname": self.dir,
                                                          "filename": "__params__",
                                                          "vars": names, "predicate": None}))
            if sorted(names) == sorted(self.combined):
                expect_ok(out, "SEL-FILE-002", f"combined load of {names}")
                expect_values(self.combined, out.scope, None, "combined load")
            elif len(names) != len(self.combined):
                require(not out.ok, "SEL-LOAD-004", f"combined load of {len(names)} names from a "
                        f"file of {len(self.combined)} records succeeded")

        @rule(name=st.sampled_from(_NAMES), data=st.data())
        def cut(self, name: str, data: st.DataObject) -> None:
            path = Path(self.dir, name)
            if name not in self.files or name in self.broken:
                return
            raw = path.read_bytes()
            path.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1), label="keep")])
            self.broken.add(name)

        @rule(name=st.sampled_from(_NAMES))
        def delete(self, name: str) -> None:
            if name in self.files:
                os.remove(Path(self.dir, name))
                del self.files[name]
                self.broken.discard(name)

        @invariant()
        def no_stray_files(self) -> None:
            if not os.path.isdir(self.dir):
                return
            found = {str(p.relative_to(self.dir)) for p in Path(self.dir).rglob("*") if p.is_file()}
            allowed = set(self.files) | ({"__params__"} if self.combined is not None else set())
            require(found <= allowed, "SEL-FILE-001", f"unexpected files {sorted(found - allowed)}")

    prof = PROFILES[ctx.profile]
    run_state_machine_as_test(Directory, settings=settings(
        max_examples=max(2, prof["max_examples"] // 2),
        stateful_step_count=12 if ctx.profile != "quick" else 8,
        derandomize=prof["derandomize"], deadline=None, database=None,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate]
        + ([Phase.shrink] if prof.get("shrink", True) else [])))
