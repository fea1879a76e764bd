"""``fluidspec bench``'s targets: verdicts from hand-made results, and the CLI printing them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fluidspec import _bench_machine
from fluidspec import _bench_targets as bt

BIG = "1x256MiB-f32-combined"


def _row(case: str, op: str, impl: str, median: float, low: float, nbytes: int = 1 << 28,
         count: int = 1) -> dict:
    return {"case": case, "op": op, "impl": impl, "median_s": median, "min_s": low,
            "max_s": median * 2, "bytes": nbytes, "count": count}


def _target(name_start: str) -> bt.Target:
    return next(t for t in bt.TARGETS if t.name.startswith(name_start))


def test_save_is_judged_against_the_faster_of_numpy_and_a_plain_write():
    t = _target("save 1x256MiB")
    rows = [_row(BIG, "save", "numba", 0.22, 0.2), _row(BIG, "save", "numpy", 0.4, 0.3),
            _row(BIG, "save", "limit-python-files", 0.2, 0.19)]
    v = bt.judge(t, rows)
    assert (v["value"], v["value_min"], v["met"], v["verdict"]) == (1.1, 1.0526, True, "met")
    rows[0] = _row(BIG, "save", "numba", 0.25, 0.2)
    assert bt.judge(t, rows)["verdict"] == "not met"


def test_paddle_targets_without_paddle_are_not_measured_never_met():
    rows = [_row(BIG, "load", "numba", 0.1, 0.1), _row(BIG, "load", "numpy-fromfile", 0.2, 0.2)]
    v = bt.judge(_target("load 1x256MiB: time / Paddle"), rows)
    assert v["met"] is None and v["verdict"] == "not measured (no Paddle)"
    assert bt.judge(_target("load 1x256MiB: time / numpy.fromfile"), rows)["value"] == 0.5
    rows.append(_row(BIG, "load", "paddle-2.6.2", 0.05, 0.05, count=1000))  # another size
    v = bt.judge(_target("load 1x256MiB: time / Paddle"), rows)
    assert v["met"] is None and "same size" in v["verdict"]


def test_a_target_whose_floor_alone_misses_the_bound_is_out_of_reach_in_that_run():
    small, n, size = "10000x1KiB-f32-combined", 10000, 10240000
    t = _target("save 10000x1KiB combined: time / one plain write")
    rows = [_row(small, "save", "numba", 0.005, 0.0045, size, n),
            _row(small, "save", "limit-python-files", 0.002, 0.0015, size, n),
            _row(small, "save", "limit-gather-write", 0.0044, 0.0042, size, n)]
    v = bt.judge(t, rows)
    assert (v["value"], v["floor_value"], v["floor_value_min"]) == (2.5, 2.2, 2.8)
    assert v["met"] is False and v["verdict"].startswith("not met: out of reach")
    assert "floor limit-gather-write: 2.2 (min 2.8)" in bt.lines([v])[0]
    rows[2] = _row(small, "save", "limit-gather-write", 0.0036, 0.0032, size, n)
    v = bt.judge(t, rows)  # the floor passes: missing the bound is ours to fix
    assert (v["floor_value"], v["verdict"]) == (1.8, "not met")
    rows[0] = _row(small, "save", "numba", 0.0039, 0.0035, size, n)
    assert bt.judge(t, rows)["verdict"] == "met"
    rows[2] = _row(small, "save", "limit-gather-write", 0.01, 0.01, size, n - 1)
    rows[0] = _row(small, "save", "numba", 0.005, 0.0045, size, n)
    v = bt.judge(t, rows)  # a floor of another size proves nothing
    assert "floor_value" not in v and v["verdict"] == "not met"
    v = bt.judge(t, rows[:2])  # nor does a floor that was not run
    assert "floor_value" not in v and v["verdict"] == "not met"
    rows[2] = _row(small, "save", "limit-gather-write", 0.006, 0.006, size, n)
    v = bt.judge(t, rows)  # a floor slower than what it bounds is no floor
    assert (v["floor_value"], v["out_of_reach"], v["verdict"]) == (3.0, False, "not met")


def test_every_floor_named_is_a_row_the_bench_times():
    from fluidspec import _bench

    floors = [t for t in bt.TARGETS if t.floor]
    assert floors and all(t.floor in _bench.IMPLS and t.floor.startswith("limit-")
                          for t in floors)
    assert all(t.kind in ("ratio<=", "speed>=") for t in floors)  # the kinds judge compares


def test_a_speed_target_whose_floor_alone_is_too_slow_is_out_of_reach_in_that_run():
    t = _target("encode 1x256MiB: speed-up over Paddle")
    rows = [_row(BIG, "encode", "numba", 0.041, 0.04), _row(BIG, "encode", "paddle-2.6.2", 0.55,
                                                           0.5),
            _row(BIG, "encode", "limit-memcpy-fresh", 0.04, 0.04)]
    v = bt.judge(t, rows)
    assert (v["floor_value"], v["floor_value_min"], v["out_of_reach"]) == (13.75, 12.5, True)
    assert v["verdict"] == "not met: out of reach in this run (limit-memcpy-fresh alone is 13.8x)"
    rows[2] = _row(BIG, "encode", "limit-memcpy-fresh", 0.03, 0.03)
    v = bt.judge(t, rows)  # a copy fast enough: missing the bound is ours to fix
    assert (v["floor_value"], v["verdict"]) == (18.3333, "not met")
    rows[2] = _row(BIG, "encode", "limit-memcpy-fresh", 0.045, 0.045)
    v = bt.judge(t, rows)  # a floor slower than what it bounds is no floor
    assert (v["out_of_reach"], v["verdict"]) == (False, "not met")
    rows[0] = _row(BIG, "encode", "numba", 0.035, 0.035)
    rows[2] = _row(BIG, "encode", "limit-memcpy-fresh", 0.03, 0.03)
    assert bt.judge(t, rows)["verdict"] == "met"


def test_offsets_per_tensor_and_speeds():
    rows = [_row("jit", "first-save", "numba", 0.6, 0.5, 24),
            _row("jit", "first-save", "numba-floor", 0.5, 0.45, 24),
            _row("10000x1KiB-f32-combined", "encode", "numba", 0.02, 0.01, 10240000, 10000),
            _row(BIG, "encode", "numba", 0.1, 0.1), _row(BIG, "encode", "limit-memcpy-fresh",
                                                         0.08, 0.09)]
    v = bt.judge(_target("first save"), rows)
    assert (v["value"], v["value_min"], v["met"]) == (0.1, 0.05, True)
    v = bt.judge(_target("encode 10000x1KiB"), rows)
    assert (v["value"], v["value_min"], v["met"]) == (2.0, 1.0, False)
    v = bt.judge(_target("encode 1x256MiB: throughput"), rows)
    assert (v["value"], v["value_min"], v["met"]) == (0.8, 0.9, False)
    assert len(bt.judge_all(rows)) == len(bt.TARGETS)


def test_the_cli_prints_every_target_with_a_verdict(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text(json.dumps({"sweep": {"kept": True}}))
    proc = subprocess.run(
        [sys.executable, "-m", "fluidspec", "bench", "--quick", "--only", "jit", "--json",
         str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["sweep"] == {"kept": True} and data["schema"] >= 3
    assert data["machine"]["logical_cpus"] == os.cpu_count()
    assert f"machine: {_bench_machine.summary(data['machine'])}" in proc.stdout
    names = [t["target"] for t in data["targets"]]
    assert names == [t.name for t in bt.TARGETS]
    by = {t["target"]: t for t in data["targets"]}
    assert by[_target("first save").name]["verdict"] in ("met", "not met")
    assert by[_target("fluidspec inspect").name]["verdict"] in ("met", "not met")
    assert by[_target("save 1x256MiB").name]["verdict"] == "not measured (numba not run)"
    for name in names:
        assert name in proc.stdout
