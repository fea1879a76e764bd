"""Every section of the spec that binds an implementation has at least one broken implementation the
suite is shown to fail on a clause of that section — toys, reference wrappers, and protocol servers
with one kind of damage."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from broken_reference import BROKEN as BROKEN_INFERENCE
from broken_reference import BROKEN_ANYWHERE

from fluidspec.conformance._runner import run_suite
from fluidspec.conformance.checks import all_checks
from fluidspec.conformance.toys import BROKEN, BROKEN_SHOULD

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).resolve().parent / "broken_protocol_server.py"
sys.path.insert(0, str(SERVER.parent))
from broken_protocol_server import DAMAGES  # noqa: E402

#: The conformance chapter binds the suite, not an implementation.
_NOT_IMPLEMENTATION_RULES = {"conformance"}
_PROTOCOL_CHECKS = [c.id for c in all_checks() if c.id.startswith("protocol_")]


def _sections() -> dict[str, str]:
    """clause id -> ``chapter: section`` (the chapter alone where it has no sections)."""
    out = {}
    for path in sorted((ROOT / "spec" / "chapters").glob("*.md")):
        where = path.stem
        for line in path.read_text("utf-8").splitlines():
            if line.startswith("## "):
                where = f"{path.stem}: {line[3:].strip()}"
            found = re.match(r"### ([A-Z]+(?:-[A-Z]+)*-\d+) ", line)
            if found:
                out[found.group(1)] = where
    return out


def _shown_broken() -> dict[str, str]:
    """broken implementation -> the clause its meta-test shows the suite failing it on."""
    shown = {cls.__name__: clause for cls, clause in {**BROKEN, **BROKEN_SHOULD}.items()}
    shown |= {cls.__name__: clause for cls, clause in BROKEN_INFERENCE.items()}
    shown |= {cls.__name__: clause for cls, (clause, _also) in BROKEN_ANYWHERE.items()}
    shown |= {f"server:{damage}": clause for damage, clause in DAMAGES.items()}
    # test_error_facts.py: misplaced offsets and miscounted stray bytes.
    shown |= {"damaged-offsets": "ERR-002"}
    return shown


def test_every_section_that_binds_an_implementation_has_a_broken_one():
    sections = _sections()
    covered = {sections[clause] for clause in _shown_broken().values()}
    wanted = {where for where in sections.values()
              if where.split(":")[0] not in _NOT_IMPLEMENTATION_RULES}
    assert wanted - covered == set()


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_server_fails_its_clause_and_only_protocol_clauses(damage):
    report = run_suite([f"cmd:{sys.executable} {SERVER} {damage}"], profile="quick",
                       only=_PROTOCOL_CHECKS)
    failing = {s.clause for s in report.clause_statuses() if s.status == "fail"}
    assert DAMAGES[damage] in failing
    assert all(clause.startswith("PROTO-") for clause in failing), failing
