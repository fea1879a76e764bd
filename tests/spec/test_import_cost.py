"""What importing the light parts of fluidspec pulls in: neither numba (seconds of start-up) nor
ml_dtypes (0.6 s with ml_dtypes 0.7), until a tensor needs them."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    return set(out.stdout.split())


def test_spec_and_reference_import_neither_numba_nor_ml_dtypes():
    loaded = _modules_after("import fluidspec, fluidspec.spec, fluidspec.reference")
    assert "numba" not in loaded and "ml_dtypes" not in loaded


def test_ml_dtypes_is_imported_when_a_bfloat16_tensor_is_read():
    loaded = _modules_after(
        "import numpy as np\n"
        "from fluidspec.reference import codec\n"
        "raw = codec.encode_lod_tensor(np.zeros(2, np.uint16))  # numpy uint16 is BF16\n"
        "assert codec.decode_tensor_file(raw).array.dtype.name == 'bfloat16'")
    assert "ml_dtypes" in loaded and "numba" not in loaded
