"""``fluidspec bench --sweep``: a tiny sweep's JSON shape, and the scaling helper the targets and
the docs use.  Shapes and arithmetic only: the times themselves are never judged."""

from __future__ import annotations

import json
import subprocess
import sys

from fluidspec import _bench, _bench_sweep


def _row(case: str, op: str, impl: str, nbytes: int, count: int, median: float, low: float
         ) -> dict:
    return {"case": case, "op": op, "impl": impl, "median_s": median, "min_s": low,
            "max_s": median * 2, "bytes": nbytes, "count": count}


def test_a_tiny_sweep_writes_every_point_of_every_curve(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text(json.dumps({"results": [], "notes": ["kept"], "targets": []}))
    proc = subprocess.run(
        [sys.executable, "-m", "fluidspec", "bench", "--sweep", "--max-size", "64KiB",
         "--max-count", "100", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["notes"] == ["kept"]  # a sweep keeps the plain run's part of the file
    sweep = data["sweep"]
    assert sweep["sizes"] == [1024, 4096, 16384, 65536] and sweep["max_size"] == 65536
    assert sweep["counts"] == [1, 10, 100] and sweep["max_size_why"] == "--max-size"
    points = {(r["case"], r["op"], r["impl"], r["bytes"], r["count"]) for r in sweep["results"]}
    expected = set()
    for impl in ("limit-python-files", "reference", "numba"):
        for op in ("save", "load"):
            expected |= {("sweep-size-combined", op, impl, s, 1) for s in sweep["sizes"]}
            for case in ("sweep-count-combined", "sweep-count-separate"):
                expected |= {(case, op, impl, 1024 * c, c) for c in sweep["counts"]}
    # the floor of the combined load of many tensors
    expected |= {("sweep-count-combined", "load", "limit-read-pairs", 1024 * c, c)
                 for c in sweep["counts"]}
    assert points == expected
    for r in sweep["results"]:
        assert 0 <= r["min_s"] <= r["median_s"] <= r["max_s"]
    # 3 curves x 2 ops x 3 impls and the one floor, each with its top point and the one it is
    # compared with
    assert len(sweep["scaling"]) == 19
    assert {(s["at"], s["vs"]) for s in sweep["scaling"]} == {(65536, 4096), (100, 10)}
    verdicts = [t["verdict"] for t in sweep["targets"]]
    assert len(verdicts) == 6 and all(v.startswith("not measured") for v in verdicts)
    assert "targets" in proc.stdout and "scaling" in proc.stdout


def test_scaling_is_time_per_unit_at_the_top_over_a_step_below():
    rows = [
        _row("sweep-size-combined", "save", "numba", 1 << 30, 1, 4.0, 3.0),
        _row("sweep-size-combined", "save", "numba", 1 << 26, 1, 0.2, 0.15),
        _row("sweep-size-combined", "save", "numba", 1 << 20, 1, 0.001, 0.001),
        _row("sweep-size-combined", "save", "reference", 1 << 30, 1, 99.0, 99.0),
    ]
    s = _bench_sweep.scaling(rows, "sweep-size-combined", "save", "numba", "bytes", 16)
    # per byte: 4.0 / 2**30 at the top vs 0.2 / 2**26 sixteen times below: 4.0 / (16 * 0.2)
    assert s == {"at": 1 << 30, "vs": 1 << 26, "ratio": 1.25, "ratio_min": 1.25}
    counts = [
        _row("sweep-count-separate", "load", "numba", 1024 * n, n, t, t)
        for n, t in ((100_000, 3.0), (10_000, 0.2), (1000, 0.02))
    ]
    s = _bench_sweep.scaling(counts, "sweep-count-separate", "load", "numba", "count", 10)
    assert s is not None and (s["at"], s["vs"], s["ratio"]) == (100_000, 10_000, 1.5)
    s = _bench_sweep.scaling(counts, "sweep-count-separate", "load", "numba", "count", 10,
                             at=10_000)
    assert s is not None and s["ratio"] == 1.0
    assert _bench_sweep.scaling(counts[:1], "sweep-count-separate", "load", "numba",
                                "count", 10) is None


def test_sweep_targets_judge_only_at_the_nominal_top():
    rows = [
        _row("sweep-size-combined", op, "numba", s, 1, t, t)
        for op in ("save", "load") for s, t in ((1 << 30, 4.0), (1 << 26, 0.2))
    ] + [
        _row(case, op, "numba", 1024 * n, n, t, t)
        for case in ("sweep-count-combined", "sweep-count-separate") for op in ("save", "load")
        for n, t in ((100_000, 3.0), (10_000, 0.2))
    ]
    targets = _bench_sweep.sweep_targets(rows)
    by = {(t["case"], t["op"]): t for t in targets}
    assert by[("sweep-size-combined", "save")]["met"] is True  # 1.25 <= 1.3
    assert by[("sweep-count-separate", "load")]["met"] is False  # 1.5 > 1.3
    assert by[("sweep-count-combined", "save")]["verdict"] == "not met"
    capped = [r for r in rows if r["bytes"] != 1 << 30]
    by = {(t["case"], t["op"]): t for t in _bench_sweep.sweep_targets(capped)}
    assert by[("sweep-size-combined", "save")]["met"] is None


def _count_rows(numba_top: float, limit_top: float) -> list[dict]:
    """The separate-files save curve: numba 0.2 s at 10,000, ``numba_top`` at 100,000, and the
    plain loop ``limit_top`` at 100,000."""
    case = "sweep-count-separate"
    return [_row(case, "save", "numba", 1024 * 10_000, 10_000, 0.2, 0.2),
            _row(case, "save", "numba", 1024 * 100_000, 100_000, numba_top, numba_top),
            _row(case, "save", "limit-python-files", 1024 * 100_000, 100_000, limit_top,
                 limit_top)]


def test_a_sweep_target_is_out_of_reach_only_when_the_plain_loop_alone_misses_it():
    """The plain loop at the top over numba at the lower point: 3.0 / (10 * 0.2) = 1.5 > 1.3,
    and the plain loop no slower than numba at the top, proves the target out of reach."""
    by_case = {(t["case"], t["op"]): t
               for t in _bench_sweep.sweep_targets(_count_rows(numba_top=3.2, limit_top=3.0))}
    t = by_case[("sweep-count-separate", "save")]
    assert t["met"] is False and t["out_of_reach"] is True
    assert (t["floor"], t["floor_value"], t["floor_value_min"]) == ("limit-python-files", 1.5, 1.5)
    assert t["verdict"] == "not met: out of reach in this run (limit-python-files alone is 1.5x)"
    # the plain loop within the bound (2.4 / 2.0 = 1.2): missed, but nothing is proven
    t = _bench_sweep.sweep_targets(_count_rows(numba_top=3.2, limit_top=2.4))[4]
    assert (t["case"], t["op"]) == ("sweep-count-separate", "save")
    assert t["out_of_reach"] is False and t["verdict"] == "not met"
    # a plain loop slower than numba at the top bounds nothing
    t = _bench_sweep.sweep_targets(_count_rows(numba_top=3.2, limit_top=4.0))[4]
    assert t["out_of_reach"] is False and t["verdict"] == "not met"
    # a met target stays met, whatever the plain loop did
    t = _bench_sweep.sweep_targets(_count_rows(numba_top=2.4, limit_top=2.2))[4]
    assert t["met"] is True and t["verdict"] == "met" and t["out_of_reach"] is False
    # no plain-loop row at the top: no floor at all
    t = _bench_sweep.sweep_targets(_count_rows(numba_top=3.2, limit_top=3.0)[:2])[4]
    assert "floor" not in t and t["verdict"] == "not met"


def test_a_combined_load_of_many_tensors_is_bounded_by_its_own_floor():
    """The count-combined load is judged against ``limit-read-pairs`` (the plain read plus one
    array and pair per tensor) where the sweep has it, else against the plain read."""
    case = "sweep-count-combined"
    rows = [_row(case, "load", "numba", 1024 * 10_000, 10_000, 0.2, 0.2),
            _row(case, "load", "numba", 1024 * 100_000, 100_000, 3.2, 3.2),
            _row(case, "load", "limit-python-files", 1024 * 100_000, 100_000, 1.0, 1.0)]
    pairs = _row(case, "load", "limit-read-pairs", 1024 * 100_000, 100_000, 3.0, 3.0)
    by = {(t["case"], t["op"]): t for t in _bench_sweep.sweep_targets([*rows, pairs])}
    t = by[(case, "load")]
    assert (t["floor"], t["floor_value"], t["out_of_reach"]) == ("limit-read-pairs", 1.5, True)
    by = {(t["case"], t["op"]): t for t in _bench_sweep.sweep_targets(rows)}
    t = by[(case, "load")]
    assert (t["floor"], t["floor_value"], t["out_of_reach"]) == ("limit-python-files", 0.5,
                                                                 False)


def test_parse_size():
    assert _bench_sweep.parse_size("1MiB") == 1 << 20
    assert _bench_sweep.parse_size("64kib") == 64 << 10
    assert _bench_sweep.parse_size("4096") == 4096
    proc = subprocess.run([sys.executable, "-m", "fluidspec", "bench", "--sweep", "--max-size",
                           "lots"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--max-size" in proc.stderr
    assert _bench.SCHEMA >= 2
