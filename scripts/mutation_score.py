"""Measure the conformance suite's power by mutation testing the reference implementation.

Each mutant is one cosmic-ray mutation (its operators, applied through its Python API to the
source text) of ``reference/_codec.py``, ``reference/_io.py`` or ``reference/_inference.py``.
The mutant lives in a copy of the package laid out as a wheel installs it, under a temporary
folder that comes first on ``PYTHONPATH``; the repository's files are never written.  The test
of a mutant is the conformance suite, CI profile, against ``reference``: the mutant is killed
when the suite reports a failing clause or crashes, and counted as timed out (and killed) when
it runs longer than three times the unmutated baseline.

    score = (killed + timed out) / (sampled - equivalent)

Equivalent mutants (no behaviour of the module changes) are listed, each with its reason, in
``scripts/mutation-equivalent.txt`` and not run.  Mutation points inside annotations are not
mutants at all: every mutated module has ``from __future__ import annotations``, so an
annotation is a string nothing evaluates.

Not part of the default CI run (a mutant costs one suite run, about 20 s on one core).
Usage: ``.venv/bin/python scripts/mutation_score.py --sample 15 --seed 1 [--module codec]
[--jobs 1] [--json FILE]``.  Needs the ``mutation`` extra (cosmic-ray).  See docs/mutation.md.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Queue

REPO = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = REPO / "scripts" / "mutation-equivalent.txt"

#: Short name -> the repository file it mutates.
MODULES = {
    "codec": "reference/_codec.py",
    "io": "reference/_io.py",
    "inference": "reference/_inference.py",
}

#: Exit status of a test run whose ``fluidspec.reference`` is not the copy's: a setup error,
#: never a kill.
WRONG_COPY = 97

TIMEOUT_FACTOR = 3.0

# The check of where the package comes from is part of every test run, not only the first:
# a mutant judged against the repository's unmutated files would survive silently.
_TEST_PROGRAM = f"""
import os, sys
import fluidspec.reference as ref
if not os.path.realpath(ref.__file__).startswith(os.path.realpath(os.environ["MUTATION_COPY"]) + os.sep):
    print("fluidspec.reference comes from", ref.__file__, file=sys.stderr)
    raise SystemExit({WRONG_COPY})
from fluidspec.conformance._runner import run_suite
report = run_suite(["reference"], profile="ci")
print(report.verdict()[1])
raise SystemExit(1 if report.failed else 0)
"""


def _lint_imports_module():  # noqa: ANN202 - a module object
    # scripts/ is no package; lint_imports.py owns the package -> folder mapping.
    spec = importlib.util.spec_from_file_location("lint_imports", REPO / "scripts" / "lint_imports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the copy --------------------------------------------------------------------------------

def snapshot(rev: str, target: Path) -> None:
    """The repository's files at commit ``rev``, written under ``target``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev],
                             capture_output=True, check=True).stdout
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def lay_out_installed(target: Path, source_root: Path = REPO) -> None:
    """Copy every package ``source_root/pyproject.toml`` installs, its package data included,
    to where a wheel puts it.

    A package's own files and its folders that are not themselves packages (spec/chapters,
    conformance/vectors, conformance/known-failures, ...) are copied; caches are not, so no
    stale bytecode of the repository's files can stand in for a mutated source.
    """
    lint_imports = _lint_imports_module()
    folders = {package: source_root / folder.relative_to(lint_imports.REPO) for package, folder
               in lint_imports.package_folders(source_root / "pyproject.toml").items()}
    package_folders_set = set(folders.values())
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package, folder in folders.items():
        destination = target / Path(*package.split("."))
        destination.mkdir(parents=True, exist_ok=True)
        for source in folder.iterdir():
            if source.name == "__pycache__":
                continue
            if source.is_file():
                shutil.copy2(source, destination / source.name)
            elif source not in package_folders_set:
                shutil.copytree(source, destination / source.name, ignore=skip)


def test_environment(copy: Path) -> dict[str, str]:
    """The environment of a test run in ``copy``: the copy first on the path, no bytecode.

    No bytecode because a mutant of the same size written within the same second as the
    previous one would pass the mtime/size check of a stale ``.pyc``.
    """
    return {
        **os.environ,
        "PYTHONPATH": str(copy),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MUTATION_COPY": str(copy),
        "NUMBA_CACHE_DIR": str(copy.parent / "numba-cache"),
    }


