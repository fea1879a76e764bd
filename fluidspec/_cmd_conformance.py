"""``fluidspec conformance``: run the conformance suite and report clause by clause.

    fluidspec conformance --impl reference --impl numba --json report.json
    fluidspec conformance --impl "cmd:.venv-paddle/bin/python conformance/paddle/server.py"
    fluidspec conformance --impl mypkg.adapter:make --check write_combined_bytes
    fluidspec conformance --impl numba --clause FMT-COMB-001 --clause SEL-SAVE-004

Exit status:

* 0 — every claimed clause was exercised and passed (or failed only where the known-failures file
  excuses a SHOULD/MAY clause);
* 1 — a clause failed (any MUST failure included: those are never excused);
* 2 — bad usage (an unknown implementation, check or clause; an unreadable claim file);
* 3 — nothing failed, but the run did not verify what it had to: an implementation could not be
  started or reached, claims nothing, or had fewer of its claimed clauses exercised than
  ``--min-coverage`` percent (default 100).

The last line says which, in one line (``RESULT: ok`` / ``RESULT: FAILED: …`` /
``RESULT: INCOMPLETE: …``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fluidspec._usage import UsageError, existing_input, writable_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--impl", action="append", default=[], metavar="IMPL",
                        help="implementation: reference | numba | numba-cuda-sim | an entry point "
                             "of fluidspec.implementations | module:attr | 'cmd:COMMAND' "
                             "(repeatable; default: the built-ins available here)")
    parser.add_argument("--profile", choices=("ci", "thorough"), default="ci",
                        help="Hypothesis effort: ci (derandomized, few examples) or thorough")
    parser.add_argument("--json", metavar="FILE", help="write the JSON report here")
    parser.add_argument("--junit-xml", metavar="FILE",
                        help="write the report as JUnit XML here (one test case per clause and "
                             "implementation), for CI systems")
    parser.add_argument("--check", action="append", metavar="ID",
                        help="run only this check (repeatable); ids are in --list")
    parser.add_argument("--clause", action="append", metavar="ID",
                        help="run only the checks tagged with this clause id (repeatable), "
                             "e.g. FMT-COMB-001")
    parser.add_argument("--list", action="store_true", help="list the checks and their clauses")
    parser.add_argument("--known-failures", metavar="FILE_OR_DIR",
                        help="the implementation's known-failures file (kept in its own "
                             "repository), or a directory of <name>.txt files "
                             "(default: the files shipped with fluidspec)")
    parser.add_argument("--claim", metavar="FILE",
                        help="JSON claim file: {\"apis\": [...], \"capabilities\": [...]}; "
                             "replaces what the implementation's hello claims")
    parser.add_argument("--min-coverage", type=float, default=100.0, metavar="PERCENT",
                        help="percentage of its claimed clauses each implementation must have "
                             "exercised (default 100); below it the run exits 3")
    parser.add_argument("--paddle-python", metavar="PATH",
                        help="the Python interpreter (with paddlepaddle installed) that runs "
                             "--impl paddle-2.6.2; default: $FLUIDSPEC_PADDLE_PYTHON, the "
                             "checkout's .venv-paddle, then the one `fluidspec paddle setup` made")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _unknown_clause(clause_ids: list[str], registered: set[str]) -> str | None:
    """The usage error for the first ``--clause`` id no check is tagged with, else None."""
    from fluidspec import spec

    in_spec = {c.id for c in spec.clauses()}
    for cid in clause_ids:
        if cid not in in_spec:
            return f"unknown clause {cid!r} (clause ids are in spec/chapters/*.md)"
        if cid not in registered:
            return f"no check is tagged with clause {cid!r} (see --list)"
    return None


def main(args: argparse.Namespace) -> int:
    from fluidspec.conformance import (
        KNOWN_FAILURES_DIR,
        all_checks,
        builtin_names,
        junit_xml,
        render_text,
        run_suite,
    )

    checks = all_checks()
    if args.list:
        for c in checks:
            print(f"{c.id:42} {' '.join(c.clauses)}")
        return 0
    impls = args.impl or builtin_names()
    known_dir, known_file = _known_failures(args.known_failures, KNOWN_FAILURES_DIR)
    claim = _check_options(args, checks)

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    try:
        report = run_suite(impls, profile=args.profile, only=args.check, clauses=args.clause,
                           progress=progress, known_failures_dir=known_dir,
                           known_failures_file=known_file, claim=claim,
                           min_coverage=args.min_coverage)
    except ValueError as exc:
        print(f"fluidspec conformance: {exc}", file=sys.stderr)
        return 2
    written = []
    for option, path, text in (
            ("--json", args.json, lambda: json.dumps(report.to_json(), indent=1,
                                                     ensure_ascii=False)),
            ("--junit-xml", args.junit_xml, lambda: junit_xml(report))):
        if not path:
            continue
        try:
            Path(path).write_text(text(), encoding="utf-8")
        except OSError as exc:
            print(f"fluidspec conformance: cannot write {option} {path}: {exc.strerror}",
                  file=sys.stderr)
            print(render_text(report))
            return 2
        written.append(f"{'JSON' if option == '--json' else 'JUnit XML'} report: {path}")
    print(render_text(report))
    for line in written:
        print(line)
    return report.verdict()[0]


def _known_failures(given: str | None, shipped: Path) -> tuple[Path, Path | None]:
    """(directory of <name>.txt files, single file or None) from ``--known-failures``."""
    if not given:
        return shipped, None
    path = Path(given)
    if path.is_dir():
        return path, None
    if path.is_file():
        return shipped, path
    if path.exists():
        raise UsageError(f"--known-failures {given}: not a regular file or directory")
    raise UsageError(f"--known-failures {given}: no such file or directory")


def _check_options(args: argparse.Namespace, checks: list) -> dict | None:
    """Every usage error of the run's options, found before the run (which may be long);
    returns the claim file's object."""
    if not 0.0 <= args.min_coverage <= 100.0:
        raise UsageError(f"--min-coverage {args.min_coverage:g}: expected a percentage "
                         "from 0 to 100")
    claim, problem = _read_claim(args.claim)
    if problem is not None:
        raise UsageError(problem)
    if args.json:
        writable_file(args.json, "--json")
    if args.junit_xml:
        writable_file(args.junit_xml, "--junit-xml")
    if args.paddle_python:
        existing_input(args.paddle_python, "--paddle-python", kind="file")
        # The adapter is resolved inside the runner; the variable is how it learns the path.
        os.environ["FLUIDSPEC_PADDLE_PYTHON"] = str(Path(args.paddle_python).absolute())
    known_ids = {c.id for c in checks}
    for cid in args.check or []:
        if cid not in known_ids:
            raise UsageError(f"unknown check {cid!r} (see --list)")
    problem = _unknown_clause(args.clause or [], {cid for c in checks for cid in c.clauses})
    if problem is not None:
        raise UsageError(problem)
    return claim


def _read_claim(path: str | None) -> tuple[dict | None, str | None]:
    """The claim file's object, or a usage problem in one line."""
    if path is None:
        return None, None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        return None, f"--claim {path}: {exc.strerror}"
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"--claim {path}: not JSON ({exc})"
    from fluidspec.spec import CAPABILITIES

    if not isinstance(data, dict) or not isinstance(data.get("apis"), list):
        return None, f'--claim {path}: expected {{"apis": [...], "capabilities": [...]}}'
    unknown = [c for c in data.get("capabilities") or [] if c not in CAPABILITIES]
    if unknown:
        return None, (f"--claim {path}: unknown capabilities {unknown}; known: "
                      f"{sorted(CAPABILITIES)}")
    return data, None
