"""``fluidspec inspect PATH [--json] [--values] [--program FILE]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from fluidspec._usage import UsageError, existing_input


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a tensor file, a combined file, or a directory of saved files")
    parser.add_argument("--json", action="store_true",
                        help="print JSON Lines: one JSON object per record or program file")
    parser.add_argument("--values", action="store_true",
                        help="per-record value statistics (min, max, mean, NaN and Inf counts, "
                        "first elements), read in chunks")
    parser.add_argument("--program", metavar="FILE",
                        help="the program (__model__, .pdmodel or PIR .json) whose saved "
                        "variables name the records of a combined file; by default the one "
                        "beside it (X.pdmodel / X.json for X.pdiparams, __model__ for __params__)")


def _check_input(path: str) -> None:
    """Inputs that hold nothing to show are usage errors, not an empty success.

    A missing path and an empty file are left to ``run``: they are MISSING_FILE and TRUNCATED in
    the error taxonomy (ERR-001), like any other file that holds no record.
    """
    p = Path(path)
    if not p.exists():
        return
    if p.is_dir():
        if not any(f.is_file() for f in p.rglob("*")):
            raise UsageError(f"{path}: the directory holds no files to inspect")
    elif not p.is_file():
        raise UsageError(f"{path}: not a regular file or directory (a device, pipe or socket)")


def _check_program(program: str | None, path: str) -> Path | None:
    if program is None:
        return None
    if Path(path).is_dir():
        raise UsageError(f"--program {program}: names the records of one file, and {path} is "
                         "a directory")
    return existing_input(program, "--program", kind="file")


def main(args: argparse.Namespace) -> int:
    _check_input(args.path)
    program = _check_program(args.program, args.path)
    from fluidspec._inspect import run

    return run(args.path, args.json, program=program, values=args.values)
