"""The pure parts of scripts/mutation_score.py: the equivalent-mutant file, the score, the
draw, the mutation points, and the copy the mutants run in.  No mutant is run here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ms():
    spec = importlib.util.spec_from_file_location("mutation_score",
                                                  REPO / "scripts" / "mutation_score.py")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules
    sys.modules["mutation_score"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["mutation_score"]


def test_equivalent_file_lines(ms):
    text = ("# comment\n\n"
            "reference/_codec.py:120 core/NumberReplacer 3 the value is only logged\n"
            "  reference/_io.py:7 core/ReplaceTrueWithFalse 0 default never used  \n")
    assert ms.parse_equivalent(text) == {
        ("reference/_codec.py", 120, "core/NumberReplacer", 3): "the value is only logged",
        ("reference/_io.py", 7, "core/ReplaceTrueWithFalse", 0): "default never used",
    }


@pytest.mark.parametrize("line", [
    "reference/_codec.py:120 core/NumberReplacer 3",  # no reason
    "reference/_codec.py core/NumberReplacer 3 why",  # no line
    "reference/_codec.py:x core/NumberReplacer 3 why",
    "reference/_codec.py:12 core/NumberReplacer three why",
])
def test_equivalent_file_rejects_malformed_lines(ms, line):
    with pytest.raises(ValueError, match="line 1"):
        ms.parse_equivalent(line + "\n")


def test_score_excludes_equivalent_and_counts_timeouts_as_detected(ms):
    assert ms.mutation_score(killed=8, timed_out=1, sampled=12, equivalent=2) == 0.9
    assert ms.mutation_score(killed=0, timed_out=0, sampled=5, equivalent=0) == 0.0
    assert ms.mutation_score(killed=0, timed_out=0, sampled=3, equivalent=3) is None
    assert ms.mutation_score(killed=3, timed_out=0, sampled=6, equivalent=1, invalid=1) == 0.75
    score = ms.ModuleScore("m", total=40, sampled=15, killed=11, survived=2, timed_out=1,
                           equivalent=1)
    assert score.score == 12 / 14


def test_score_refuses_counts_that_do_not_add_up(ms):
    with pytest.raises(ValueError):
        ms.mutation_score(killed=10, timed_out=1, sampled=10, equivalent=0)
    with pytest.raises(ValueError):
        ms.mutation_score(killed=0, timed_out=0, sampled=2, equivalent=3)


def test_sample_is_seeded_in_source_order_and_all_when_large(ms):
    points = [ms.MutationPoint("m.py", "op", i, i + 1, 0) for i in range(50)]
    first = ms.sample(points, 7, seed=3)
    assert first == ms.sample(points, 7, seed=3)
    assert len(set(first)) == 7 and first == sorted(first, key=lambda p: p.occurrence)
    assert first != ms.sample(points, 7, seed=4)
    assert ms.sample(points, 80, seed=3) == points
    assert ms.sample(points, None, seed=3) == points


def test_annotations_are_no_mutation_points(ms):
    pytest.importorskip("cosmic_ray")
    source = ("from __future__ import annotations\n"
              "def f(a: int | None, b: int = 2) -> int | None:\n"
              "    c: int | str = 0\n"
              "    d = a | b\n"
              "    return c, d\n")
    bitor = [p for p in ms.mutation_points(source, "m.py")
             if p.operator == "core/ReplaceBinaryOperator_BitOr_Add"]
    # cosmic-ray counts the two | of the def line (occurrences 0 and 1; it skips a variable's
    # annotation itself); the real | is the third.
    assert [(p.line, p.occurrence) for p in bitor] == [(4, 2)]
    mutated = ms.mutate(source, bitor[0])
    assert "    d = a + b\n" in mutated
    assert mutated.replace("a + b", "a | b") == source


def test_signature_markers_are_no_mutation_points(ms):
    pytest.importorskip("cosmic_ray")
    source = "def f(a, *, b):\n    return a * b\n"
    star = [p for p in ms.mutation_points(source, "m.py")
            if p.operator == "core/ReplaceBinaryOperator_Mul_Add"]
    assert [(p.line, p.occurrence) for p in star] == [(2, 1)]
    compile(ms.mutate(source, star[0]), "m.py", "exec")


def test_committed_equivalent_file_names_modules_and_operators_that_exist(ms):
    # Whether each entry still names a mutation point is the script's to report (a warning
    # per stale entry): an edit above a listed line would otherwise fail this test for
    # whoever made it.
    cosmic_ray_plugins = pytest.importorskip("cosmic_ray.plugins")
    entries = ms.parse_equivalent(ms.EQUIVALENT_FILE.read_text(encoding="utf-8"))
    assert {module for module, *_ in entries} <= set(ms.MODULES.values())
    assert {operator for _, _, operator, _ in entries} <= set(
        cosmic_ray_plugins.operator_names())


def test_copy_is_laid_out_as_installed_and_imported_from(ms, tmp_path):
    copy = tmp_path / "site"
    ms.lay_out_installed(copy)
    package = copy / "fluidspec"
    for path in ("reference/_codec.py", "spec/framework.proto", "spec/chapters",
                 "conformance/checks/format.py", "conformance/known-failures",
                 "conformance/vectors/fluidspec", "numba_kernels/cpu", "_cli.py"):
        assert (package / path).exists(), path
    assert not list(copy.rglob("__pycache__"))
    assert ms.resolved_reference(copy) == package / "reference" / "__init__.py"
    ms.verify_copy(copy)


def test_copy_of_a_commit_holds_that_commits_files(ms, tmp_path):
    ms.snapshot("HEAD", tmp_path / "source")
    ms.lay_out_installed(tmp_path / "site", tmp_path / "source")
    committed = ms.subprocess.run(["git", "-C", str(REPO), "show", "HEAD:reference/_io.py"],
                                  capture_output=True, text=True, check=True).stdout
    copied = tmp_path / "site" / "fluidspec" / "reference" / "_io.py"
    assert copied.read_text(encoding="utf-8") == committed
    assert (tmp_path / "site" / "fluidspec" / "spec" / "protocol.schema.json").is_file()


def test_verify_copy_refuses_a_folder_the_package_does_not_come_from(ms, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError, match="outside the copy"):
        ms.verify_copy(tmp_path / "empty")
