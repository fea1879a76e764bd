"""``fluidspec matrix`` as a user runs it: usage errors are one line and exit 2 before any work,
an implementation named on the command line that cannot start is exit 3, and a run writes the
JSON document and the page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]


def fluidspec(*args: str, cwd: Path, env: dict[str, str] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fluidspec", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})})


def one_line_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(("args", "phrase"), [
    (["--impl", "no-such-impl"], "unknown implementation 'no-such-impl'"),
    (["--impl", "reference", "--impl", "reference"], "twice"),
    (["--out", "."], "is a directory"),
    (["--page", "missing-dir/page.md"], "does not exist"),
    (["--profile", "fast"], "invalid choice"),
])
def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], phrase: str):
    line = one_line_error(fluidspec("matrix", *args, cwd=tmp_path), 2)
    assert line.startswith("fluidspec matrix: error:") and phrase in line, line


def test_an_implementation_named_that_cannot_start_is_exit_3(tmp_path: Path):
    result = fluidspec("matrix", "--impl", "reference", "--impl", "openvino", "--out", "m.json",
                       cwd=tmp_path, env={"FLUIDSPEC_OPENVINO_PYTHON": str(tmp_path / "none")})
    line = one_line_error(result, 3)
    assert "openvino" in line and "does not exist" in line
    assert not (tmp_path / "m.json").exists()


def test_a_run_writes_the_document_and_the_page(tmp_path: Path):
    result = fluidspec("matrix", "--impl", "reference", "--impl", "numba", "--out", "m.json",
                       "--page", "page.md", "--quiet", cwd=tmp_path, timeout=600,
                       env={"NUMBA_CACHE_DIR": str(CHECKOUT / ".venv" / "numba-cache")})
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "fluidspec-compatibility/1"
    assert [i["name"] for i in doc["implementations"]] == ["reference", "numba"]
    for impl in ("reference", "numba"):
        statuses = {c["status"] for ch in doc["results"][impl].values()
                    for c in ch["clauses"].values()}
        assert statuses == {"pass"}, (impl, statuses)
    assert {c["status"] for c in doc["interop"]["cells"]} == {"pass"}
    assert "seconds" not in json.dumps(doc)  # nothing of the machine or the clock
    page = (tmp_path / "page.md").read_text(encoding="utf-8")
    assert 'id="compat-chapters"' in page and 'id="interop-grid-separate"' in page
    assert "reference: " in result.stdout and "interop: " in result.stdout
