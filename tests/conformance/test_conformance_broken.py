"""Broken in-process Fluid implementations (``tests/helpers/broken_reference.py``) are each failed by the suite
on exactly their clause, among the MUST clauses of the inference chapter."""

from __future__ import annotations

import pytest
from broken_reference import BROKEN

from fluidspec.conformance._runner import run_suite
from fluidspec.conformance.checks import all_checks

_INFERENCE_CHECKS = [c.id for c in all_checks() if c.id.startswith("inference_")]


@pytest.fixture(scope="module")
def report():
    return run_suite([cls() for cls in BROKEN], profile="quick", only=_INFERENCE_CHECKS)


@pytest.mark.parametrize("cls", list(BROKEN), ids=lambda c: c.__name__)
def test_broken_implementation_fails_on_exactly_its_clause(report, cls):
    failing = {s.clause for s in report.clause_statuses()
               if s.impl == cls.name and s.tier == "MUST" and s.status == "fail"}
    assert failing == {BROKEN[cls]}
