"""Finding implementations (--impl): built-ins, module:attr, entry points, cmd:, and the pytest
plugin (pytest -p fluidspec.conformance.pytest_plugin --pyargs fluidspec.conformance --fluidspec-impl …)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fluidspec.conformance import (
    AdapterUnavailable,
    FluidAdapter,
    SubprocessAdapter,
    _discovery,
    resolve,
)
from fluidspec.conformance._runner import run_suite
from fluidspec.conformance.toys import BrokenUnsortedCombined, ToyAdapter

ROOT = Path(__file__).resolve().parents[2]


def test_builtins_resolve():
    assert isinstance(resolve("reference"), FluidAdapter)
    assert resolve("numba").name == "numba"
    assert isinstance(resolve("cmd:python -m x"), SubprocessAdapter)
    assert "reference" in _discovery.builtin_names()


def test_module_attr_takes_an_adapter_a_class_or_a_factory():
    assert isinstance(resolve("fluidspec.conformance.toys:ToyAdapter"), ToyAdapter)
    assert isinstance(resolve("fluidspec.conformance.toys:unsorted"), BrokenUnsortedCombined)
    with pytest.raises(ValueError, match="not an Adapter"):
        resolve("fluidspec.conformance._case:PROTOCOL")
    with pytest.raises(ValueError, match="unknown implementation"):
        resolve("no-such-thing")


def test_entry_point_group(monkeypatch):
    class EP:
        name = "my-impl"

        def load(self):
            return ToyAdapter

    monkeypatch.setattr(_discovery, "entry_points",
                        lambda group: [EP()] if group == "fluidspec.implementations" else [])
    assert isinstance(resolve("my-impl"), ToyAdapter)


def test_missing_implementation_skips_cleanly():
    ghost = FluidAdapter("ghost", "reference", "no_such_package.io")
    with pytest.raises(AdapterUnavailable):
        ghost.hello()
    report = run_suite([ghost], only=["round_trip", "write_zero_d"])
    assert {r.status for r in report.results} == {"skip"}
    assert not report.failed


def _pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "fluidspec.conformance.pytest_plugin",
                           "--pyargs", "fluidspec.conformance", "-q", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd="/", timeout=300)


def test_pytest_plugin_runs_checks_as_tests():
    bad = _pytest("--fluidspec-impl", "fluidspec.conformance.toys:BrokenUnsortedCombined",
                  "--fluidspec-check", "write_combined_bytes", "--fluidspec-check", "write_zero_d")
    assert bad.returncode == 1, bad.stdout[-2000:]
    assert "1 failed, 1 passed" in bad.stdout and "FMT-COMB-001" in bad.stdout
    good = _pytest("--fluidspec-impl", "fluidspec.conformance.toys:ToyAdapter",
                   "--fluidspec-check", "write_combined_bytes")
    assert good.returncode == 0 and "1 passed" in good.stdout
