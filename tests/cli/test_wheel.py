"""fluidspec installed from its wheel into a fresh venv works away from the checkout.

This is what a user gets from ``pip install fluidspec``: the spec chapters, the protocol schema,
the vectors and known-failures files must come from inside the installed package.  The test
builds the wheel, installs it with its dependencies from the package registry (a minute or two),
and runs the command from a directory outside the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, timeout: int = 600, extra_env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH or a checkout on sys.path would let the installed command import the
    # repository's files instead of the wheel's; FLUIDSPEC_PADDLE_PYTHON would point at the
    # checkout's Paddle instead of the managed one.
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV", "FLUIDSPEC_PADDLE_PYTHON"}}
    return subprocess.run(args, cwd=cwd, env={**env, **(extra_env or {})}, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_installed_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources, and the
    # working tree is shared with other runs.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", "site"))
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                  "-w", str(wheels), str(source)], cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheels.glob("fluidspec-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    installed = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q",
                      "--disable-pip-version-check", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = str(bin_dir / "fluidspec")
    version = _run([command, "--version"], cwd=elsewhere)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip().startswith("fluidspec ")

    run = _run([command, "conformance", "--impl", "reference", "--check",
                "write_combined_bytes", "--quiet"], cwd=elsewhere)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "RESULT: ok" in run.stdout

    # The package data is read from the install, not from the checkout.
    where = _run([str(bin_dir / "python"), "-c",
                  "import fluidspec.spec._clauses as c, fluidspec.conformance as k;"
                  "print(c.CHAPTERS_DIR); print(k.KNOWN_FAILURES_DIR)"], cwd=elsewhere)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).is_relative_to(env_dir) and Path(line).is_dir(), line

    # Real Paddle on the user's machine: a managed venv in the user's cache (here a fresh one),
    # found by --impl paddle-2.6.2 without any option.
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    setup = _run([command, "paddle", "setup", "2.6.2"], cwd=elsewhere, extra_env=cache)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
    where_paddle = _run([command, "paddle", "where"], cwd=elsewhere, extra_env=cache)
    assert where_paddle.returncode == 0 and where_paddle.stdout.startswith(str(tmp_path / "cache"))
    judged = _run([command, "conformance", "--impl", "paddle-2.6.2", "--check",
                   "write_combined_bytes", "--quiet"], cwd=elsewhere, extra_env=cache)
    assert judged.returncode == 0, judged.stdout[-3000:] + judged.stderr[-3000:]
    assert "RESULT: ok" in judged.stdout
