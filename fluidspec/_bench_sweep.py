"""``fluidspec bench --sweep``: how save and load scale with the size of one tensor and with the
number of tensors.

Sizes run 1 KiB to 1 GiB in powers of 4 (one float32 tensor in a combined file); counts run 1 to
100,000 in powers of 10 (tensors of 1 KiB, combined and one file each).  numba_kernels, the
reference and a plain write/read of the same bytes are timed side by side at every point, round
by round (``_bench.Bench``).  ``scaling`` turns two points of a curve into the figure the targets
and the docs use: time per byte (or per tensor) at the largest point over that at a smaller one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec import _bench_api, _bench_machine

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
SIZES = tuple(KIB * 4 ** k for k in range(11))  # 1 KiB .. 1 GiB
COUNTS = (1, 10, 100, 1000, 10_000, 100_000)
SWEEP_CASES = ("sweep-size-combined", "sweep-count-combined", "sweep-count-separate")
SWEEP_IMPLS = ("limit-python-files", "reference", "numba")
# The floor of each scaling target that has one: a row doing no more than numba must at that
# point.  Combined saves: the plain write of the same bytes.  The separate save:
# ``limit-directory-ops`` (an unnamed file opened per file and linked under its name, nothing
# written: what an atomic save of one file per tensor into a new directory does to it; the
# plain loop's creates are not atomic).  Combined loads: ``limit-read-pairs`` (a read
# into a fresh numpy array, as numba's, plus one array and one (array, lod) pair per tensor).
# The separate load has none: the plain Python reads (an open and a read per file from
# Python) cost more than numba's reads, so they bound nothing.
SWEEP_FLOORS = {**{(case, "save"): SWEEP_IMPLS[0] for case in SWEEP_CASES[:2]},
                (SWEEP_CASES[2], "save"): _bench_api.DIRECTORY_OPS,
                **{(case, "load"): _bench_api.READ_PAIRS for case in SWEEP_CASES[:2]}}
# What a sweep load takes from the kernel, warmed before each run as the bench warms
# ``nbytes`` (``_bench._warm_memory``): the file's bytes (headers too) and the objects made per
# tensor (``_load_memory``).  tracemalloc at 100,000 tensors here: numba's load peaks 383
# bytes a tensor over the file, its floor 239.  Warmed for the payload bytes alone (1.5 MB short of the file,
# and no room for the objects), the 100,000 point was bimodal for numba and its floor alike:
# a round that faulted in memory the VM had handed back to the host took 100-117 ms instead
# of 60-65 (100 MiB read into fresh memory on two threads: 13 ms just after a free, 64 ms after
# three idle seconds; 29 ms either way with 4 KiB pages).
_LOAD_OBJECT_BYTES = 512


def _load_memory(file_bytes: int, tensors: int) -> int:
    return file_bytes + tensors * _LOAD_OBJECT_BYTES
SIZE_STEP = 16  # per byte at the largest size vs at 1/16 of it: 1 GiB vs 64 MiB
COUNT_STEP = 10  # per tensor at the largest count vs at 1/10 of it
SCALING_BOUND = 1.3


def parse_size(text: str) -> int:
    """``1MiB``, ``64KiB``, ``1GiB`` or a plain number of bytes."""
    units = {"kib": KIB, "mib": MIB, "gib": GIB, "b": 1, "": 1}
    t = text.strip().lower()
    for suffix in ("kib", "mib", "gib", "b", ""):
        if t.endswith(suffix) and t[:len(t) - len(suffix)].strip().isdigit():
            return int(t[:len(t) - len(suffix)]) * units[suffix]
    raise ValueError(f"not a size: {text!r} (say 1MiB, 64KiB, 1GiB or a number of bytes)")


def default_max_size(tmp: str) -> tuple[int, str]:
    """The largest size the machine has room for: a quarter of the available memory and of
    the free disk (the tensor, its encoded copy and the files of three writers), at most 1 GiB."""
    disk = shutil.disk_usage(tmp).free // 4
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            avail = next(int(line.split()[1]) * KIB for line in f
                         if line.startswith("MemAvailable:"))
    except (OSError, StopIteration):
        avail = GIB * 4
    room = min(disk, avail // 4, GIB)
    size = max((s for s in SIZES if s <= room), default=SIZES[0])
    why = "1 GiB, the sweep's top" if size == GIB else (
        f"capped by {'free disk' if disk < avail // 4 else 'available memory'}: "
        f"{size // MIB} MiB")
    return size, why


def scaling(rows: Iterable[dict[str, Any]], case: str, op: str, impl: str, per: str,
            step: int, at: int | None = None) -> dict[str, Any] | None:
    """Time per unit at the largest point (or ``at``) over time per unit at 1/``step`` of it.

    ``per`` is ``"bytes"`` (time per byte, along a size sweep) or ``"count"`` (time per
    tensor, along a count sweep).  Returns ``{"at", "vs", "ratio", "ratio_min"}`` — medians and
    minima — or None when either point is missing.  1.0 is linear scaling; above it, each
    unit costs more at the larger point.
    """
    points = {r[per]: r for r in rows if (r["case"], r["op"], r["impl"]) == (case, op, impl)}
    if not points:
        return None
    top = max(points) if at is None else at
    low = top // step
    if top not in points or low not in points or low <= 0:
        return None
    hi, lo = points[top], points[low]
    ratio = (hi["median_s"] / top) / (lo["median_s"] / low)
    ratio_min = (hi["min_s"] / top) / (lo["min_s"] / low)
    return {"at": top, "vs": low, "ratio": round(ratio, 4), "ratio_min": round(ratio_min, 4)}


def sweep_targets(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """numba's scaling, save and load: per byte at 1 GiB within 1.3x of that at 64 MiB; per
    tensor at 100,000 within 1.3x of that at 10,000.  Below the nominal top (a capped sweep) the
    ratio at the top reached is shown, and the target is "not measured"."""
    out = []
    plans = [("sweep-size-combined", "bytes", SIZE_STEP, GIB, "per byte at 1 GiB / at 64 MiB")]
    plans += [(case, "count", COUNT_STEP, COUNTS[-1],
               f"per tensor at 100,000 / at 10,000 ({case.rsplit('-', 1)[1]})")
              for case in SWEEP_CASES[1:]]
    for case, per, step, nominal, label in plans:
        for op in ("save", "load"):
            s = scaling(rows, case, op, "numba", per, step)
            t: dict[str, Any] = {"target": f"sweep {op}: time {label}", "case": case, "op": op,
                                 "impl": "numba", "kind": "ratio<=", "bound": SCALING_BOUND,
                                 "need": f"<= {SCALING_BOUND:g}", "value": None,
                                 "value_min": None, "met": None}
            if s is None:
                t["verdict"] = "not measured (sweep points missing)"
            else:
                t.update(value=s["ratio"], value_min=s["ratio_min"])
                if s["at"] != nominal:
                    t["verdict"] = (f"not measured (the sweep stops at {s['at']:,}: the "
                                    f"ratio shown is {s['at']:,} vs {s['vs']:,})")
                else:
                    t["met"] = s["ratio"] <= SCALING_BOUND
                    t["verdict"] = "met" if t["met"] else "not met"
                    t.update(_limit_floor(rows, case, op, per, s, t["met"]))
            out.append(t)
    return out


def _limit_floor(rows: Sequence[dict[str, Any]], case: str, op: str, per: str,
                 s: dict[str, Any], met: bool) -> dict[str, Any]:
    """The floor (``SWEEP_FLOORS``) of numba's scaling: its time per unit at the top point over
    numba's at the lower one, beside the floor's own scaling.

    numba does at least the floor's work, so a missed target is out of reach in this run when
    the floor's own time per unit grows past the bound (the growth is in the least work: page
    faults of buffers past the allocator's cache, caches outgrown, a directory of 100,000
    files), the floor was no slower than numba at either point (a floor slower than what it
    bounds proves nothing), and either

    * the floor at the top over numba at the lower point alone passes the bound, or
    * numba's time beyond the floor grows per unit within the bound (``_beyond_the_floor``):
      numba's ratio is then a mean of the floor's growth and that one, weighted by their
      shares at the lower point, so making numba's own part faster alike at both points only
      raises it; the bound would need numba at the lower point to take at least ``needs``
      times the floor there (only a slower numba, or one whose own part shrinks per unit at
      the top, could meet it)."""
    name = SWEEP_FLOORS.get((case, op))

    def point(impl: str | None, at: int) -> dict[str, Any] | None:
        return next((r for r in rows if (r["case"], r["op"], r["impl"], r[per]) ==
                     (case, op, impl, at)), None)

    top, low, floor_top = point("numba", s["at"]), point("numba", s["vs"]), point(name, s["at"])
    floor_low = point(name, s["vs"])
    growth = None if name is None else scaling(rows, case, op, name, per, s["at"] // s["vs"],
                                               at=s["at"])
    if None in (top, low, floor_top, floor_low, growth):
        return {}
    value = (floor_top["median_s"] / s["at"]) / (low["median_s"] / s["vs"])
    value_min = (floor_top["min_s"] / s["at"]) / (low["min_s"] / s["vs"])
    own = growth["ratio"]
    bounded = (not met and own > SCALING_BOUND and floor_top["median_s"] <= top["median_s"]
               and floor_low["median_s"] <= low["median_s"])
    beyond = _beyond_the_floor(top["median_s"] - floor_top["median_s"],
                               low["median_s"] - floor_low["median_s"], s["at"] // s["vs"])
    out: dict[str, Any] = {"floor": name, "floor_value": round(value, 4),
                           "floor_value_min": round(value_min, 4),
                           "floor_scaling": round(own, 4), "out_of_reach": False}
    if beyond is not None:
        out["beyond_floor_scaling"] = round(beyond, 4)
    if bounded and value > SCALING_BOUND:
        out["out_of_reach"] = True
        out["verdict"] = (f"not met: out of reach in this run ({name} alone is {value:.3g}x; "
                          f"its own time per unit grows {own:.3g}x)")
    elif bounded and beyond is not None and beyond < SCALING_BOUND:
        needs = (own - beyond) / (SCALING_BOUND - beyond)
        takes = low["median_s"] / floor_low["median_s"]
        out.update(out_of_reach=True, needs_floor_multiple=round(needs, 4),
                   takes_floor_multiple=round(takes, 4))
        out["verdict"] = (f"not met: out of reach in this run ({name}'s time per unit grows "
                          f"{own:.3g}x, numba's time beyond it {beyond:.3g}x, so numba faster alike "
                          f"at both points only grows more: the bound needs numba at the lower "
                          f"point to take "
                          f"{needs:.3g}x {name} there; it takes {takes:.3g}x)")
    return out


def _beyond_the_floor(top_beyond_s: float, low_beyond_s: float, step: int) -> float | None:
    """How numba's time beyond its floor grows per unit from the lower point to the top (``step``
    times as many units); None unless numba took longer than the floor at both."""
    if top_beyond_s <= 0 or low_beyond_s <= 0:
        return None
    return top_beyond_s / (step * low_beyond_s)


def _tensor(nbytes: int) -> np.ndarray:
    return np.arange(nbytes // 4, dtype=np.float32)


def _size_point(bench: Any, nbytes: int) -> None:
    from fluidspec.numba_kernels import files as numba_files
    from fluidspec.reference import codec as ref

    arrs = [_tensor(nbytes)]
    encoded = ref.encode_combined([(arrs[0], None)])
    _combined_point(bench, SWEEP_CASES[0], arrs, encoded, numba_files, ref)


def _combined_point(bench: Any, case: str, arrs: list[np.ndarray], encoded: bytes,
                    numba_files: Any, ref: Any) -> None:
    n, nbytes = len(arrs), sum(a.nbytes for a in arrs)
    target: dict[str, str] = {}

    def new_target() -> None:
        target["d"] = bench.fresh_dir()

    def path() -> str:
        return os.path.join(target["d"], "combined")

    def plain_write() -> None:
        with open(path(), "wb") as f:
            f.write(encoded)

    def ref_save() -> None:
        with open(path(), "wb") as f:
            for a in arrs:
                f.writelines(ref.lod_tensor_parts(a, None))

    bench.run(case, "save", "limit-python-files", plain_write, nbytes, n, new_target)
    bench.run(case, "save", "reference", ref_save, nbytes, n, new_target)
    bench.run(case, "save", "numba", lambda: numba_files.save_combined(path(), arrs), nbytes, n,
              new_target)
    bench.flush()
    keep = os.path.join(bench.tmp, f"{case}-{n}-{nbytes}")
    Path(keep).write_bytes(encoded)
    load_memory = _load_memory(len(encoded), n)
    bench.run(case, "load", "limit-python-files", lambda: Path(keep).read_bytes(), nbytes, n,
              memory=load_memory)
    bench.run(case, "load", "reference",
              lambda: ref.decode_combined(Path(keep).read_bytes(), n, copy=False), nbytes, n,
              memory=load_memory)
    bench.run(case, "load", "numba", lambda: numba_files.load_combined(keep, n), nbytes, n,
              memory=load_memory)
    if SWEEP_FLOORS.get((case, "load")) == _bench_api.READ_PAIRS:
        bench.run(case, "load", _bench_api.READ_PAIRS,
                  _bench_api.read_pairs(keep, n, nbytes, arrs[0].shape), nbytes, n,
                  memory=load_memory)
    bench.flush()
    os.remove(keep)


def _count_tensors(count: int) -> list[np.ndarray]:
    return [np.full(256, i, np.float32) for i in range(count)]


def _combined_count_point(bench: Any, count: int) -> None:
    from fluidspec.numba_kernels import files as numba_files
    from fluidspec.reference import codec as ref

    arrs = _count_tensors(count)
    encoded = ref.encode_combined([(a, None) for a in arrs])
    _combined_point(bench, SWEEP_CASES[1], arrs, encoded, numba_files, ref)


def _separate_count_point(bench: Any, count: int) -> None:
    from fluidspec.numba_kernels import files as numba_files
    from fluidspec.reference import codec as ref

    _separate_point(bench, _count_tensors(count), numba_files, ref)


def _separate_point(bench: Any, arrs: list[np.ndarray], numba_files: Any, ref: Any) -> None:
    case, n = SWEEP_CASES[2], len(arrs)
    nbytes = sum(a.nbytes for a in arrs)
    names = [f"v{i:06d}" for i in range(n)]
    records = [ref.encode_lod_tensor(a) for a in arrs]
    target: dict[str, str] = {}

    def new_target() -> None:
        target["d"] = bench.fresh_dir(many_files=True)

    def plain_write() -> None:
        for name, rec in zip(names, records, strict=True):
            with open(os.path.join(target["d"], name), "wb") as f:
                f.write(rec)

    def ref_save() -> None:
        for name, a in zip(names, arrs, strict=True):
            with open(os.path.join(target["d"], name), "wb") as f:
                f.writelines(ref.lod_tensor_parts(a))

    from fluidspec._bench import page_cache_bytes

    memory = page_cache_bytes(map(len, records))
    bench.run(case, "save", "limit-python-files", plain_write, nbytes, n, new_target,
              memory=memory)
    bench.run(case, "save", "reference", ref_save, nbytes, n, new_target, memory=memory)
    bench.run(case, "save", "numba", lambda: numba_files.save_dense(target["d"], names, arrs),
              nbytes, n, new_target, memory=memory)
    bench.directory_ops_floor(case, names, nbytes, memory)
    bench.flush()
    keep = os.path.join(bench.tmp, f"separate-{n}")
    os.makedirs(keep)
    target["d"] = keep
    plain_write()
    paths = [os.path.join(keep, name) for name in names]

    def plain_read() -> list[bytes]:
        out = []
        for p in paths:
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    load_memory = _load_memory(sum(map(len, records)), n)
    bench.run(case, "load", "limit-python-files", plain_read, nbytes, n, memory=load_memory)
    bench.run(case, "load", "reference",
              lambda: [ref.decode_tensor_file(Path(p).read_bytes(), copy=False) for p in paths],
              nbytes, n, memory=load_memory)
    bench.run(case, "load", "numba", lambda: numba_files.load_dense(paths, names), nbytes, n,
              memory=load_memory)
    bench.flush()  # ``keep`` stays until the sweep ends, like the save targets (``fresh_dir``)


def run_sweep(max_size: int | None, max_count: int, progress: Callable[[str], None],
              repeats: int = 3, size_repeats: int = 7, combined_count_repeats: int = 7
              ) -> dict[str, Any]:
    """The sweep's JSON part: ``{"machine", "sizes", "counts", "max_size", "max_size_why",
    "repeats", "size_repeats", "combined_count_repeats", "results", "scaling"}`` (results in
    ``_bench.Result``'s schema, the machine as ``_bench_machine.describe`` records it).

    The size curve gets ``size_repeats`` rounds, the combined count curve
    ``combined_count_repeats`` and the separate count curve ``repeats``.  One write or read of
    a gigabyte on a VM is bimodal (here about one round in four took 1.5-3x as long, for a
    plain write as for numba's), and a median of three then turns on one round.  The
    combined count curve's top point reads a 100 MiB file into fresh memory and was bimodal
    too before its loads were warmed whole (``_LOAD_OBJECT_BYTES``).  Seven rounds of those
    two curves add about 30 s; seven of the separate count curve would add minutes and 1.6
    million files kept until the end."""
    from fluidspec import _bench, numba_kernels

    numba_kernels.warm_up()
    bench = _bench.Bench(quick=True, progress=progress)
    machine = _bench_machine.describe(bench.tmp)
    try:
        if max_size is None:
            max_size, why = default_max_size(bench.tmp)
        else:
            why = "--max-size"
        sizes = [s for s in SIZES if s <= max_size]
        counts = [c for c in COUNTS if c <= max_count]
        bench.repeats = size_repeats
        for nbytes in sizes:
            _size_point(bench, nbytes)
        # The combined count curve runs whole before the separate one: each separate point
        # leaves its files until the sweep ends (1.7 million at 100,000: four saves, a warm-up
        # and three rounds each, and the files loaded), and a combined point run after them
        # had slow rounds here (the 100,000 load's median 65-105 ms against 52 without, numba
        # and floor alike; neither a sync before each load nor compaction explained it).
        bench.repeats = combined_count_repeats
        for count in counts:
            _combined_count_point(bench, count)
        bench.repeats = repeats
        for count in counts:
            _separate_count_point(bench, count)
    finally:
        bench.cleanup()
    rows = [asdict(r) for r in bench.results]
    return {"machine": machine, "sizes": sizes, "counts": counts, "max_size": max_size,
            "max_size_why": why,
            "max_count": max_count, "repeats": repeats, "size_repeats": size_repeats,
            "combined_count_repeats": combined_count_repeats,
            "results": rows, "scaling": scaling_table(rows), "notes": bench.notes}


def scaling_table(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every implementation's scaling on every sweep curve (the docs print this)."""
    out = []
    for case in SWEEP_CASES:
        per, step = ("bytes", SIZE_STEP) if case == SWEEP_CASES[0] else ("count", COUNT_STEP)
        for op in ("save", "load"):
            floor = SWEEP_FLOORS.get((case, op))
            for impl in SWEEP_IMPLS if floor in (None, *SWEEP_IMPLS) else (*SWEEP_IMPLS, floor):
                s = scaling(rows, case, op, impl, per, step)
                if s is not None:
                    out.append({"case": case, "op": op, "impl": impl, "per": per, **s})
    return out
