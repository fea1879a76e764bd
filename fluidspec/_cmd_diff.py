"""``fluidspec diff A B [--names N] [--atol X] [--rtol R] [--json]``: exit 0 identical, 1 different,
2 for a user error (and for a save that cannot be read)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fluidspec._usage import UsageError, existing_input


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="a save: a directory of separate files, a combined file, "
                        "or a memory save written to a file")
    parser.add_argument("b", help="the save to compare it with")
    parser.add_argument("--names", help="names of the records of combined files: a program file "
                        "(__model__/.pdmodel: its persistables), a text file with one name per "
                        "line, or a comma-separated list; sorted, as savers write them")
    parser.add_argument("--atol", type=float, default=0.0,
                        help="values that differ by at most this much count as equal (default 0)")
    parser.add_argument("--rtol", type=float, default=0.0,
                        help="relative tolerance: values a, b are equal when |a - b| <= atol + "
                        "rtol * |b| (default 0)")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")


def _check_not_empty(given: str, what: str) -> None:
    """Two empty directories are not two identical saves: there is nothing to compare."""
    p = Path(given)
    if p.is_dir() and not any(f.is_file() for f in p.rglob("*")):
        raise UsageError(f"{what} {given}: the directory holds no files to compare")


def main(args: argparse.Namespace) -> int:
    for option in ("atol", "rtol"):
        if not getattr(args, option) >= 0:  # also NaN, which would make every value differ
            raise UsageError(f"--{option} {getattr(args, option):g}: expected a tolerance of 0 "
                             "or more")
    for given, what in ((args.a, "A"), (args.b, "B")):
        # A missing save is MISSING_FILE of the error taxonomy (ERR-001), reported below.
        if Path(given).exists():
            existing_input(given, what)
    from fluidspec._diff import diff_saves, names_from
    from fluidspec.spec.errors import FluidSpecError

    try:
        names = names_from(args.names) if args.names else None
        if Path(args.a).exists() and Path(args.b).exists():  # a missing one is MISSING_FILE
            for given, what in ((args.a, "A"), (args.b, "B")):
                _check_not_empty(given, what)
        result = diff_saves(args.a, args.b, names, args.atol, args.rtol)
    except FluidSpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        raise UsageError(f"{exc.filename}: {exc.strerror}") from exc
    try:
        print(json.dumps(result.to_json(), indent=2) if args.json else result.render())
        sys.stdout.flush()
    except BrokenPipeError:
        # `fluidspec diff a b | head`: the reader left; the verdict still sets the status.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0 if result.equal else 1
