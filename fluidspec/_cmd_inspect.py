"""``fluidspec inspect PATH [--json]``."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a tensor file, a combined file, or a directory of saved files")
    parser.add_argument("--json", action="store_true", help="print one JSON object per record")


def main(args: argparse.Namespace) -> int:
    from fluidspec._inspect import run

    return run(args.path, args.json)
