"""``fluidspec paddle setup|where [VERSION]``: real PaddlePaddle for ``--impl paddle-2.6.2``.

Paddle runs in a venv of its own, never in fluidspec's: it is an implementation under test,
judged through the protocol from outside (conformance/paddle/server.py imports only paddle and
numpy).  ``setup`` makes that venv in the user's cache directory; ``where`` says which interpreter
``--impl paddle-VERSION`` would use.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import venv
from pathlib import Path

from fluidspec._usage import UsageError

DEFAULT_VERSION = "2.6.2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=type(parser))
    setup = actions.add_parser("setup", help="create the managed venv and pip-install "
                               "paddlepaddle==VERSION into it (idempotent)")
    setup.add_argument("version", nargs="?", default=DEFAULT_VERSION, metavar="VERSION",
                       help=f"Paddle version (default {DEFAULT_VERSION})")
    where = actions.add_parser("where", help="print the Python interpreter --impl paddle-VERSION "
                               "would use (exit 1 if none)")
    where.add_argument("version", nargs="?", default=DEFAULT_VERSION, metavar="VERSION",
                       help=f"Paddle version (default {DEFAULT_VERSION})")


def _installed_version(python: Path) -> str | None:
    """The paddle version importable by ``python``, or None (paddle's import takes a second)."""
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('paddlepaddle'))"],
        capture_output=True, text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def _pip_install(python: Path, version: str) -> int:
    """pip's own progress is shown: a first install downloads a few hundred MB."""
    return subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                           f"paddlepaddle=={version}"]).returncode


def setup(version: str, venv_dir: Path) -> int:
    """Make ``venv_dir`` a venv with paddlepaddle==``version``; nothing to do when it is one."""
    python = venv_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    if python.is_file() and _installed_version(python) == version:
        print(f"paddlepaddle {version} is already set up: {python}")
        return 0
    start = time.perf_counter()
    if not python.is_file():
        print(f"creating a venv at {venv_dir}", file=sys.stderr, flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=venv_dir.exists()).create(venv_dir)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise UsageError(f"cannot create a venv at {venv_dir}: {exc}") from exc
    print(f"installing paddlepaddle=={version} (a few hundred MB on first install)",
          file=sys.stderr, flush=True)
    status = _pip_install(python, version)
    if status != 0:
        print(f"fluidspec paddle: error: pip install paddlepaddle=={version} failed (exit "
              f"{status}); see pip's message above", file=sys.stderr)
        return 1
    print(f"paddlepaddle {version} set up in {time.perf_counter() - start:.0f} s: {python}")
    return 0


def main(args: argparse.Namespace) -> int:
    from fluidspec.conformance import PADDLE_VERSIONS, paddle_python, paddle_venv_dir

    if args.version not in PADDLE_VERSIONS:
        raise UsageError(f"Paddle {args.version} is not supported; supported: "
                         f"{', '.join(PADDLE_VERSIONS)}")
    if args.action == "where":
        python, why = paddle_python(args.version)
        if python is None:
            print(f"fluidspec paddle: {why}", file=sys.stderr)
            return 1
        print(python)
        return 0
    return setup(args.version, paddle_venv_dir(args.version))
