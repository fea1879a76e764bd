"""``fluidspec bench`` runs and emits its JSON schema (a smoke test: benchmarks are not tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fluidspec import _bench


def test_bench_quick_emits_the_schema(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "fluidspec", "bench", "--quick", "--only",
         "mixed-dtypes-lod-combined", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    rows = data["results"]
    assert rows, "no results"
    for row in rows:
        assert set(row) == {"case", "op", "impl", "median_s", "min_s", "max_s", "bytes", "count"}
        assert row["case"] in _bench.CASES and row["op"] in _bench.OPS
        assert row["impl"] in _bench.IMPLS
        assert 0 <= row["min_s"] <= row["median_s"] <= row["max_s"]
    assert {(r["op"], r["impl"]) for r in rows} >= {("encode", "numba"), ("decode", "numba"),
                                                    ("save", "numba"), ("load", "numba")}
    assert "numba" in proc.stdout and "median" in proc.stdout  # the table
    assert "mixed-dtypes-lod-combined" in proc.stderr  # progress lines


def test_bench_refuses_unknown_cases():
    proc = subprocess.run([sys.executable, "-m", "fluidspec", "bench", "--only", "nope"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown case" in proc.stderr


def test_a_save_target_goes_when_its_run_ends_unless_it_holds_many_files():
    bench = _bench.Bench(quick=True, progress=lambda line: None)
    made: dict[str, str] = {}

    def save(kind: str) -> None:
        made[kind] = bench.fresh_dir(many_files=kind == "many")
        with open(os.path.join(made[kind], "f"), "wb") as f:
            f.write(b"x")

    try:
        for kind in ("few", "many"):
            bench.run("c", "save", kind, lambda kind=kind: save(kind), 1, 1, repeats=1)
        bench.flush()
        assert [r.impl for r in bench.results] == ["few", "many"]
        assert not os.path.exists(made["few"])  # removed when its run ended
        assert os.path.exists(os.path.join(made["many"], "f"))  # kept: deletions slow creates
    finally:
        bench.cleanup()
    assert not os.path.exists(made["many"]) and not os.path.exists(bench.tmp)


def test_each_timed_save_starts_with_nothing_dirty(monkeypatch):
    """Before every timed save (warm-up and rounds, every implementation), and before no load,
    the page cache is written back."""
    events: list[str] = []
    monkeypatch.setattr(_bench.os, "sync", lambda: events.append("sync"))
    bench = _bench.Bench(quick=True, progress=lambda line: None)
    try:
        for impl in ("a", "b"):
            bench.run("c", "save", impl, lambda impl=impl: events.append(impl), 1, 1, repeats=2)
        bench.run("c", "load", "a", lambda: events.append("load"), 1, 1, repeats=2)
        bench.flush()
    finally:
        bench.cleanup()
    saves = [e for e in events if e in ("a", "b")]
    assert len(saves) == 6  # a warm-up and two rounds each
    assert events.count("load") == 3
    assert events.count("sync") == 6
    assert all(events[i - 1] == "sync" for i, e in enumerate(events) if e in ("a", "b"))
    assert all(events[i - 1] != "sync" for i, e in enumerate(events) if e == "load")


def test_each_timed_run_of_a_megabyte_or_more_first_gets_warm_memory(monkeypatch):
    warmed: list[int] = []
    monkeypatch.setattr(_bench, "_warm_memory", warmed.append)
    bench = _bench.Bench(quick=True, progress=lambda line: None)
    try:
        bench.run("small", "load", "a", lambda: None, (1 << 20) - 1, 1, repeats=2)
        bench.flush()
        assert warmed == []
        bench.run("big", "load", "a", lambda: None, 1 << 20, 1, repeats=2)
        bench.run("big", "load", "b", lambda: None, 1 << 20, 1, repeats=2)
        bench.flush()
    finally:
        bench.cleanup()
    assert warmed == [1 << 20] * 6  # each implementation's warm-up call and both rounds


def test_a_run_that_takes_more_memory_than_its_bytes_gets_that_much_warmed(monkeypatch):
    """A save of many small files names its page cache (whole pages per file); the warm-up
    before each timed run, warm-up call and rounds, is that amount, for every implementation
    of the group."""
    warmed: list[int] = []
    monkeypatch.setattr(_bench, "_warm_memory", warmed.append)
    monkeypatch.setattr(_bench.os, "sync", lambda: None)
    memory = _bench.page_cache_bytes([1064] * 1000)
    assert memory == 4096 * 1000
    assert _bench.page_cache_bytes([0, 1, 4096, 4097]) == 4096 * 4
    bench = _bench.Bench(quick=True, progress=lambda line: None)
    try:
        bench.run("many", "save", "a", lambda: None, 1064 * 1000, 1000, repeats=2, memory=memory)
        bench.run("many", "save", "b", lambda: None, 1064 * 1000, 1000, repeats=2, memory=memory)
        bench.run("few", "save", "a", lambda: None, 1 << 21, 1, repeats=1, memory=1 << 20)
        bench.flush()
    finally:
        bench.cleanup()
    assert warmed == [memory] * 6 + [1 << 21] * 2  # never less than the run's bytes


def test_every_round_runs_each_implementation_once_after_varying_neighbours():
    impls = [f"impl{i}" for i in range(7)]
    orders = [_bench.round_order(impls, f"case/save/{r}") for r in range(7)]
    assert all(sorted(order) == impls for order in orders)
    assert orders == [_bench.round_order(impls, f"case/save/{r}") for r in range(7)]  # repeatable
    for impl in impls:
        before = {order[order.index(impl) - 1] for order in orders if order.index(impl)}
        assert len(before) > 1, impl  # a rotation of one order would give one neighbour


def test_the_rounds_of_a_group_follow_round_order(monkeypatch):
    ran: list[str] = []
    bench = _bench.Bench(quick=True, progress=lambda line: None)
    try:
        for impl in ("a", "b", "c", "d"):
            bench.run("case", "load", impl, lambda impl=impl: ran.append(impl), 1, 1, repeats=3)
        bench.flush()
    finally:
        bench.cleanup()
    assert ran[:4] == ["a", "b", "c", "d"]  # the warm-ups, in the order queued
    assert ran[4:] == [impl for r in range(3)
                       for impl in _bench.round_order(["a", "b", "c", "d"], f"case/load/{r}")]
