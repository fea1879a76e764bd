"""Every optional argument of every API is exercised with a value other than its default, and its
effect is judged: an implementation that ignores any one of them (``ignored_argument``) fails
some clause of the suite, in-process and through the subprocess protocol."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ignored_argument import ARGUMENTS, IgnoresArgument, argument_pairs

from fluidspec.conformance._discovery import resolve
from fluidspec.conformance._runner import run_suite
from fluidspec.conformance.checks import all_checks

SERVER = Path(__file__).resolve().parents[1] / "helpers" / "ignoring_argument_server.py"


def _checks_calling(api: str) -> list[str]:
    return [c.id for c in all_checks() if api in c.apis]


def _failing(report) -> set[str]:
    return {s.clause for s in report.clause_statuses() if s.status == "fail"}


def test_the_table_names_every_api_and_only_call_fields_the_protocol_defines():
    from fluidspec.spec import protocol_schema

    call_fields = set(protocol_schema()["$defs"]["call"]["properties"])
    assert set(ARGUMENTS) == set(protocol_schema()["$defs"]["call"]["properties"]["api"]["enum"])
    for api, fields in ARGUMENTS.items():
        assert set(fields) <= call_fields, api


def test_the_reference_honouring_every_argument_passes_those_checks():
    """The control: without the bug the same checks pass, so the failures below are the bug's."""
    report = run_suite(["reference"], profile="quick",
                       only=sorted({cid for api in ARGUMENTS for cid in _checks_calling(api)}))
    assert not _failing(report)


@pytest.mark.parametrize(("api", "field"), argument_pairs(), ids=lambda x: str(x))
def test_ignoring_an_argument_in_process_fails_a_clause(api, field):
    impl = IgnoresArgument(resolve("reference"), api, field)
    report = run_suite([impl], profile="quick", only=_checks_calling(api))
    assert _failing(report), f"{impl.name} passed every check that calls {api}"


@pytest.mark.slow
@pytest.mark.parametrize(("api", "field"), argument_pairs(), ids=lambda x: str(x))
def test_ignoring_an_argument_behind_the_protocol_fails_a_clause(api, field):
    impl = f"cmd:{sys.executable} {SERVER} {api} {field}"
    report = run_suite([impl], profile="quick", only=_checks_calling(api))
    assert _failing(report), f"a server ignoring {api}'s {field} passed every check that calls {api}"
