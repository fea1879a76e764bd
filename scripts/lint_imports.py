"""Check the import contracts of ``.importlinter`` against the package as it is installed.

lint-imports (grimp) finds a package by walking its folder, but ``fluidspec``'s subpackages live
in other folders of the repository (pyproject.toml's ``package-dir``), which the editable install
maps at import time only.  This script lays the Python files out as a wheel would, under a
temporary folder, and runs lint-imports there with the repository's contract file.

Usage: ``.venv/bin/python scripts/lint_imports.py`` (exit status is lint-imports').
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def package_folders(pyproject: Path) -> dict[str, Path]:
    """Each package pyproject.toml installs -> the repository folder its modules come from."""
    setuptools = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]
    package_dir: dict[str, str] = setuptools.get("package-dir", {})
    folders: dict[str, Path] = {}
    for package in setuptools["packages"]:
        # The longest mapped ancestor decides, as in setuptools: fluidspec.numba_kernels.cpu is
        # numba_kernels/cpu because fluidspec.numba_kernels is numba_kernels.
        parts = package.split(".")
        for cut in range(len(parts), 0, -1):
            mapped = package_dir.get(".".join(parts[:cut]))
            if mapped is not None:
                folders[package] = REPO / mapped / Path(*parts[cut:])
                break
        else:
            folders[package] = REPO / Path(*parts)
    return folders


def lay_out(pyproject: Path, target: Path) -> None:
    """Copy the ``.py`` files of every installed package to where a wheel would put them."""
    for package, folder in package_folders(pyproject).items():
        destination = target / Path(*package.split("."))
        destination.mkdir(parents=True, exist_ok=True)
        for source in folder.glob("*.py"):
            shutil.copy2(source, destination / source.name)


def main() -> int:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    with tempfile.TemporaryDirectory(prefix="fluidspec-layout-") as tmp:
        lay_out(REPO / "pyproject.toml", Path(tmp))
        # The laid-out copy must win over the editable install and the repository's own
        # fluidspec/ folder: it comes first on the path, and the command runs outside the repo.
        env = {**os.environ, "PYTHONPATH": tmp}
        command = [str(lint_imports), str(REPO / ".importlinter"), "--no-cache"]
        return subprocess.run(command, cwd=tmp, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
