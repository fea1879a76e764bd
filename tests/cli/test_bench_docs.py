"""The performance page from bench JSONs old and new: targets table, charts, "not measured"."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_gen"))

import performance  # noqa: E402


def _row(case: str, op: str, impl: str, median: float, nbytes: int = 1 << 20,
         count: int = 1) -> dict:
    return {"case": case, "op": op, "impl": impl, "median_s": median, "min_s": median,
            "max_s": median, "bytes": nbytes, "count": count}


ROWS = [_row("c", "save", "limit-python-files", 0.1), _row("c", "save", "numba", 0.25),
        _row("c", "save", "paddle-2.6.2", 0.5, count=1000), _row("c", "encode", "numba", 0.1)]


def test_an_old_json_without_targets_or_sweep_says_not_measured():
    page = performance.performance_page(ROWS, {"results": ROWS})
    assert "The targets are not measured" in page
    assert "Scaling with size and count" in page and "Not measured: this JSON has no sweep" in page
    assert "![Each implementation as a multiple of its workload's limit](performance.png)" in page
    assert "performance-sweep.png" not in page


def test_targets_rows_carry_the_verdict():
    targets = [{"target": "t1", "value": 1.5, "value_min": 1.25, "need": "<= 1.15", "met": False,
                "verdict": "not met"},
               {"target": "t2", "value": None, "value_min": None, "need": "<= 1", "met": None,
                "verdict": "not measured (no Paddle)"},
               {"target": "t3", "value": 2.5, "value_min": 2.4, "need": "<= 2", "met": False,
                "bound": 2.0, "floor": "limit-gather-write", "floor_value": 2.1,
                "floor_value_min": 1.9, "out_of_reach": True,
                "verdict": "not met: out of reach in this run"},
               {"target": "t4", "value": 1.66, "value_min": 2.2, "need": "<= 1.3", "met": False,
                "bound": 1.3, "floor": "limit-read-pairs", "floor_value": 1.21,
                "floor_value_min": 1.61, "floor_scaling": 2.14, "beyond_floor_scaling": 1.07,
                "needs_floor_multiple": 4.65, "takes_floor_multiple": 1.77,
                "out_of_reach": True, "verdict": "not met: out of reach in this run"}]
    page = performance.performance_page(ROWS, {"schema": 2, "results": ROWS, "targets": targets})
    assert "| t1 | 1.5 (1.25) | <= 1.15 | **no** |" in page
    assert "| t2 | - | <= 1 | not measured (no Paddle) |" in page
    assert ("| t3 | 2.5 (2.4) | <= 2 | **no**: out of reach in this run, `limit-gather-write` "
            "alone is 2.1 (1.9) |") in page
    assert ("| t4 | 1.66 (2.2) | <= 1.3 | **no**: out of reach in this run, `limit-read-pairs` "
            "grows 2.14x and numba beyond it 1.07x (the bound needs numba 4.65x the floor at the "
            "lower point; it is 1.77x) |") in page


def test_workloads_are_multiples_of_their_limit_at_its_size():
    # numba 0.25 / 0.1; Paddle ran another count and encode has no limit: both left out
    assert performance.workloads(ROWS) == [("c", "save", [("numba", 2.5)])]


def test_images_for_what_the_document_has():
    pytest.importorskip("matplotlib", reason="the docs extra is installed by scripts/_setup.sh")
    sweep = {"sizes": [1024, 4096], "counts": [1, 10], "max_size_why": "--max-size",
             "results": [_row("sweep-size-combined", "save", "numba", 0.01, s) for s in
                         (1024, 4096)], "scaling": []}
    images = performance.performance_images({"results": ROWS, "sweep": sweep})
    assert sorted(images) == ["performance-sweep.png", "performance.png"]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())
    assert performance.performance_images({"results": ROWS}).keys() == {"performance.png"}
    page = performance.performance_page(ROWS, {"results": ROWS, "sweep": sweep})
    assert "![Throughput against size and against count](performance-sweep.png)" in page


def test_the_sweep_section_says_how_many_rounds_each_curve_had():
    sweep = {"sizes": [1024], "counts": [1], "max_size_why": "--max-size", "results": [
        _row("sweep-size-combined", "save", "numba", 0.01, 1024)], "scaling": [],
        "repeats": 3, "size_repeats": 7}
    old = "\n".join(performance._sweep_section(sweep))
    assert "7 rounds per size, 3 per count." in old
    new = "\n".join(performance._sweep_section({**sweep, "combined_count_repeats": 5}))
    assert "7 rounds per size, 5 per combined count, 3 per separate count." in new


def test_the_page_says_the_machine_of_each_part_and_warns_when_they_differ():
    intel = {"cpu": "Intel Xeon", "logical_cpus": 2, "usable_cpus": 2, "memory_gib": 23.5,
             "kernel": "Linux 6.18", "huge_pages": "madvise",
             "filesystem": {"type": "ext4", "mount": "/", "journal": False}}
    sweep = {"machine": dict(intel), "results": []}
    page = performance.performance_page(ROWS, {"results": ROWS, "machine": intel,
                                               "sweep": sweep})
    assert page.count("Intel Xeon, 2 of 2 CPUs usable, 23.5 GiB, Linux 6.18") == 2
    assert "Two machines" not in page
    sweep["machine"] = dict(intel, cpu="AMD EPYC")
    page = performance.performance_page(ROWS, {"results": ROWS, "machine": intel,
                                               "sweep": sweep})
    assert "The sweep: AMD EPYC" in page and "Two machines" in page
    old = performance.performance_page(ROWS, {"results": ROWS})
    assert "The main run: not recorded" in old
