"""Meta-tests of the conformance suite: every clause is checked, the checks can fail, and a toy
implementation that breaks one MUST clause is reported failing on exactly that clause."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fluidspec import spec
from fluidspec.conformance._case import PROTOCOL
from fluidspec.conformance._runner import run_suite
from fluidspec.conformance.checks import all_checks as checks
from fluidspec.conformance.toys import ALSO_FAILS, BROKEN, BROKEN_SHOULD, ToyAdapter

ROOT = Path(__file__).resolve().parents[2]


def test_every_clause_has_a_check():
    registered = {c for chk in checks() for c in chk.clauses}
    missing = [c.id for c in spec.clauses() if c.id not in registered]
    assert not missing, f"clauses without a conformance check: {missing}"


def test_every_check_names_existing_clauses():
    ids = {c.id for c in spec.clauses()}
    for chk in checks():
        assert chk.clauses and set(chk.clauses) <= ids, (chk.id, chk.clauses)


@pytest.fixture(scope="module")
def toy_report():
    return run_suite([ToyAdapter(), *(cls() for cls in BROKEN), *(cls() for cls in BROKEN_SHOULD)],
                     profile="quick")


def _must_failures(report, impl):
    return {s.clause for s in report.clause_statuses()
            if s.impl == impl and s.tier == "MUST" and s.status == "fail"}


def test_correct_toy_passes_every_must_clause(toy_report):
    assert _must_failures(toy_report, ToyAdapter.name) == set()
    passed = {s.clause for s in toy_report.clause_statuses()
              if s.impl == ToyAdapter.name and s.status == "pass"}
    assert {"FMT-COMB-001", "FMT-REC-001", "SEL-CAND-001", "SEL-LOAD-002"} <= passed


@pytest.mark.parametrize("cls", list(BROKEN), ids=lambda c: c.__name__)
def test_broken_toy_fails_on_exactly_its_clause(toy_report, cls):
    failing = _must_failures(toy_report, cls.name)
    assert BROKEN[cls] in failing
    assert failing - {BROKEN[cls]} <= ALSO_FAILS.get(cls, frozenset())


@pytest.mark.parametrize("cls", list(BROKEN_SHOULD), ids=lambda c: c.__name__)
def test_toy_broken_on_a_should_clause_fails_it_and_no_must_clause(toy_report, cls):
    failing = {s.clause for s in toy_report.clause_statuses()
               if s.impl == cls.name and s.status == "fail"}
    assert BROKEN_SHOULD[cls] in failing
    assert _must_failures(toy_report, cls.name) == set()


def test_known_failures_excuse_should_clauses_and_stale_entries_are_reported(tmp_path):
    # The toy writes files in place (fails SAFE-ATOMIC-001, a SHOULD) and passes FMT-COMB-003.
    (tmp_path / "toy.txt").write_text("# known\nSAFE-ATOMIC-001 writes in place\n"
                                      "FMT-COMB-003 was broken once\nFMT-COMB-001 MUST: never excused\n")
    report = run_suite([ToyAdapter()], only=["overwrite_by_rename",
                                             "bad_input_fmt_comb_003", "write_combined_bytes"],
                       known_failures_dir=tmp_path)
    status = {s.clause: s.status for s in report.clause_statuses()}
    assert status["SAFE-ATOMIC-001"] == "known"
    assert status["FMT-COMB-003"] == "stale"
    assert status["FMT-COMB-001"] == "pass"
    assert report.summary()["stale_known_failures"] == ["toy:FMT-COMB-003"]
    assert not report.failed


def test_report_json_has_summary_and_per_clause_results(toy_report):
    data = toy_report.to_json()
    assert data["schema"] == "fluidspec-conformance-report/1"
    summary = data["summary"]
    assert summary["coverage"]["clauses"] == len(spec.clauses())
    assert summary["coverage"]["without_a_check"] == []
    assert summary["per_implementation"]["toy"]["MUST"]["fail"] == 0
    assert summary["per_implementation"]["toy-version-1"]["MUST"]["fail"] == 1
    row = next(c for c in data["clauses"] if c["id"] == "FMT-COMB-001")
    failure = row["results"]["toy-unsorted-combined"]["failure"]
    assert failure["clause"] == "FMT-COMB-001" and "--check" in failure["reproduce"]
    json.dumps(data)  # serialisable


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fluidspec", "conformance", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_exit_status_table_and_json(tmp_path):
    bad = _cli("--impl", "fluidspec.conformance.toys:BrokenUnsortedCombined", "--check",
               "write_combined_bytes", "--json", str(tmp_path / "r.json"))
    assert bad.returncode == 1, bad.stderr
    assert "FMT-COMB-001" in bad.stdout and "FAIL" in bad.stdout and "reproduce:" in bad.stdout
    assert "[1/1]" in bad.stderr  # progress
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["must_failures"] == 1
    good = _cli("--impl", "fluidspec.conformance.toys:ToyAdapter", "--check", "write_combined_bytes",
                "--quiet")
    assert good.returncode == 0 and "RESULT: ok" in good.stdout
    assert _cli("--impl", "no-such-impl", "--quiet").returncode == 2


def test_broken_protocol_server_is_caught_on_the_hello_clause(tmp_path):
    script = tmp_path / "srv.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys
        for line in sys.stdin:
            r = json.loads(line)
            if r.get("op") == "hello" and r.get("protocol") == "{PROTOCOL}":
                print(json.dumps({{"id": r["id"], "ok": True, "protocol": "{PROTOCOL}",
                                   "implementation": "no object here", "apis": []}}), flush=True)
            else:
                print(json.dumps({{"id": r["id"], "ok": True}}), flush=True)
    """))
    report = run_suite([f"cmd:{sys.executable} {script}"], only=["protocol_hello"])
    failing = {s.clause for s in report.clause_statuses() if s.status == "fail"}
    assert failing == {"PROTO-HELLO-001"}


