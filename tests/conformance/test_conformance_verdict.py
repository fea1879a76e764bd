"""The verdict: a run fails what it did not verify (exit 3), claims decide what is judged, and
the pytest plugin agrees with the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fluidspec import spec
from fluidspec.conformance._case import PROTOCOL, Outcome
from fluidspec.conformance._discovery import _Unavailable
from fluidspec.conformance._report import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_OK
from fluidspec.conformance._runner import run_suite
from fluidspec.conformance.checks import all_checks
from fluidspec.conformance.toys import BrokenVersionField, ToyAdapter

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fluidspec", "conformance", "--quiet", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def _result_line(stdout: str) -> str:
    return [line for line in stdout.splitlines() if line.startswith("RESULT")][-1]


def test_a_server_that_never_starts_is_not_a_pass():
    run = _cli("--impl", "cmd:false")
    assert run.returncode == EXIT_INCOMPLETE, run.stdout[-600:]
    assert "could not be started or reached" in _result_line(run.stdout)
    assert "Traceback" not in run.stdout + run.stderr


def test_a_server_that_prints_garbage_fails(tmp_path):
    script = tmp_path / "garbage.py"
    script.write_text("import sys\nfor line in sys.stdin:\n    print('hello?', flush=True)\n")
    run = _cli("--impl", f"cmd:{sys.executable} {script}", "--check", "write_combined_bytes")
    assert run.returncode in (EXIT_FAILED, EXIT_INCOMPLETE), run.stdout[-600:]
    assert _result_line(run.stdout).startswith(("RESULT: FAILED", "RESULT: INCOMPLETE"))
    assert "Traceback" not in run.stdout + run.stderr


def test_an_unavailable_implementation_makes_the_run_incomplete():
    report = run_suite([_Unavailable("paddle-2.6.2", ".venv-paddle is missing")],
                       only=["write_combined_bytes"])
    code, reason = report.verdict()
    assert code == EXIT_INCOMPLETE and ".venv-paddle is missing" in reason
    assert not report.failed


class _AnswersNothing(ToyAdapter):
    """Claims the APIs but refuses every request: nothing it is asked is ever judged."""

    name = "answers-nothing"

    def run(self, program, scope, call):
        return Outcome(False, error={"error": "UNSUPPORTED_REQUEST", "message": call.api},
                       scope=dict(scope))


def test_claimed_clauses_that_are_never_judged_make_the_run_incomplete():
    report = run_suite([_AnswersNothing()], only=["write_combined_bytes"])
    statuses = {s.clause: s.status for s in report.clause_statuses()}
    assert statuses["FMT-COMB-001"] == "not-exercised"
    code, reason = report.verdict()
    assert code == EXIT_INCOMPLETE and "claimed clauses exercised" in reason
    assert report.summary()["implementation_coverage"]["answers-nothing"]["exercised"] == 0


def test_min_coverage_lowers_the_requirement_explicitly():
    lowered = run_suite([_AnswersNothing()], only=["write_combined_bytes"], min_coverage=0)
    assert lowered.verdict()[0] == EXIT_OK


def test_a_check_that_never_reaches_the_implementation_is_not_a_pass(monkeypatch):
    from fluidspec.conformance import _registry

    def check_reaches_nothing(ctx):  # a check that judges nothing and raises nothing
        pass

    monkeypatch.setitem(_registry._REGISTRY, "reaches_nothing",
                        _registry.Check("reaches_nothing", ("FMT-COMB-001",),
                                        check_reaches_nothing))
    report = run_suite([ToyAdapter()], only=["reaches_nothing"])
    assert [r.status for r in report.results] == ["unreached"]
    assert {s.clause: s.status for s in report.clause_statuses()}["FMT-COMB-001"] == \
        "not-exercised"
    assert report.verdict()[0] == EXIT_INCOMPLETE


def test_clauses_outside_the_claim_are_not_claimed_never_passed():
    report = run_suite([ToyAdapter()], only=["selected_rows_file", "protocol_hello",
                                             "api_scopes", "write_combined_bytes"])
    statuses = {s.clause: s.status for s in report.clause_statuses()}
    # A toy is no protocol server and has no Fluid objects; it claims SelectedRows by default.
    assert statuses["PROTO-HELLO-001"] == "not-claimed"
    assert statuses["API-SCOPE-001"] == "not-claimed"
    assert statuses["FMT-SR-001"] == "pass"
    assert statuses["FMT-COMB-001"] == "pass"
    assert report.verdict()[0] == EXIT_OK


def test_a_claim_file_withdraws_capabilities_and_apis(tmp_path):
    claim = {"apis": ["save_vars", "load_vars"], "capabilities": []}
    report = run_suite([ToyAdapter()], only=["selected_rows_file", "write_combined_bytes"],
                       claim=claim)
    statuses = {s.clause: s.status for s in report.clause_statuses()}
    assert statuses["FMT-SR-001"] == "not-claimed"
    assert statuses["FMT-COMB-001"] == "pass"
    assert report.summary()["claims"]["toy"] == {"apis": ["load_vars", "save_vars"],
                                                 "capabilities": [], "source": "claim file"}


def test_a_must_failure_inside_the_claim_is_never_excused(tmp_path):
    known = tmp_path / "mine.txt"
    known.write_text("FMT-REC-001 we write version 1\n")
    report = run_suite([BrokenVersionField()], only=["write_combined_bytes"],
                       known_failures_file=known)
    assert spec.clause("FMT-REC-001").tier == "MUST"
    assert {s.clause: s.status for s in report.clause_statuses()}["FMT-REC-001"] == "fail"
    assert report.verdict()[0] == EXIT_FAILED


def test_cli_claim_and_known_failures_files_from_the_implementers_repository(tmp_path):
    claim = tmp_path / "claim.json"
    claim.write_text(json.dumps({"apis": ["save_vars", "load_vars"], "capabilities": []}))
    run = _cli("--impl", "fluidspec.conformance.toys:ToyAdapter", "--check", "selected_rows_file",
               "--check", "write_combined_bytes", "--claim", str(claim), "--json",
               str(tmp_path / "r.json"))
    assert run.returncode == EXIT_OK, run.stdout[-800:]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["summary"]["exit_status"] == EXIT_OK
    row = next(c for c in data["clauses"] if c["id"] == "FMT-SR-001")
    assert row["results"]["toy"]["status"] == "not-claimed"
    bad = claim.with_name("bad.json")
    bad.write_text("{")
    assert _cli("--impl", "toy", "--claim", str(bad)).returncode == 2


def test_cli_json_into_a_missing_directory_is_a_usage_error_before_the_run(tmp_path):
    run = _cli("--impl", "fluidspec.conformance.toys:ToyAdapter", "--check",
               "write_combined_bytes", "--json", str(tmp_path / "no" / "such" / "r.json"))
    assert run.returncode == 2 and "does not exist" in run.stderr
    assert "Traceback" not in run.stderr


def test_in_process_clauses_are_exactly_those_only_fluid_objects_checks_reach():
    """spec.IN_PROCESS_CLAUSES lists the clauses every check of which needs Fluid's objects."""
    by_clause: dict[str, list] = {}
    for chk in all_checks():
        for clause in chk.clauses:
            by_clause.setdefault(clause, []).append(chk)
    only_in_process = {c for c, chks in by_clause.items()
                       if all("fluid_objects" in chk.needs for chk in chks)}
    assert only_in_process == spec.IN_PROCESS_CLAUSES