def resolved_reference(copy: Path) -> Path:
    """Where ``fluidspec.reference`` is imported from by a test run in ``copy``."""
    out = subprocess.run(
        [sys.executable, "-c", "import fluidspec.reference as r; print(r.__file__)"],
        cwd=copy, env=test_environment(copy), capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def verify_copy(copy: Path) -> None:
    """Raise unless a test run in ``copy`` imports the copy's ``fluidspec.reference``."""
    where = resolved_reference(copy).resolve()
    if not where.is_relative_to(copy.resolve()):
        raise RuntimeError(f"fluidspec.reference resolves to {where}, outside the copy {copy}")


# --- mutation points -------------------------------------------------------------------------

@dataclass(frozen=True)
class MutationPoint:
    """One mutant: ``operator`` applied at its ``occurrence``-th position in ``module``."""

    module: str  # repository-relative path, e.g. reference/_codec.py
    operator: str
    occurrence: int
    line: int
    col: int

    @property
    def key(self) -> tuple[str, int, str, int]:
        return (self.module, self.line, self.operator, self.occurrence)


def _in_annotation(node) -> bool:  # noqa: ANN001 - a parso node
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("param", "funcdef") and getattr(parent, "annotation", None) is child:
            return True
        # a: T is tfpdef(a, :, T) inside a param; x: T = v is annassign(:, T, =, v)
        if parent.type in ("annassign", "tfpdef") and parent.children.index(child) == (
                1 if parent.type == "annassign" else 2):
            return True
        child, parent = parent, parent.parent
    return False


# A bare * or / in a signature (keyword-only, positional-only marker) is an operator token to
# parso, and to cosmic-ray's binary-operator replacements, which turn it into a syntax error.
_SIGNATURE_PARENTS = frozenset({"parameters", "typedargslist", "varargslist", "lambdef"})


def _is_signature_marker(node) -> bool:  # noqa: ANN001 - a parso node
    return node.type == "operator" and node.parent is not None and (
        node.parent.type in _SIGNATURE_PARENTS)


def _operators() -> Iterator[tuple[str, object]]:
    import cosmic_ray.plugins

    for name in cosmic_ray.plugins.operator_names():
        operator_class = cosmic_ray.plugins.get_operator(name)
        # VariableReplacer/VariableInserter need a cause and an effect variable named by hand.
        if not operator_class.arguments():
            yield name, operator_class()


def mutation_points(source: str, module: str) -> list[MutationPoint]:
    """Every mutant of ``source`` that cosmic-ray's operators make, annotations left out.

    ``occurrence`` counts every position of the operator, annotations included, because that
    is how ``cosmic_ray.mutating.mutate_code`` finds the one to apply.
    """
    from cosmic_ray.ast import ast_nodes, get_ast

    skip_annotations = "from __future__ import annotations" in source
    points: list[MutationPoint] = []
    nodes = list(ast_nodes(get_ast(source)))  # mutation_positions only reads the tree
    for name, operator in _operators():
        occurrence = 0
        for node in nodes:
            for (line, col), _end in operator.mutation_positions(node):
                if not (_is_signature_marker(node)
                        or (skip_annotations and _in_annotation(node))):
                    points.append(MutationPoint(module, name, occurrence, line, col))
                occurrence += 1
    return points


def mutate(source: str, point: MutationPoint) -> str:
    """``source`` with ``point``'s mutation applied."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    mutated = mutate_code(source, cosmic_ray.plugins.get_operator(point.operator)(),
                          point.occurrence)
    if mutated is None:
        raise ValueError(f"{point} applies no mutation")
    return mutated


def unified_diff(before: str, after: str, module: str) -> str:
    return "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                          f"a/{module}", f"b/{module}", lineterm="", n=1))


# --- equivalent mutants ----------------------------------------------------------------------

def parse_equivalent(text: str) -> dict[tuple[str, int, str, int], str]:
    """``MODULE:LINE OPERATOR OCCURRENCE REASON...`` per line -> {(module, line, operator,
    occurrence): reason}; ``#`` starts a comment line, blank lines are skipped."""
    entries: dict[tuple[str, int, str, int], str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=3)
        where = parts[0].rpartition(":")
        if len(parts) < 4 or not where[0] or not where[2].isdigit() or not parts[2].isdigit():
            raise ValueError(f"line {number}: want MODULE:LINE OPERATOR OCCURRENCE REASON: {raw!r}")
        entries[(where[0], int(where[2]), parts[1], int(parts[2]))] = parts[3]
    return entries


# --- scoring ---------------------------------------------------------------------------------

@dataclass
class ModuleScore:
    module: str
    total: int = 0
    sampled: int = 0
    killed: int = 0
    survived: int = 0
    timed_out: int = 0
    equivalent: int = 0
    invalid: int = 0
    survivors: list[dict[str, object]] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        return mutation_score(self.killed, self.timed_out, self.sampled, self.equivalent,
                              self.invalid)


def mutation_score(killed: int, timed_out: int, sampled: int, equivalent: int,
                   invalid: int = 0) -> float | None:
    """Share of the sampled mutants, less the equivalent and those that do not compile, that
    the suite detected; None when none is left."""
    judged = sampled - equivalent - invalid
    if judged < 0 or killed + timed_out > judged:
        raise ValueError("more mutants detected or equivalent than sampled")
    return None if judged == 0 else (killed + timed_out) / judged


def sample(points: list[MutationPoint], size: int | None, seed: int) -> list[MutationPoint]:
    """``size`` points drawn without replacement (all of them when ``size`` is None), in
    source order."""
    if size is None or size >= len(points):
        return list(points)
    chosen = random.Random(seed).sample(range(len(points)), size)
    return [points[i] for i in sorted(chosen)]


# --- running ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    status: str  # killed | survived | timed_out | invalid (the mutant does not compile)
    seconds: float
    tail: str


def run_suite_in(copy: Path, timeout: float | None) -> Outcome:
    """One suite run in ``copy`` under ``nice``; the whole process group goes on timeout."""
    started = time.perf_counter()
    proc = subprocess.Popen(["nice", "-n", "10", sys.executable, "-c", _TEST_PROGRAM], cwd=copy,
                            env=test_environment(copy), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        return Outcome("timed_out", time.perf_counter() - started, output[-2000:])
    except BaseException:
        # interrupted (Ctrl-C, SIGTERM): the suite, in its own session, would run on
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    seconds = time.perf_counter() - started
    if proc.returncode == WRONG_COPY:
        raise RuntimeError(f"test run imported the wrong package:\n{output[-2000:]}")
    return Outcome("survived" if proc.returncode == 0 else "killed", seconds, output[-2000:])


def run_mutant(copy: Path, point: MutationPoint, timeout: float) -> tuple[Outcome, str]:
    # reference/_codec.py is fluidspec/reference/_codec.py in the copy
    target = copy / "fluidspec" / point.module
    original = target.read_text(encoding="utf-8")
    mutated = mutate(original, point)
    diff = unified_diff(original, mutated, point.module)
    try:
        compile(mutated, point.module, "exec")
    except SyntaxError as error:
        # no test can be said to detect what Python refuses to load
        return Outcome("invalid", 0.0, str(error)), diff
    target.write_text(mutated, encoding="utf-8")
    try:
        return run_suite_in(copy, timeout), diff
    finally:
        target.write_text(original, encoding="utf-8")


def _make_copies(root: Path, count: int, rev: str | None) -> list[Path]:
    # every copy from the first, so that all of them hold the same snapshot
    first = root / "copy0"
    if rev is None:
        lay_out_installed(first)
    else:
        snapshot(rev, root / "source")
        lay_out_installed(first, root / "source")
    copies = [first] + [Path(shutil.copytree(first, root / f"copy{i}")) for i in range(1, count)]
    for copy in copies:
        verify_copy(copy)
    return copies


def run_all(points: list[MutationPoint], copies: list[Path], timeout: float,
            say: Callable[[str], None]) -> Iterator[tuple[MutationPoint, Outcome, str]]:
    free: Queue[Path] = Queue()
    for copy in copies:
        free.put(copy)

    def one(point: MutationPoint) -> tuple[MutationPoint, Outcome, str]:
        copy = free.get()
        try:
            outcome, diff = run_mutant(copy, point, timeout)
        finally:
            free.put(copy)
        say(f"  {point.module}:{point.line} {point.operator}#{point.occurrence}: "
            f"{outcome.status} ({outcome.seconds:.1f} s)")
        return point, outcome, diff

    if len(copies) == 1:
        # in the main thread, so that an interrupt reaches run_suite_in and ends the suite
        yield from map(one, points)
        return
    with ThreadPoolExecutor(max_workers=len(copies)) as pool:
        yield from pool.map(one, points)


# --- the command -----------------------------------------------------------------------------

def _module_paths(names: Iterable[str] | None) -> list[str]:
    if not names:
        return list(MODULES.values())
    paths = []
    for name in names:
        if name in MODULES:
            paths.append(MODULES[name])
        elif name in MODULES.values():
            paths.append(name)
        else:
            raise SystemExit(f"unknown module {name!r}; one of {', '.join(MODULES)}")
    return paths


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append",
                        help=f"one of {', '.join(MODULES)} (repeatable; default: all)")
    parser.add_argument("--sample", type=int, help="mutants drawn per module (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--rev", default="HEAD",
                        help="the commit to measure (default HEAD; uncommitted edits left out)")
    parser.add_argument("--tree", action="store_true",
                        help="measure the working tree as it is instead of a commit")
    parser.add_argument("--list", action="store_true",
                        help="only count and list the mutation points, run nothing")
    return parser


def _baseline(copy: Path) -> float:
    outcome = run_suite_in(copy, timeout=None)
    if outcome.status != "survived":
        raise SystemExit("the unmutated baseline fails the CI profile; no mutant can be judged:\n"
                         + outcome.tail)
    return outcome.seconds


def _print_report(scores: list[ModuleScore]) -> None:
    print(f"\n{'module':<26}{'total':>7}{'sampled':>9}{'killed':>8}{'survived':>10}"
          f"{'timed out':>11}{'equiv.':>8}{'invalid':>9}{'score':>8}")
    for s in scores:
        shown = "n/a" if s.score is None else f"{100 * s.score:.0f}%"
        print(f"{s.module:<26}{s.total:>7}{s.sampled:>9}{s.killed:>8}{s.survived:>10}"
              f"{s.timed_out:>11}{s.equivalent:>8}{s.invalid:>9}{shown:>8}")
    for s in scores:
        for survivor in s.survivors:
            print(f"\nSURVIVED {survivor['where']} {survivor['operator']} "
                  f"occurrence {survivor['occurrence']}\n{survivor['diff']}")


def _stop(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _plan(modules: list[str], source_root: Path, args: argparse.Namespace,
          equivalent: dict[tuple[str, int, str, int], str]
          ) -> list[tuple[ModuleScore, list[MutationPoint]]]:
    """Per module: its score record and the drawn mutants to run (equivalent ones left out)."""
    plans = []
    for module in modules:
        points = mutation_points((source_root / module).read_text(encoding="utf-8"), module)
        drawn = sample(points, args.sample, args.seed)
        known = {p.key for p in points}
        for stale in sorted(k for k in equivalent if k[0] == module and k not in known):
            print(f"warning: {EQUIVALENT_FILE.name} names no mutation point: {stale}")
        score = ModuleScore(module, total=len(points), sampled=len(drawn))
        score.equivalent = sum(p.key in equivalent for p in drawn)
        plans.append((score, [p for p in drawn if p.key not in equivalent]))
    return plans


def _tally(score: ModuleScore, point: MutationPoint, outcome: Outcome, diff: str) -> None:
    if outcome.status == "survived":
        score.survived += 1
        score.survivors.append({"where": f"{point.module}:{point.line}",
                                "operator": point.operator, "occurrence": point.occurrence,
                                "diff": diff})
    else:
        setattr(score, outcome.status, getattr(score, outcome.status) + 1)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows in a log file as it happens
    signal.signal(signal.SIGTERM, _stop)  # the temporary copies are removed, the suite ended
    modules = _module_paths(args.module)
    equivalent = parse_equivalent(EQUIVALENT_FILE.read_text(encoding="utf-8"))
    if args.list:
        with tempfile.TemporaryDirectory(prefix="fluidspec-mutation-") as tmp:
            source = REPO
            if not args.tree:
                source = Path(tmp) / "source"
                snapshot(args.rev, source)
            for score, points in _plan(modules, source, args, equivalent):
                print(f"{score.module}: {score.total} mutants, {score.sampled} drawn, "
                      f"{score.equivalent} of them listed equivalent")
                for p in points:
                    print(f"{p.module}:{p.line}:{p.col} {p.operator} {p.occurrence}")
        return 0

    with tempfile.TemporaryDirectory(prefix="fluidspec-mutation-") as tmp:
        copies = _make_copies(Path(tmp), max(1, args.jobs), None if args.tree else args.rev)
        print(f"copies: {', '.join(str(c) for c in copies)} (fluidspec.reference verified there)")
        # Mutation points come from the copy: the commit, or the working tree at one moment
        # (its files may change while the run goes on).
        plans = _plan(modules, copies[0] / "fluidspec", args, equivalent)
        baseline = _baseline(copies[0])
        timeout = TIMEOUT_FACTOR * baseline
        print(f"baseline: passes in {baseline:.1f} s; timeout per mutant {timeout:.0f} s")
        started = time.perf_counter()
        runs = 0
        for score, points in plans:
            print(f"{score.module}: {len(points)} mutants to run")
            for point, outcome, diff in run_all(points, copies, timeout, print):
                runs += 1
                _tally(score, point, outcome, diff)
        elapsed = time.perf_counter() - started
    scores = [s for s, _ in plans]
    _print_report(scores)
    if runs:
        print(f"\n{runs} mutants in {elapsed:.0f} s ({elapsed / runs:.1f} s per mutant, "
              f"{max(1, args.jobs)} job(s))")
    if args.json:
        args.json.write_text(json.dumps({
            "sample": args.sample, "seed": args.seed, "baseline_s": round(baseline, 2),
            "seconds_per_mutant": round(elapsed / runs, 1) if runs else None,
            "modules": [{**asdict(s), "score": s.score} for s in scores],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