def test_a_failure_charged_to_an_untagged_clause_still_fails_it():
    """A check may charge a clause it is not registered for (the clause the observation breaks);
    that failure must show in the clause table and fail the run, not vanish."""
    from fluidspec.conformance._report import CheckResult, SuiteReport

    res = CheckResult(check="some_check", impl="x", status="fail", clauses=("SEL-SAVE-009",),
                      clause="SEL-SAVE-001", message="refused")
    report = SuiteReport(impls=["x"], profile="ci", hello={}, results=[res], known={})
    status = {s.clause: s.status for s in report.clause_statuses()}
    assert status["SEL-SAVE-001"] == "fail"
    assert [s.clause for s in report.must_failures] == ["SEL-SAVE-001"]
    assert report.failed


@pytest.fixture(scope="module")
def broken_fluid_report():
    from broken_reference import BROKEN_ANYWHERE

    # Only the checks of the clauses these break: the whole suite per implementation is minutes.
    clauses = sorted({c for clause, also in BROKEN_ANYWHERE.values() for c in (clause, *also)})
    return run_suite([cls() for cls in BROKEN_ANYWHERE], profile="quick", clauses=clauses)


def _broken_fluid_cases():
    from broken_reference import BROKEN_ANYWHERE

    return list(BROKEN_ANYWHERE)


@pytest.mark.parametrize("cls", _broken_fluid_cases(), ids=lambda c: c.__name__)
def test_broken_fluid_implementation_fails_on_its_clause(broken_fluid_report, cls):
    """Reference-wrapping implementations with one rule changed (inference, safety, errors,
    selection defaults) fail their clause, and no MUST clause but the ones that slip also breaks."""
    from broken_reference import BROKEN_ANYWHERE

    clause, also = BROKEN_ANYWHERE[cls]
    failing = {s.clause: s.tier for s in broken_fluid_report.clause_statuses()
               if s.impl == cls.name and s.status == "fail"}
    assert clause in failing
    assert {c for c, tier in failing.items() if tier == "MUST"} - {clause} <= also
