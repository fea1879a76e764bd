"""numba_kernels imports ml_dtypes (0.6 s with ml_dtypes 0.7, more than numba) only when a
bfloat16 / float8 tensor is met: a float32 save and load in a fresh process do without it."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=300)
    return set(out.stdout.split())


def test_float32_save_and_load_do_not_import_ml_dtypes(tmp_path):
    path = str(tmp_path / "combined")
    loaded = _run(
        "import numpy as np\n"
        "from fluidspec.numba_kernels import files\n"
        f"files.save_combined({path!r}, [np.arange(6, dtype=np.float32).reshape(2, 3)])\n"
        f"[(a, lod)] = files.load_combined({path!r}, 1)\n"
        "assert a.dtype == np.float32 and a.tolist() == [[0, 1, 2], [3, 4, 5]]")
    assert "numba" in loaded and "ml_dtypes" not in loaded


def test_a_bfloat16_record_is_decoded_as_ml_dtypes_bfloat16(tmp_path):
    path = str(tmp_path / "combined")
    loaded = _run(
        "import numpy as np\n"
        "from fluidspec.numba_kernels import files\n"
        "from fluidspec.spec import VarType\n"
        f"files.save_combined({path!r}, [np.array([0x3F80], np.uint16)])  # uint16 is BF16\n"
        f"[(a, _)] = files.load_combined({path!r}, 1)\n"
        "assert a.dtype.name == 'bfloat16' and float(a[0]) == 1.0, a.dtype")
    assert "ml_dtypes" in loaded


def test_an_ml_dtypes_array_is_written_with_its_element_type():
    _run(
        "import ml_dtypes, numpy as np\n"
        "from fluidspec.numba_kernels.cpu import writer_code\n"
        "from fluidspec.spec import VarType\n"
        "assert writer_code(np.dtype(ml_dtypes.bfloat16)) == (int(VarType.BF16), False)\n"
        "assert writer_code(np.dtype(ml_dtypes.float8_e4m3fn)) == (int(VarType.FP8_E4M3FN), False)\n"
        "assert writer_code(np.dtype(ml_dtypes.float8_e5m2)) == (int(VarType.FP8_E5M2), False)\n"
        "assert writer_code(np.dtype('>f4')) == (int(VarType.FP32), True)\n"
        "assert writer_code(np.dtype('U3')) == (-1, False)")
