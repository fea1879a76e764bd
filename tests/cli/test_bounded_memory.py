"""``inspect`` and ``diff`` on a 1 GiB parameter: peak memory stays bounded.

The file is sparse (a header, then a seek to 1 GiB), so it costs no disk; reading it still goes
through every byte.  Peak RSS is measured for the command alone: a fresh Python starts it and
reports ``RUSAGE_CHILDREN``, which then covers that one child only.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fluidspec.reference.codec import encode_tensor_desc
from fluidspec.spec import VarType

pytestmark = pytest.mark.slow

GIB = 1 << 30
ELEMENTS = GIB // 4  # float32
MB = 1 << 20

# Runs argv[1:], then prints the child's peak RSS in bytes (ru_maxrss is in KiB on Linux).
_MEASURE = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stderr.write(r.stdout[-2000:] + r.stderr[-2000:])\n"
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
)


def _big_params(path: Path, last: float = 0.0) -> Path:
    """One FP32 record of 2**28 elements, all zero but the last (FMT-REC-001 layout)."""
    desc = encode_tensor_desc(int(VarType.FP32), [ELEMENTS])
    header = struct.pack("<IQIi", 0, 0, 0, len(desc)) + desc
    with path.open("wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + GIB)
        fh.seek(len(header) + GIB - 4)
        fh.write(np.float32(last).tobytes())
    return path


def _peak(*args: str) -> tuple[int, int, str]:
    """(exit status, peak RSS in bytes, output) of ``fluidspec ARGS``."""
    result = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "fluidspec",
                             *args], capture_output=True, text=True, timeout=600)
    status, rss = map(int, result.stdout.split())
    return status, rss, result.stderr


@pytest.fixture(scope="module")
def params(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("big")
    return _big_params(root / "a.pdiparams"), _big_params(root / "b.pdiparams", last=1.5)


def test_inspect_of_a_1_gib_file_stays_under_200_mb(params: tuple[Path, Path]) -> None:
    for args in (["--json"], [], ["--values", "--json"]):
        status, rss, out = _peak("inspect", *args, str(params[0]))
        assert status == 0, out
        assert rss < 200 * MB, (args, rss / MB)
    assert '"max": 0.0' in out and '"nan": 0' in out


def test_diff_of_two_1_gib_files_stays_under_300_mb(params: tuple[Path, Path]) -> None:
    status, rss, out = _peak("diff", str(params[0]), str(params[1]))
    assert status == 1, out
    assert f"1 of {ELEMENTS} values differ, max abs difference 1.5" in out
    assert out.rstrip().endswith("diff: 1 difference(s)")
    assert rss < 300 * MB, rss / MB


def test_a_1_gib_file_of_another_kind_is_not_read_whole(tmp_path: Path) -> None:
    """Its first byte rules out tensor data and a ProgramDesc (which starts with field 1,
    blocks): the error comes from the first bytes, not from reading 1 GiB."""
    other = tmp_path / "blob"
    with other.open("wb") as fh:
        fh.write(b"\x01\x00\x00\x00")
        fh.truncate(GIB)
    status, rss, out = _peak("inspect", str(other))
    assert status == 1 and "BAD_VERSION" in out
    assert rss < 200 * MB, rss / MB
