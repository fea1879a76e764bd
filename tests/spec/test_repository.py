"""The repository as a whole: its import architecture, its traces, and what an install ships.

* ``.importlinter``'s contracts hold (layers, private modules, no cycles), checked on the package
  laid out as a wheel would install it (scripts/lint_imports.py says why a layout is needed).
* No tracked file names a work item or cites a research note that is not in the repository:
  evidence is a Paddle version, a public Paddle source path, a public URL, or one of our pages.
* A wheel holds one top-level name, ``fluidspec``, with its data files inside.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Work-item numbers ("issue 7", "Issue #4") and the names of research notes kept outside the
# repository.  A public GitHub issue is cited by its URL (.../issues/27558), which this misses.
TRACE = re.compile(
    r"issue ?#?[0-9]+|paddle-observed|numba-baselines|paddle-sources|verdict-anchors"
    r"|shared/research",
    re.IGNORECASE,
)


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode().split("\0")
    # Every tracked file, tests included: the rule is "anywhere", and the patterns have no
    # legitimate use in a test either.  This file is the one exception: it spells the patterns.
    this = Path(__file__).resolve()
    return [REPO / name for name in listed if name and (REPO / name).resolve() != this]


def test_no_work_item_numbers_or_research_note_citations() -> None:
    found = []
    for path in _tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary vectors; a file deleted in the working tree but not yet in git
        for number, line in enumerate(text.splitlines(), 1):
            if TRACE.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}")
    assert not found, "traces of work items or external notes:\n" + "\n".join(found)


def test_import_contracts_hold() -> None:
    if shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("lint-imports is missing: pip install -e '.[test]' installs import-linter")
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "lint_imports.py")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_every_package_folder_is_installed() -> None:
    # setuptools installs only the packages pyproject.toml lists; a new subpackage left out works
    # in the editable install and is missing from a real one (and from scripts/lint_imports.py).
    pyproject = REPO / "pyproject.toml"
    setuptools = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    on_disk = set()
    for package, folder in setuptools["package-dir"].items():
        for init in (REPO / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / folder)
            on_disk.add(".".join((package, *relative.parts)))
    assert on_disk - listed == set()


def _copy_build_inputs(target: Path) -> None:
    """The files setuptools reads, copied so the build writes nothing into the working tree."""
    pyproject = REPO / "pyproject.toml"
    setuptools = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in sorted(set(setuptools["package-dir"].values())):
        shutil.copytree(REPO / folder, target / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, target / name)


def test_wheel_has_one_top_level_name_with_its_data_inside(tmp_path: Path) -> None:
    source = tmp_path / "src"
    _copy_build_inputs(source)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(source)],
        check=True, capture_output=True, timeout=120,
    )
    (wheel,) = wheels.glob("fluidspec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"fluidspec"}
    assert len([t for t in top_level if t.endswith(".dist-info")]) == 1
    for data in ("fluidspec/spec/framework.proto", "fluidspec/spec/chapters/format.md",
                 "fluidspec/spec/protocol.schema.json",
                 "fluidspec/conformance/vectors/fluidspec/manifest.json",
                 "fluidspec/conformance/known-failures/reference.txt"):
        assert data in names, data
    chapters = {Path(n).name for n in names if n.startswith("fluidspec/spec/chapters/")}
    assert chapters == {p.name for p in (REPO / "spec" / "chapters").glob("*.md")}
