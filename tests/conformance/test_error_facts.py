"""ERR-002's exact facts: the table of expected offsets covers every crafted input, and
implementations that misplace an offset or miscount the stray bytes fail ERR-002 — only it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from fluidspec.conformance._case import Call, Outcome, ProgramSpec, Value
from fluidspec.conformance._discovery import resolve
from fluidspec.conformance._helpers import record_count_cases
from fluidspec.conformance._runner import run_suite
from fluidspec.conformance.checks import errors
from fluidspec.conformance.checks.format import BAD_INPUTS

_ERROR_CHECKS = ["error_facts", "mutations_give_taxonomy_errors",
                 *sorted({f"bad_input_{c.lower().replace('-', '_')}" for c, *_ in BAD_INPUTS})]


def test_every_crafted_input_has_its_facts():
    crafted = {what for _, what, _, _ in BAD_INPUTS}
    crafted |= {what for what, _, _, error_id, _ in record_count_cases()
                if error_id in ("TRUNCATED", "TRAILING_BYTES")}
    assert crafted <= set(errors._FACTS), sorted(crafted - set(errors._FACTS))


def test_numbers_are_matched_whole():
    assert errors._states("3 more bytes", 3)
    assert not errors._states("30 bytes", 3)
    assert not errors._states("13 bytes", 3)
    assert errors._states("-1", -1) and not errors._states("1", -1)


class _DamagedErrors:
    """The reference with one fact of every error changed."""

    def __init__(self, name: str, damage: Callable[[dict[str, Any]], None]) -> None:
        self.name, self._damage, self._inner = name, damage, resolve("reference")

    def hello(self) -> dict[str, Any]:
        return self._inner.hello()

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        out = self._inner.run(program, scope, call)
        if out.error is not None:
            self._damage(out.error)
        return out

    def close(self) -> None:
        self._inner.close()


def _offset_plus_one(error: dict[str, Any]) -> None:
    if isinstance(error.get("offset"), int):
        error["offset"] += 1


def _stray_bytes_counted_from_zero(error: dict[str, Any]) -> None:
    if error.get("error") == "TRAILING_BYTES":
        error["found"] = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), str(error["found"]))


@pytest.mark.parametrize("damage", [_offset_plus_one, _stray_bytes_counted_from_zero],
                         ids=lambda f: f.__name__)
def test_wrong_facts_fail_err_002_only(damage):
    report = run_suite([_DamagedErrors(f"damaged-{damage.__name__}", damage)], profile="quick",
                       only=_ERROR_CHECKS)
    failing = {s.clause for s in report.clause_statuses() if s.status == "fail"}
    assert failing == {"ERR-002"}


def test_the_reference_and_numba_give_the_facts():
    report = run_suite(["reference", "numba"], profile="quick", only=["error_facts"])
    statuses = {(s.impl, s.clause): s.status for s in report.clause_statuses()
                if s.clause == "ERR-002"}
    assert statuses == {("reference", "ERR-002"): "pass", ("numba", "ERR-002"): "pass"}
