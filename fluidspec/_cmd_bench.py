"""``fluidspec bench [--quick] [--sweep] [--json FILE]``: numba_kernels beside its peers (a
benchmark), each target printed with its verdict.

``--json FILE`` keeps the other run's part of an existing FILE: a plain run replaces
``results``/``notes``/``targets`` and keeps ``sweep``; ``--sweep`` replaces ``sweep`` and
keeps the rest.  So one file (docs/data/bench.json) holds both for the docs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from fluidspec._usage import UsageError, writable_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes and fewer repeats (minutes, not tens of minutes)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON (an existing bench JSON keeps the "
                             "other part: the sweep, or the plain run's results)")
    parser.add_argument("--only", action="append", metavar="CASE",
                        help="run only this case (repeatable); default: every case")
    parser.add_argument("--sweep", action="store_true",
                        help="instead: save/load against size (1 KiB .. 1 GiB) and count "
                             "(1 .. 100,000 tensors, combined and separate)")
    parser.add_argument("--max-size", metavar="SIZE",
                        help="--sweep's largest size, e.g. 64MiB (default: 1 GiB or less, as "
                             "free memory and disk allow; the cap is recorded)")
    parser.add_argument("--max-count", metavar="N", type=int, default=100_000,
                        help="--sweep's largest count of tensors (default 100000)")
    parser.add_argument("--cuda", action="store_true",
                        help="instead: the CUDA path's GPU check (bytes vs CPU path, then "
                             "pack/unpack vs a device-to-device copy; fluidspec._bench_cuda)")


def main(args: argparse.Namespace) -> int:
    if args.json:
        writable_file(args.json, "--json")  # before minutes of timing, not after
    if getattr(args, "cuda", False):
        from fluidspec import _bench_cuda as _cuda_bench

        return _cuda_bench.run_from_bench(args.quick, args.json)
    from fluidspec import _bench, _bench_machine

    start = time.perf_counter()

    def progress(what: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {what}", file=sys.stderr, flush=True)

    if args.sweep:
        return _sweep(args, progress)
    if args.only:
        unknown = sorted(set(args.only) - set(_bench.CASES))
        if unknown:
            raise UsageError(f"unknown case(s) {unknown}; cases: {', '.join(_bench.CASES)}")
    results, notes = _bench.run_all(args.quick, progress, args.only)
    print(_bench.table(results))
    document = _bench.to_json(results, notes)
    document["machine"] = _bench_machine.describe(tempfile.gettempdir())  # where Bench wrote
    print(f"\nmachine: {_bench_machine.summary(document['machine'])}")
    _print_targets(document["targets"])
    for note in notes:
        print(f"note: {note}")
    if args.json:
        _write(args.json, document, keep=("sweep",))
    return 0


def _sweep(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    from fluidspec import _bench, _bench_machine, _bench_sweep

    try:
        max_size = None if args.max_size is None else _bench_sweep.parse_size(args.max_size)
    except ValueError as exc:
        raise UsageError(f"--max-size: {exc}") from None
    if args.max_count < 1:
        raise UsageError("--max-count: at least 1")
    sweep = _bench_sweep.run_sweep(max_size, args.max_count, progress)
    print(_bench.table([_bench.Result(**r) for r in sweep["results"]]))
    print(f"\nmachine: {_bench_machine.summary(sweep['machine'])}")
    print(f"largest size {sweep['max_size']:,} bytes ({sweep['max_size_why']}); "
          f"largest count {sweep['counts'][-1]:,}")
    print("\nscaling (time per unit at the top / at the point below it):")
    for s in sweep["scaling"]:
        print(f"  {s['case']:22s} {s['op']:5s} {s['impl']:20s} per {s['per']:5s} "
              f"{s['at']:>11,} vs {s['vs']:>10,}: {s['ratio']:g} (min {s['ratio_min']:g})")
    sweep["targets"] = _bench_sweep.sweep_targets(sweep["results"])
    _print_targets(sweep["targets"])
    if args.json:
        _write(args.json, {"schema": _bench.SCHEMA, "sweep": sweep},
               keep=("results", "notes", "targets", "machine"))
    return 0


def _print_targets(targets: list[dict[str, Any]]) -> None:
    from fluidspec import _bench_targets

    print("\ntargets (medians; minima in brackets):")
    print("\n".join(_bench_targets.lines(targets)))


def _write(path: str, document: dict[str, Any], keep: tuple[str, ...]) -> None:
    """Write ``document``, carrying over ``keep``'s keys from a bench JSON already at ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
    except (OSError, ValueError):
        old = {}
    if isinstance(old, dict):
        document = {**{k: old[k] for k in keep if k in old}, **document}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1)