def test_a_server_claims_capabilities_in_its_hello(tmp_path):
    script = tmp_path / "srv.py"
    script.write_text(textwrap.dedent("""
        import json, subprocess, sys
        inner = subprocess.Popen([sys.executable, "-m", "fluidspec.conformance.server",
                                  "--impl", "reference"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        for line in sys.stdin:
            inner.stdin.write(line); inner.stdin.flush()
            answer = json.loads(inner.stdout.readline())
            if "capabilities" in answer:
                answer["capabilities"] = []  # no SelectedRows here
            print(json.dumps(answer), flush=True)
    """))
    report = run_suite([f"cmd:{sys.executable} {script}"],
                       only=["selected_rows_file", "write_combined_bytes"])
    statuses = {s.clause: s.status for s in report.clause_statuses()}
    assert statuses["FMT-SR-001"] == "not-claimed" and statuses["FMT-COMB-001"] == "pass"
    assert report.claims[report.impls[0]].capabilities == {"protocol_server"}
    assert PROTOCOL.startswith("fluidspec-conformance/")


@pytest.mark.parametrize("impl", ["cmd:false"])
def test_pytest_plugin_fails_what_never_ran(impl, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "fluidspec.conformance.pytest_plugin",
         "--pyargs", "fluidspec.conformance", "--fluidspec-impl", impl,
         "--fluidspec-check", "write_combined_bytes", "-p", "no:cacheprovider"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode != 0, run.stdout[-800:]
    assert "could not be started or reached" in run.stdout


def test_pytest_plugin_exits_3_when_claimed_clauses_were_not_exercised(tmp_path):
    adapter = tmp_path / "answers_nothing_impl.py"
    adapter.write_text(textwrap.dedent("""
        from fluidspec.conformance._case import Outcome
        from fluidspec.conformance.toys import ToyAdapter

        class AnswersNothing(ToyAdapter):
            name = "answers-nothing"

            def run(self, program, scope, call):
                return Outcome(False, error={"error": "UNSUPPORTED_REQUEST",
                                             "message": call.api}, scope=dict(scope))
    """))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "fluidspec.conformance.pytest_plugin",
               "--pyargs", "fluidspec.conformance", "--fluidspec-impl",
               "answers_nothing_impl:AnswersNothing", "--fluidspec-check",
               "write_combined_bytes", "-p", "no:cacheprovider"]
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env=env)
    assert run.returncode == EXIT_INCOMPLETE, run.stdout[-800:]
    lowered = subprocess.run([*command, "--fluidspec-min-coverage", "0"], capture_output=True,
                             text=True, cwd=tmp_path, timeout=300, env=env)
    assert lowered.returncode == 0, lowered.stdout[-800:]


def test_cli_junit_xml_has_a_case_per_clause_and_implementation(tmp_path):
    import xml.etree.ElementTree as ET

    out = tmp_path / "r.xml"
    run = _cli("--impl", "fluidspec.conformance.toys:BrokenVersionField", "--check",
               "write_combined_bytes", "--check", "selected_rows_file", "--junit-xml", str(out))
    assert run.returncode == EXIT_FAILED, run.stdout[-600:]
    suite = ET.parse(out).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["FMT-REC-001"].find("failure") is not None
    assert "reproduce:" in cases["FMT-REC-001"].find("failure").text
    assert cases["FMT-COMB-001"].find("failure") is None
    assert "PROTO-HELLO-001" not in cases  # not selected: left out
    assert int(suite.get("tests")) == len(cases) and int(suite.get("failures")) >= 1


def test_junit_xml_reports_unexercised_clauses_as_errors():
    import xml.etree.ElementTree as ET

    from fluidspec.conformance import junit_xml

    report = run_suite([_AnswersNothing()], only=["write_combined_bytes"])
    root = ET.fromstring(junit_xml(report))
    case = next(c for c in root.iter("testcase") if c.get("name") == "FMT-COMB-001")
    assert case.find("error") is not None
