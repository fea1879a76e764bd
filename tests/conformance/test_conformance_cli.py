"""``fluidspec conformance --clause``: run only the checks tagged with a clause id."""

from __future__ import annotations

import json

import pytest

from fluidspec._cli import main as cli
from fluidspec.conformance import all_checks


def test_clause_runs_only_the_checks_tagged_with_it(tmp_path, capsys):
    out = tmp_path / "report.json"
    rc = cli(["conformance", "--impl", "reference", "--quiet", "--clause", "FMT-REC-005",
              "--clause", "SEL-SAVE-004", "--json", str(out)])
    assert rc == 0, capsys.readouterr().out
    ran = {r["check"] for r in json.loads(out.read_text(encoding="utf-8"))["checks"]}
    tagged = {c.id for c in all_checks()
              if {"FMT-REC-005", "SEL-SAVE-004"} & set(c.clauses)}
    assert ran == tagged
    assert "write_zero_d" in ran and "duplicates_collapse" in ran
    assert "round_trip" not in ran


@pytest.mark.parametrize("clause", ["NOPE-001", "fmt-rec-005"])
def test_unknown_clause_is_a_usage_error(clause, capsys):
    rc = cli(["conformance", "--impl", "reference", "--clause", clause])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and clause in err and "Traceback" not in err
