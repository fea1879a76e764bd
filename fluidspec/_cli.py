"""``fluidspec`` — one entry point, one subcommand per tool.

Subcommands are imported only when run, so ``fluidspec inspect`` never imports numba or
hypothesis (tools and tests call it hundreds of times).  Each subcommand module provides
``add_arguments(parser)`` and ``main(args) -> int``.

Exit statuses shared by every subcommand: 2 for a usage error (reported in one line on stderr,
``fluidspec COMMAND: error: ...``), 70 (EX_SOFTWARE) for an internal error, which is a fluidspec
bug: one line saying so and where to report it, the traceback only with ``FLUIDSPEC_TRACEBACK=1``.
When the reader of standard output leaves early (``fluidspec conformance --list | head``), the
command stops quietly with status 1: its output was not all delivered.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "inspect": ("fluidspec._cmd_inspect", "show the records of saved tensor files, and __model__ programs"),
    "sample": ("fluidspec._cmd_sample", "write a small sample save to a directory"),
    "bench": ("fluidspec._cmd_bench", "time numba_kernels beside numpy, pickle, safetensors, reference, Paddle"),
    "diff": ("fluidspec._cmd_diff", "compare two saves variable by variable (exit 0 when equal)"),
    "conformance": ("fluidspec._cmd_conformance", "run the conformance suite clause by clause"),
    "matrix": ("fluidspec._cmd_matrix", "the compatibility matrix: suite and interop grid of every implementation"),
    "paddle": ("fluidspec._cmd_paddle", "set up real PaddlePaddle for --impl paddle-2.6.2 (setup, where)"),
}

USAGE_ERROR = 2
INTERNAL_ERROR = 70  # EX_SOFTWARE (sysexits.h)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse's default prints the usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def version() -> str:
    """The installed distribution's version (the package metadata, not a constant to keep in step)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("fluidspec")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _bug_tracker() -> str:
    """Where bugs go: the package metadata's issue tracker URL when it has one."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        for entry in metadata("fluidspec").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in {"issues", "bug tracker", "bugs"}:
                return url.strip()
    except PackageNotFoundError:
        pass
    return "the issue tracker of the fluidspec repository"


def _parser(chosen: list[str]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fluidspec",
        description="Executable specification of PaddlePaddle Fluid's model save/load.",
    )
    parser.add_argument("--version", action="version", version=f"fluidspec {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        # Only the chosen subcommand's module is imported (and so only it defines arguments).
        if chosen == [name]:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(argv if argv is not None else sys.argv[1:])
    parser = _parser(argv[:1])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    from fluidspec._usage import UsageError

    try:
        status = int(importlib.import_module(COMMANDS[args.command][0]).main(args))
        sys.stdout.flush()  # a reader that left shows here, not in the interpreter's last flush
        return status
    except UsageError as exc:
        print(f"fluidspec {args.command}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"fluidspec {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as exc:
        if not _stdout_reader_left():  # another pipe (a subprocess's): a fluidspec bug
            return _internal_error(args.command, exc)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - every user error is handled before this point
        return _internal_error(args.command, exc)


def _internal_error(command: str, exc: BaseException) -> int:
    """One line naming the bug and where to report it (call while ``exc`` is handled)."""
    if os.environ.get("FLUIDSPEC_TRACEBACK"):
        raise exc
    detail = " ".join(str(exc).split())[:300]
    print(f"fluidspec {command}: internal error ({type(exc).__name__}: {detail}); this "
          f"is a fluidspec bug, please report it at {_bug_tracker()} with the command line "
          f"(FLUIDSPEC_TRACEBACK=1 shows the traceback)", file=sys.stderr)
    return INTERNAL_ERROR


def _stdout_reader_left() -> bool:
    """Whether standard output is a pipe whose reading end is closed (``poll`` reports an
    error condition on it); False where that cannot be told."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), no file descriptor
        return False
