"""``fluidspec`` — one entry point, one subcommand per tool.

Subcommands are imported only when run, so ``fluidspec inspect`` never imports numba or
hypothesis (tools and tests call it hundreds of times).  Each subcommand module provides
``add_arguments(parser)`` and ``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "inspect": ("fluidspec._cmd_inspect", "show the records of saved tensor files, and __model__ programs"),
    "sample": ("fluidspec._cmd_sample", "write a small sample save to a directory"),
    "bench": ("fluidspec._cmd_bench", "time numba_kernels beside numpy, pickle, safetensors, reference, Paddle"),
    "diff": ("fluidspec._cmd_diff", "compare two saves variable by variable (exit 0 when equal)"),
    "conformance": ("fluidspec._cmd_conformance", "run the conformance suite clause by clause"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fluidspec",
        description="Executable specification of PaddlePaddle Fluid's model save/load.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = (argv if argv is not None else sys.argv[1:])[:1]
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        # Only the chosen subcommand's module is imported (and so only it defines arguments).
        if chosen == [name]:
            importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(importlib.import_module(COMMANDS[args.command][0]).main(args))
