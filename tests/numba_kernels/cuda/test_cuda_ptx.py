"""fluidspec.numba_kernels.cuda._ptx: every CUDA kernel compiles to PTX for compute capability 9.0.

Catches what the simulator accepts but a GPU compiler rejects.  Runs in ``.venv-cu13`` (numba-cuda
with the CUDA 13 toolkit wheels, made by scripts/test.sh), in a subprocess with the simulator off;
it needs no GPU.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fluidspec.numba_kernels.cuda._kernels import KERNEL_SIGNATURES

ROOT = Path(__file__).resolve().parents[3]
PTX_PYTHON = ROOT / ".venv-cu13" / "bin" / "python"

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not PTX_PYTHON.exists(),
                       reason="no .venv-cu13 with numba-cuda[cu13] (scripts/test.sh creates it; "
                              "FLUIDSPEC_SKIP_PTX=1 opts out)"),
    pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1",
                       reason="the PTX check runs once, in the non-simulator pytest run"),
]


def importable_numba_kernels(folder: Path) -> Path:
    """A folder where ``fluidspec.numba_kernels`` is the repository's numba_kernels/.

    .venv-cu13 has numba only, no fluidspec install, and the repository root alone does not
    give ``fluidspec.numba_kernels`` (pyproject.toml maps it from another folder).
    """
    package = folder / "fluidspec"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "numba_kernels").symlink_to(ROOT / "numba_kernels", target_is_directory=True)
    return folder


def test_every_kernel_compiles_to_ptx_for_cc90(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = str(importable_numba_kernels(tmp_path))
    # Not from the repository root: its fluidspec/ folder (the CLI) would shadow the one made here.
    done = subprocess.run([str(PTX_PYTHON), "-m", "fluidspec.numba_kernels.cuda._ptx"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    for name, _, _ in KERNEL_SIGNATURES:
        assert f"ptx {name}: ok, cc 9.0" in done.stdout
