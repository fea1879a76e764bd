"""fluidspec._bench_cuda / ``python -m fluidspec.cuda_check``: the prepared GPU check.

Under the simulator with ``--tiny`` sizes: it runs, compares device bytes with the CPU path
(FMT-COMB-001 bytes), writes the documented JSON rows, and fails loudly — exit 1 and a
``BYTE MISMATCH`` message — when the device path writes one wrong byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from cuda_cases import require_cuda

require_cuda()

from fluidspec import _bench_cuda as _cuda_bench  # noqa: E402
from fluidspec.numba_kernels import cuda as gpu  # noqa: E402

pytestmark = pytest.mark.cuda


def test_tiny_check_passes_and_writes_json(tmp_path, capsys):
    out = tmp_path / "cuda.json"
    assert _cuda_bench.main(["--tiny", "--cases", "4", "--repeat", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]
    seen = {(r["case"], r["op"], r["impl"]) for r in rows}
    for case in ("1x256MiB-f32-combined", "10000x1KiB-f32-combined"):
        for op in ("encode", "decode"):
            assert (case, op, "cuda") in seen
            assert (case, op, "limit-d2d-copy") in seen
    assert all(r["min_s"] <= r["median_s"] <= r["max_s"] for r in rows)
    assert "bytes identical on all 4 cases" in capsys.readouterr().out


def test_a_wrong_byte_fails_loudly(monkeypatch, capsys):
    real = gpu.encode

    def corrupt(*args, **kwargs):
        packed = real(*args, **kwargs)
        if packed.shape[0] > 30:
            host = packed.copy_to_host()
            host[30] ^= np.uint8(1)
            packed.copy_to_device(host)
        return packed

    monkeypatch.setattr(gpu, "encode", corrupt)
    assert _cuda_bench.main(["--tiny", "--cases", "10", "--no-timing"]) == 1
    err = capsys.readouterr().err
    assert "BYTE MISMATCH" in err and "byte 30" in err


def test_random_cases_cover_lod_zero_size_and_0d():
    """The check's own generator must reach the awkward shapes, or it proves little."""
    rng = np.random.default_rng(0)
    seen_lod = seen_zero = seen_0d = False
    for _ in range(40):
        arrays, lods = _cuda_bench.random_case(rng, 64)
        seen_lod |= any(lods)
        seen_zero |= any(a.size == 0 for a in arrays)
        seen_0d |= any(a.ndim == 0 for a in arrays)
    assert seen_lod and seen_zero and seen_0d


def test_command_line_entry_point():
    """``python -m fluidspec.cuda_check``: 0 under the simulator, 2 with no CUDA at all."""
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    ok = subprocess.run([sys.executable, "-m", "fluidspec.cuda_check", "--tiny", "--cases",
                         "2", "--no-timing"], env=env, capture_output=True, text=True,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr
    if gpu.simulated():  # without the simulator there is no GPU on this machine either
        env.pop("NUMBA_ENABLE_CUDASIM")
        none = subprocess.run([sys.executable, "-m", "fluidspec.cuda_check"], env=env,
                              capture_output=True, text=True, timeout=300)
        assert none.returncode == 2 and "cannot run" in none.stderr


def test_fluidspec_bench_cuda_flag(tmp_path):
    """``fluidspec bench --cuda`` runs the same check (tiny sizes under the simulator)."""
    from fluidspec._cli import main as cli

    out = tmp_path / "bench.json"
    assert cli(["bench", "--cuda", "--quick", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]
    assert {r["impl"] for r in rows} == {"cuda", "cuda-arena", "limit-d2d-copy"}


def test_io_check_catches_a_wrong_device_save(monkeypatch):
    """The API-level part of the check fails when the device-packed save differs."""
    real = gpu.pack_to_host

    def corrupt(*args, **kwargs):
        host, offsets = real(*args, **kwargs)
        host[-1] ^= np.uint8(0x80)
        return host, offsets

    _cuda_bench.verify_io(0, 64)  # passes as is
    monkeypatch.setattr(gpu, "pack_to_host", corrupt)
    with pytest.raises(_cuda_bench.ByteMismatch, match="save_persistables"):
        _cuda_bench.verify_io(0, 64)
