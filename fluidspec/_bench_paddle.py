"""Paddle 2.6.2 side of ``fluidspec bench``: run as a script inside ``.venv-paddle``.

Imports only paddle, numpy and the standard library (the Paddle environment has nothing else).
Reads a JSON config from argv[1] — ``{"cases": {name: {"n": int, "elems": int}}, "repeats": k,
"tmp": dir}`` — and prints one JSON list of results in the schema of ``_bench``.  Every timing is
taken here, in Paddle's own process, after one untimed warm-up call.
"""

import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import paddle

paddle.enable_static()


def _time(fn: Callable[[], Any], repeats: int, setup: Callable[[], Any] | None = None
          ) -> list[float]:
    if setup:
        setup()
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if setup:
            setup()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _case(case: str, spec: dict[str, Any], repeats: int, tmp: str, out: list[dict[str, Any]]
          ) -> None:
    io = paddle.static.io
    place = paddle.CPUPlace()
    n, elems, separate = spec["n"], spec["elems"], spec["separate"]
    main_prog = paddle.static.Program()
    scope = paddle.static.global_scope()
    exe = paddle.static.Executor(place)
    block = main_prog.global_block()
    variables = []
    for i in range(n):
        name = f"v{i:05d}"
        shape = [elems] if n == 1 else [16, elems // 16]
        variables.append(block.create_var(name=name, shape=shape, dtype="float32",
                                          persistable=True))
        scope.var(name).get_tensor().set(np.arange(elems, dtype=np.float32).reshape(shape) + i,
                                         place)
    counter = [0]
    target = {"d": ""}

    def new_target() -> None:
        counter[0] += 1
        target["d"] = os.path.join(tmp, f"paddle-{case}-{counter[0]}")

    def record(op: str, times: list[float]) -> None:
        out.append({"case": case, "op": op, "impl": "paddle-2.6.2",
                    "median_s": statistics.median(times), "min_s": min(times),
                    "max_s": max(times), "bytes": n * elems * 4, "count": n})
        print(f"  paddle {case} {op}: {statistics.median(times):.4f} s", file=sys.stderr,
              flush=True)

    filename = None if separate else "combined"
    if not separate:
        blob = io.save_vars(exe, None, main_prog, vars=variables)
        record("encode", _time(lambda: io.save_vars(exe, None, main_prog, vars=variables),
                               repeats))
        record("decode", _time(lambda: io.load_vars(exe, None, main_prog, vars=variables,
                                                    filename=blob), repeats))
    record("save", _time(lambda: io.save_vars(exe, target["d"], main_prog, vars=variables,
                                              filename=filename), repeats, new_target))
    new_target()
    io.save_vars(exe, target["d"], main_prog, vars=variables, filename=filename)
    record("load", _time(lambda: io.load_vars(exe, target["d"], main_prog, vars=variables,
                                              filename=filename), repeats))
    for name in os.listdir(tmp):
        if name.startswith("paddle-"):
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)


def main() -> None:
    cfg = json.loads(sys.argv[1])
    out: list[dict[str, Any]] = []
    for case, spec in cfg["cases"].items():
        _case(case, spec, cfg["repeats"], cfg["tmp"], out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
