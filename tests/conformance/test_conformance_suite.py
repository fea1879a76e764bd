"""The conformance suite run on the built-in implementations, as CI runs it: every clause passes
for ``reference`` and ``numba`` (when numba_kernels.io exists), and together they exercise every
clause of the spec."""

from __future__ import annotations

import pytest

from fluidspec.conformance._discovery import builtin_names
from fluidspec.conformance._runner import run_suite


@pytest.fixture(scope="module")
def report():
    return run_suite(builtin_names(), profile="ci")


def _failures(report, impl):
    return [(s.clause, s.failure.check, s.failure.message[:300]) for s in report.clause_statuses()
            if s.impl == impl and s.status == "fail" and s.failure is not None]


@pytest.mark.parametrize("impl", builtin_names())
def test_builtin_implementation_passes_every_clause(report, impl):
    if "unavailable" in (report.hello.get(impl) or {}):
        pytest.skip(report.hello[impl]["unavailable"])
    assert _failures(report, impl) == []


def test_builtin_implementations_exercise_every_clause(report):
    coverage = report.summary()["coverage"]
    assert coverage["not_exercised"] == [] and coverage["percent"] == 100.0
    assert not report.failed


def test_cross_implementation_matrix_passes(report):
    matrix = report.matrix()
    available = [i for i in report.impls if "unavailable" not in (report.hello.get(i) or {})]
    if len(available) < 2:
        pytest.skip("one implementation only")
    for writer in available:
        for reader in available:
            if writer != reader:
                assert matrix[writer][reader] == "pass", (writer, reader)
