"""``fluidspec conformance``: run the conformance suite and report clause by clause.

    fluidspec conformance --impl reference --impl numba --json report.json
    fluidspec conformance --impl "cmd:.venv-paddle/bin/python conformance/paddle/server.py"
    fluidspec conformance --impl mypkg.adapter:make --check write_combined_bytes
    fluidspec conformance --impl numba --clause FMT-COMB-001 --clause SEL-SAVE-004

Exit status: 0 when every clause passes (or fails only where a known-failures file excuses a
SHOULD/MAY clause), 1 on any other failure — any MUST failure included —, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--impl", action="append", default=[], metavar="IMPL",
                        help="implementation: reference | numba | numba-cuda-sim | an entry point "
                             "of fluidspec.implementations | module:attr | 'cmd:COMMAND' "
                             "(repeatable; default: the built-ins available here)")
    parser.add_argument("--profile", choices=("ci", "thorough"), default="ci",
                        help="Hypothesis effort: ci (derandomized, few examples) or thorough")
    parser.add_argument("--json", metavar="FILE", help="write the JSON report here")
    parser.add_argument("--check", action="append", metavar="ID",
                        help="run only this check (repeatable); ids are in --list")
    parser.add_argument("--clause", action="append", metavar="ID",
                        help="run only the checks tagged with this clause id (repeatable), "
                             "e.g. FMT-COMB-001")
    parser.add_argument("--list", action="store_true", help="list the checks and their clauses")
    parser.add_argument("--known-failures", metavar="DIR",
                        help="directory of <impl>.txt known-failures files "
                             "(default: conformance/known-failures)")
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
        render_text,
        run_suite,
    )

    checks = all_checks()
    if args.list:
        for c in checks:
            print(f"{c.id:42} {' '.join(c.clauses)}")
        return 0
    impls = args.impl or builtin_names()
    known = Path(args.known_failures) if args.known_failures else KNOWN_FAILURES_DIR
    known_ids = {c.id for c in checks}
    for cid in args.check or []:
        if cid not in known_ids:
            print(f"unknown check {cid!r} (see --list)", file=sys.stderr)
            return 2
    problem = _unknown_clause(args.clause or [], {cid for c in checks for cid in c.clauses})
    if problem is not None:
        print(f"fluidspec conformance: {problem}", file=sys.stderr)
        return 2

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    try:
        report = run_suite(impls, profile=args.profile, only=args.check, clauses=args.clause,
                           progress=progress, known_failures_dir=known)
    except ValueError as exc:
        print(f"fluidspec conformance: {exc}", file=sys.stderr)
        return 2
    print(render_text(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False),
                                   encoding="utf-8")
        print(f"JSON report: {args.json}")
    return 1 if report.failed else 0
