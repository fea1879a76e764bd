"""``fluidspec inspect PATH [--json]``."""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a tensor file, a combined file, or a directory of saved files")
    parser.add_argument("--json", action="store_true", help="print one JSON object per record")


def main(args: argparse.Namespace) -> int:
    from fluidspec._inspect import run

    try:
        return run(args.path, args.json)
    except BrokenPipeError:
        # `fluidspec inspect big_dir | head`: the reader left; stop quietly, not with a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
