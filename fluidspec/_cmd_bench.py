"""``fluidspec bench [--quick] [--json FILE]``: numba_kernels beside its peers (a benchmark)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from fluidspec._usage import UsageError, writable_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes and fewer repeats (under a minute)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--only", action="append", metavar="CASE",
                        help="run only this case (repeatable); default: every case")
    parser.add_argument("--cuda", action="store_true",
                        help="instead: the CUDA path's GPU check (bytes vs CPU path, then "
                             "pack/unpack vs a device-to-device copy; fluidspec._bench_cuda)")


def main(args: argparse.Namespace) -> int:
    if args.json:
        writable_file(args.json, "--json")  # before minutes of timing, not after
    if getattr(args, "cuda", False):
        from fluidspec import _bench_cuda as _cuda_bench

        return _cuda_bench.run_from_bench(args.quick, args.json)
    from fluidspec import _bench

    start = time.perf_counter()

    def progress(what: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {what}", file=sys.stderr, flush=True)

    if args.only:
        unknown = sorted(set(args.only) - set(_bench.CASES))
        if unknown:
            raise UsageError(f"unknown case(s) {unknown}; cases: {', '.join(_bench.CASES)}")
    results, notes = _bench.run_all(args.quick, progress, args.only)
    print(_bench.table(results))
    print("\ntargets:")
    for t in _bench.targets(results):
        verdict = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        print(f"  {t['target']}: {t['value']} (need {t['need']}) — {verdict}")
    for note in notes:
        print(f"note: {note}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(_bench.to_json(results, notes), f, indent=1)
    return 0
