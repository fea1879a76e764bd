"""The clause registry (spec/_clauses.py) and the links between clauses, code and tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fluidspec import spec
from fluidspec.spec._clauses import _parse_chapter, load_chapters

ROOT = Path(__file__).resolve().parents[2]

# An id, optionally followed by a range ("FMT-REC-001..007") or a list ("FMT-SR-001/003").
_CITED = re.compile(r"\b(?P<stem>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)-(?P<first>\d{3})"
                    r"(?P<more>(?:\.\.\d{3}|(?:/\d{3})+)?)")


def cited_ids(text: str) -> set[str]:
    """Clause ids a text names, with ``X-001..003`` and ``X-001/003`` expanded."""
    found = set()
    for m in _CITED.finditer(text):
        numbers = [int(m["first"])]
        if m["more"].startswith(".."):
            numbers = list(range(numbers[0], int(m["more"][2:]) + 1))
        elif m["more"]:
            numbers += [int(n) for n in m["more"].split("/")[1:]]
        found.update(f"{m['stem']}-{n:03d}" for n in numbers)
    return found


def test_cited_ids_expands_ranges_and_lists():
    assert cited_ids("see FMT-REC-001..003 and FMT-SR-001/003, ERR-002.") == {
        "FMT-REC-001", "FMT-REC-002", "FMT-REC-003", "FMT-SR-001", "FMT-SR-003", "ERR-002"}


# --------------------------------------------------------------------------------------------
# Parsing


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_clause_is_its_heading_and_the_text_up_to_the_next_heading(tmp_path):
    path = write(tmp_path, "ch.md", (
        "# Chapter\n\nintro\n\n"
        "### AB-CD-001 · MUST · First rule\n\nBody one.\n\n"
        "> **Paddle 2.6.2 observed:** it differs\n> on two lines.\n\n"
        "## Section\n\nnot part of a clause\n\n"
        "### AB-CD-002 · MAY · Second rule\nBody two.\n"
    ))
    first, second = _parse_chapter(path)
    assert (first.id, first.tier, first.title, first.chapter) == ("AB-CD-001", "MUST", "First rule",
                                                                  "ch")
    assert "Body one." in first.text and "not part" not in first.text
    assert first.paddle_note == "**Paddle 2.6.2 observed:** it differs\non two lines."
    assert (second.id, second.tier, second.text, second.paddle_note) == (
        "AB-CD-002", "MAY", "Body two.", None)
    assert first.anchor == "ab-cd-001"


@pytest.mark.parametrize("heading", [
    "### AB-CD-001 · MUSTN'T · bad tier",
    "### AB-CD-001 - MUST - wrong separators",
    "### AB-CD-001 · MUST ·",
])
def test_a_malformed_clause_heading_is_an_error(tmp_path, heading):
    path = write(tmp_path, "bad.md", f"{heading}\n\ntext\n")
    with pytest.raises(ValueError, match="malformed clause heading"):
        _parse_chapter(path)


def test_an_id_defined_twice_is_an_error(tmp_path):
    write(tmp_path, "a.md", "### AB-CD-001 · MUST · one\n")
    write(tmp_path, "b.md", "### AB-CD-001 · SHOULD · again\n")
    with pytest.raises(ValueError, match="defined twice"):
        load_chapters(tmp_path)


def test_registry_filters_by_tier_and_chapter():
    format_ids = {c.id for c in spec.clauses(chapter="format")}
    assert "FMT-REC-001" in format_ids and all(i.startswith("FMT-") for i in format_ids)
    assert {c.tier for c in spec.clauses(tier="SHOULD")} == {"SHOULD"}
    assert spec.clause("FMT-SAFE-004").tier == "SHOULD"
    with pytest.raises(KeyError):
        spec.clause("FMT-NOPE-001")


def test_every_clause_has_a_title_and_a_body():
    empty = [c.id for c in spec.clauses() if not c.title or not c.text]
    assert empty == []


def test_format_clause_numbers_have_no_gaps():
    """Stable ids are never reused; a removed clause would leave a visible hole instead."""
    groups: dict[str, list[int]] = {}
    for c in spec.clauses(chapter="format"):
        stem, number = c.id.rsplit("-", 1)
        groups.setdefault(stem, []).append(int(number))
    assert {k: sorted(v) for k, v in groups.items()} == {
        k: list(range(1, len(v) + 1)) for k, v in groups.items()}


# --------------------------------------------------------------------------------------------
# Clauses <-> code <-> tests

CODEC = ROOT / "reference" / "_codec.py"

# Format rules that are not the codec's to implement, and who does.
NOT_THE_CODECS = {
    "FMT-SR-002": "selection layer: SelectedRows never goes into a combined save",
}


def test_every_clause_the_codec_cites_exists():
    # (spec/_errors.py is test_spec.py's: its clauses span every chapter.)
    for module in (CODEC, ROOT / "fluidspec" / "_inspect.py", ROOT / "spec" / "_types.py",
                   ROOT / "spec" / "_versions.py"):
        unknown = cited_ids(module.read_text()) - {c.id for c in spec.clauses()}
        assert unknown == set(), (module.name, unknown)


def test_every_format_rule_is_cited_by_the_codec():
    """Every rule of the byte-format chapter is implemented where the code says so."""
    cited = cited_ids(CODEC.read_text())
    missing = {c.id for c in spec.clauses(chapter="format")} - cited - set(NOT_THE_CODECS)
    assert missing == set()


def test_every_format_and_error_clause_is_named_by_a_test():
    """Tests name the clause ids they check (the project's standard)."""
    named: set[str] = set()
    for test in (ROOT / "tests").rglob("test_*.py"):
        if test.name != "test_clauses.py":
            named |= cited_ids(test.read_text(encoding="utf-8"))
    wanted = {c.id for c in spec.clauses(chapter="format") + spec.clauses(chapter="errors")}
    assert wanted - named - set(NOT_THE_CODECS) == set()
