"""Every subcommand on bad arguments: the right exit status, one line on stderr, no traceback.

The commands run as subprocesses, as a user runs them; a usage error is exit 2, and inputs that
the error taxonomy names (a missing or truncated save) keep their taxonomy id (ERR-001).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NOT_A_DIR = "regular-file"  # a path below a regular file: it can be neither read nor created


def fluidspec(*args: str, cwd: Path, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "fluidspec", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env={**os.environ, **(env or {})})


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def place(tmp_path: Path) -> Path:
    (tmp_path / NOT_A_DIR).write_bytes(b"x")
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "binary").write_bytes(bytes(range(256)))
    return tmp_path


# (arguments, exit status, a phrase the one line must hold); paths are relative to ``place``.
USAGE_ERRORS = [
    # inspect
    (["inspect"], 2, "required: path"),
    (["inspect", "empty-dir"], 2, "holds no files"),
    (["inspect", "/dev/null"], 2, "not a regular file or directory"),
    (["inspect", "--json", "empty-dir"], 2, "holds no files"),
    # sample
    (["sample"], 2, "required: directory"),
    (["sample", NOT_A_DIR], 2, "not a directory"),
    (["sample", f"{NOT_A_DIR}/out"], 2, "is not a directory"),
    # diff
    (["diff", "empty-dir"], 2, "required: b"),
    (["diff", "/dev/null", "empty-dir"], 2, "not a regular file or directory"),
    (["diff", "empty-dir", "empty-dir", "--names", "binary"], 2, "--names"),
    (["diff", "empty-dir", "empty-dir", "--atol", "x"], 2, "--atol"),
    (["diff", "empty-dir", "empty-dir", "--atol", "-1"], 2, "--atol -1"),
    (["diff", "empty-dir", "empty-dir", "--atol", "nan"], 2, "--atol nan"),
    # conformance
    (["conformance", "--impl", "reference", "--check", "no_such_check"], 2, "unknown check"),
    (["conformance", "--impl", "reference", "--clause", "NOPE-001"], 2, "unknown clause"),
    (["conformance", "--impl", "reference", "--json", "empty-dir"], 2, "is a directory"),
    (["conformance", "--impl", "reference", "--json", f"{NOT_A_DIR}/r.json"], 2, "does not exist"),
    (["conformance", "--impl", "reference", "--json", "missing-dir/r.json"], 2, "does not exist"),
    (["conformance", "--impl", "reference", "--claim", "missing.json"], 2, "--claim"),
    (["conformance", "--impl", "reference", "--claim", "binary"], 2, "not JSON"),
    (["conformance", "--impl", "reference", "--claim", "empty-dir"], 2, "--claim"),
    (["conformance", "--impl", "reference", "--known-failures", "missing.txt"], 2,
     "--known-failures"),
    (["conformance", "--impl", "reference", "--known-failures", "/dev/null"], 2,
     "not a regular file"),
    (["conformance", "--impl", "reference", "--min-coverage", "101"], 2, "--min-coverage"),
    (["conformance", "--impl", "reference", "--paddle-python", "missing-python"], 2,
     "--paddle-python"),
    (["conformance", "--impl", "reference", "--paddle-python", "empty-dir"], 2, "is a directory"),
    (["conformance", "--impl", "no-such-impl", "--check", "write_combined_bytes"], 2,
     "unknown implementation"),
    (["conformance", "--impl", "no_such_module:adapter", "--check", "write_combined_bytes"], 2,
     "cannot import no_such_module"),
    (["conformance", "--impl", "json:no_such_attr", "--check", "write_combined_bytes"], 2,
     "has no attribute no_such_attr"),
    (["conformance", "--profile", "slow"], 2, "--profile"),
    # bench (the checks run before any timing)
    (["bench", "--json", "empty-dir"], 2, "is a directory"),
    (["bench", "--json", "missing-dir/b.json"], 2, "does not exist"),
    (["bench", "--only", "no_such_case"], 2, "unknown case"),
    # matrix (the checks run before any implementation starts)
    (["matrix", "--impl", "no-such-impl"], 2, "unknown implementation"),
    (["matrix", "--out", "empty-dir"], 2, "is a directory"),
    (["matrix", "--out", f"{NOT_A_DIR}/c.json"], 2, "does not exist"),
    (["matrix", "--page", "missing-dir/c.md"], 2, "does not exist"),
    (["matrix", "--profile", "slow"], 2, "--profile"),
    (["bench", "--sweep", "--max-size", "lots"], 2, "--max-size"),
    # paddle
    (["paddle"], 2, "required: ACTION"),
    (["paddle", "setup", "9.9"], 2, "not supported"),
    (["paddle", "where", "9.9"], 2, "not supported"),
    # the command itself
    ([], 2, "usage"),
    (["no-such-command"], 2, "invalid choice"),
]


@pytest.mark.parametrize(("args", "status", "phrase"), USAGE_ERRORS,
                         ids=[" ".join(a) or "(none)" for a, _, _ in USAGE_ERRORS])
def test_usage_error_is_one_line(place: Path, args: list[str], status: int, phrase: str) -> None:
    result = fluidspec(*args, cwd=place)
    if not args:  # bare `fluidspec` prints its help, which is more than one line, and exits 2
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert phrase in result.stderr
        return
    line = assert_one_line_error(result, status)
    assert phrase in line, line
    assert line.startswith("fluidspec")


def test_sample_refuses_to_write_over_an_earlier_sample(place: Path) -> None:
    assert fluidspec("sample", "out", cwd=place).returncode == 0
    line = assert_one_line_error(fluidspec("sample", "out", cwd=place), 2)
    assert "already exists" in line


@pytest.mark.parametrize("command", [["inspect"], ["inspect", "--json"], ["diff", "a"]])
def test_missing_save_keeps_its_taxonomy_id(place: Path, command: list[str]) -> None:
    args = [*command, "missing"] if command[0] == "inspect" else ["diff", "missing", "empty-dir"]
    line = assert_one_line_error(fluidspec(*args, cwd=place), 1 if command[0] == "inspect" else 2)
    assert "MISSING_FILE" in line


def test_inspect_of_an_empty_file_is_a_truncated_record(place: Path) -> None:
    (place / "empty").write_bytes(b"")
    line = assert_one_line_error(fluidspec("inspect", "empty", cwd=place), 1)
    assert "TRUNCATED" in line


def test_inspect_json_is_json_lines(place: Path) -> None:
    assert fluidspec("sample", "s", cwd=place).returncode == 0
    result = fluidspec("inspect", "--json", "s/separate", cwd=place)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    # the sample writes six separate files of one record each (fluidspec/_cmd_sample.py)
    assert len(records) == 6 and all(isinstance(r, dict) for r in records)


def test_version_is_the_installed_distribution_version(place: Path) -> None:
    from importlib.metadata import version

    result = fluidspec("--version", cwd=place)
    assert result.returncode == 0
    assert result.stdout.strip() == f"fluidspec {version('fluidspec')}"


def test_an_internal_error_is_one_line_naming_a_bug(place: Path, monkeypatch, capsys) -> None:
    from fluidspec import _cli, _cmd_inspect

    def broken(args: object) -> int:
        raise ZeroDivisionError("deliberately broken\nsecond line")

    monkeypatch.setattr(_cmd_inspect, "main", broken)
    monkeypatch.delenv("FLUIDSPEC_TRACEBACK", raising=False)
    assert _cli.main(["inspect", str(place)]) == 70
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "fluidspec bug" in err and "ZeroDivisionError: deliberately broken" in err


@pytest.mark.parametrize("args", [["conformance", "--list"], ["inspect", "a-sample"]])
def test_a_reader_that_leaves_early_stops_the_command_quietly(place: Path, args: list[str]
                                                             ) -> None:
    """``fluidspec conformance --list | head``: standard output is a pipe nobody reads any
    more; the command stops with status 1 and says nothing (no internal error, no
    traceback), whether the write failed in the command or in the last flush."""
    import os

    assert fluidspec("sample", "a-sample", cwd=place).returncode == 0
    assert fluidspec(*args, cwd=place).returncode == 0  # read to the end, the command succeeds
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "fluidspec", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120, cwd=place)
    finally:
        os.close(write_end)
    assert proc.returncode == 1, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_broken_pipe_that_is_not_standard_output_is_an_internal_error(place: Path, monkeypatch,
                                                                         capsys) -> None:
    from fluidspec import _cli, _cmd_inspect

    def broken(args: object) -> int:
        raise BrokenPipeError(32, "a worker's pipe closed")

    monkeypatch.setattr(_cmd_inspect, "main", broken)
    monkeypatch.setattr(_cli, "_stdout_reader_left", lambda: False)
    monkeypatch.delenv("FLUIDSPEC_TRACEBACK", raising=False)
    assert _cli.main(["inspect", str(place)]) == 70
    assert "internal error (BrokenPipeError" in capsys.readouterr().err
