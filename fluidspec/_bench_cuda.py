"""The GPU check: byte equality with the CPU path on random cases, then pack/unpack throughput.

Run on a machine with a GPU (``python -m fluidspec.cuda_check`` or ``fluidspec bench
--cuda``).  It first encodes random cases (every writable dtype, 0-d to 3-d, zero-size dims,
LoDs, device and host arrays mixed) on the device and compares the bytes with
``numba_kernels.arrays.encode``; it decodes the device buffer back and compares every array,
dtype, shape and LoD with ``numba_kernels.arrays.decode``.  Any difference is a failure: the
first differing byte is printed and the exit status is 1 — before any timing.

Then it times, for ``1x256MiB-f32-combined`` and ``10000x1KiB-f32-combined`` (float32, as in
``fluidspec bench``):

* ``encode`` / ``cuda``: separate device arrays -> one device buffer (headers kernel, one copy
  launch per array);
* ``encode`` / ``cuda-arena``: the same arrays as views of one device arena, as a CUDAPlace load
  or a decode leaves them (headers kernel, one gather launch for all);
* ``decode`` / ``cuda``: the device buffer's payloads -> an aligned device arena (reused, like
  ``out`` for encode): the scatter launch and the array views.  The host-side parse is done
  once beforehand, as a load does after reading the file, and is timed on its own as
  ``decode-parse`` (for a device buffer it includes copying the buffer to the host);
* ``encode`` and ``decode`` / ``limit-d2d-copy``: one device-to-device copy of the same number
  of bytes — the limit.  Target: the large case at >= 50% of it.

``--tiny`` shrinks everything so the simulator can run it in seconds (figures meaningless).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fluidspec.spec import ELEMENT_TYPES, VarType

MiB = 1 << 20
CASES = {"1x256MiB-f32-combined": (1, 256 * MiB), "10000x1KiB-f32-combined": (10_000, 1024)}
TINY_CASES = {"1x256MiB-f32-combined": (1, 4096), "10000x1KiB-f32-combined": (12, 64)}
TARGET_FRACTION = 0.5

_WRITABLE = [row.dtype for code, row in sorted(ELEMENT_TYPES.items()) if code != VarType.UINT16]


class ByteMismatch(Exception):
    """The device path and the CPU path disagree: the check has failed."""


# --------------------------------------------------------------------------------------------
# Byte equality


def random_case(rng: np.random.Generator, max_elems: int) -> tuple[list[np.ndarray], list]:
    """Up to 8 arrays of random dtype/shape/bytes, some with a valid LoD (FMT-LOD-002)."""
    arrays: list[np.ndarray] = []
    lods: list = []
    for _ in range(int(rng.integers(0, 9))):
        dtype = np.dtype(_WRITABLE[int(rng.integers(len(_WRITABLE)))])
        ndim = int(rng.integers(0, 4))
        shape = tuple(int(x) for x in rng.integers(0, 8, ndim))
        if ndim and rng.random() < 0.3:  # now and then a long first axis
            shape = (int(rng.integers(1, max(2, max_elems // max(1, int(np.prod(shape[1:])))))),
                     *shape[1:])
        count = int(np.prod(shape, dtype=np.int64))
        raw = rng.integers(0, 256, count * dtype.itemsize, dtype=np.uint8)
        if dtype == np.bool_:
            raw %= 2
        arrays.append(raw.view(dtype).reshape(shape))
        lod = None
        if ndim and rng.random() < 0.4:
            cuts = np.sort(rng.integers(0, shape[0] + 1, int(rng.integers(0, 4)))).tolist()
            lod = [[0, *cuts, shape[0]]]
        lods.append(lod)
    return arrays, lods


def _first_difference(a: bytes, b: bytes) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"first difference at byte {i}: device {x:#04x}, cpu {y:#04x}"
    return f"lengths differ: device {len(a)} bytes, cpu {len(b)} bytes"


def verify(cases: int, seed: int, max_elems: int, launch: Any = None) -> int:
    """Check ``cases`` random cases; raise ByteMismatch on the first disagreement."""
    from numba import cuda

    from fluidspec.numba_kernels import arrays as cpu
    from fluidspec.numba_kernels import cuda as gpu

    rng = np.random.default_rng(seed)
    for k in range(cases):
        arrays, lods = random_case(rng, max_elems)
        on_dev = rng.random(len(arrays)) < 0.8
        ins = [cuda.to_device(a) if d else a for a, d in zip(arrays, on_dev, strict=True)]
        packed = gpu.encode(ins, lods, launch=launch)
        got = packed.copy_to_host().tobytes()
        want = bytes(cpu.encode(arrays, lods))
        if got != want:
            raise ByteMismatch(f"case {k} (seed {seed}): encode: {_first_difference(got, want)}")
        back = gpu.decode(packed, launch=launch)
        ref = cpu.decode(want, copy=True)
        if len(back) != len(ref):
            raise ByteMismatch(f"case {k}: decode gave {len(back)} records, cpu {len(ref)}")
        for i, ((dev, lod), (arr, ref_lod)) in enumerate(zip(back, ref, strict=True)):
            host = dev.copy_to_host()
            if host.dtype != arr.dtype or host.shape != arr.shape or lod != ref_lod:
                raise ByteMismatch(f"case {k} record {i}: decode gave {host.dtype}{host.shape} "
                                   f"lod {lod}, cpu {arr.dtype}{arr.shape} lod {ref_lod}")
            if host.tobytes() != arr.tobytes():
                raise ByteMismatch(f"case {k} record {i}: decode: "
                                   f"{_first_difference(host.tobytes(), arr.tobytes())}")
        # the decoded arrays are views of one arena: packing them again is one gather launch
        again = gpu.encode([d for d, _ in back], [lod for _, lod in back], launch=launch)
        again_bytes = again.copy_to_host().tobytes()
        if again_bytes != want:
            raise ByteMismatch(f"case {k}: re-encode of decoded arrays: "
                               f"{_first_difference(again_bytes, want)}")
    return cases


def verify_io(seed: int, max_elems: int) -> None:
    """The APIs on device values: reference.io saves host values; numba_kernels.io loads them
    with ``Executor(CUDAPlace(0))`` (values land on the device) and saves them again (packed on
    the device); the two streams must be identical."""
    from fluidspec import reference as fluid
    from fluidspec.numba_kernels import cuda as gpu
    from fluidspec.numba_kernels import io as nio
    from fluidspec.reference import io as rio

    rng = np.random.default_rng(seed)
    prog = fluid.Program()
    block = prog.global_block()
    host = fluid.Scope()
    for k, dtype in enumerate(["float32", "int64", "bool", "float16", "float64", "int8"]):
        shape = [int(rng.integers(1, 9)), int(rng.integers(1, max(2, max_elems // 8)))]
        block.create_parameter(name=f"p{k}", shape=shape, dtype=dtype)
        value = rng.integers(0, 2, shape) if dtype == "bool" else rng.standard_normal(shape)
        host.var(f"p{k}").get_tensor().set(value.astype(dtype), fluid.CPUPlace())
    with fluid.scope_guard(host):
        want = rio.save_persistables(fluid.Executor(fluid.CPUPlace()), None, prog)
    device = fluid.Scope()
    exe = fluid.Executor(fluid.CUDAPlace(0))
    with fluid.scope_guard(device):
        nio.load_persistables(exe, None, prog, filename=want)
        if not all(gpu.is_on_device(device.find_var(v.name).get_tensor()._array)
                   for v in block.all_parameters()):
            raise ByteMismatch("numba_kernels.io with CUDAPlace left values on the host")
        got = nio.save_persistables(exe, None, prog)
    if got != want:
        raise ByteMismatch(f"save_persistables of device values: {_first_difference(got, want)}")


# --------------------------------------------------------------------------------------------
# Throughput


def _times(fn: Callable[[], Any], repeat: int) -> list[float]:
    from numba import cuda

    fn()  # compile and warm
    cuda.synchronize()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        cuda.synchronize()
        out.append(time.perf_counter() - t0)
    return out


def _row(case: str, op: str, impl: str, times: list[float], nbytes: int, count: int) -> dict:
    return {"case": case, "op": op, "impl": impl, "median_s": statistics.median(times),
            "min_s": min(times), "max_s": max(times), "bytes": nbytes, "count": count}


def _measure_case(case: str, count: int, each: int, repeat: int) -> list[dict]:
    from numba import cuda

    from fluidspec.numba_kernels import cuda as gpu

    rng = np.random.default_rng(0)
    dev = [cuda.to_device(rng.standard_normal(each // 4).astype(np.float32))
           for _ in range(count)]
    packed = gpu.encode(dev)
    out = cuda.device_array(packed.shape[0], np.uint8)
    payload = count * each
    d2d_src = cuda.device_array(payload, np.uint8)
    d2d_dst = cuda.device_array(payload, np.uint8)
    u8, parsed, dbuf = gpu.parse(packed)
    arena = cuda.device_array(int(gpu.arena_layout(parsed)[-1]), np.uint8)
    views = [v for v, _ in gpu.unpack(u8, parsed, dbuf)]  # one arena, like a load's
    d2d = _times(lambda: d2d_dst.copy_to_device(d2d_src), repeat)
    return [
        _row(case, "encode", "cuda", _times(lambda: gpu.encode(dev, out=out), repeat),
             payload, count),
        _row(case, "encode", "cuda-arena", _times(lambda: gpu.encode(views, out=out), repeat),
             payload, count),
        _row(case, "decode", "cuda", _times(
            lambda: gpu.unpack(u8, parsed, dbuf, arena=arena), repeat), payload, count),
        _row(case, "decode-parse", "cuda", _times(lambda: gpu.parse(packed), repeat),
             payload, count),
        _row(case, "encode", "limit-d2d-copy", d2d, payload, count),
        _row(case, "decode", "limit-d2d-copy", d2d, payload, count),
    ]


def measure(cases: dict[str, tuple[int, int]], repeat: int) -> list[dict]:
    """Time pack, unpack and the D2D limit for each case; return JSON result rows."""
    rows: list[dict] = []
    for case, (count, each) in cases.items():
        print(f"timing {case} ...", file=sys.stderr, flush=True)
        rows.extend(_measure_case(case, count, each, repeat))
    return rows


def report(rows: list[dict], large_case: str) -> tuple[str, bool]:
    """A table with GB/s and the ratio to the D2D copy; whether the large case met the target."""
    limit = {(r["case"], r["op"]): r["median_s"] for r in rows if r["impl"] == "limit-d2d-copy"}
    lines = [f"{'case':26} {'op':13} {'impl':15} {'median ms':>10} {'GB/s':>8} {'vs D2D':>7}"]
    met = True
    for r in rows:
        gbs = r["bytes"] / r["median_s"] / 1e9 if r["median_s"] > 0 else float("inf")
        ref = limit.get((r["case"], r["op"]))
        ratio = ref / r["median_s"] if ref and r["median_s"] > 0 else float("nan")
        lines.append(f"{r['case']:26} {r['op']:13} {r['impl']:15} {1e3 * r['median_s']:10.3f} "
                     f"{gbs:8.2f} {ratio:7.2f}")
        if r["case"] == large_case and r["impl"] == "cuda" and r["op"] in ("encode", "decode"):
            met = met and ratio >= TARGET_FRACTION
    return "\n".join(lines), met


# --------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tiny", action="store_true",
                        help="tiny sizes, for the CUDA simulator (figures are meaningless)")
    parser.add_argument("--cases", type=int, default=None,
                        help="random byte-equality cases (default 200, 10 with --tiny)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=None, help="timed repeats (default 10)")
    parser.add_argument("--json", metavar="FILE", default=None, help="write the result rows")
    parser.add_argument("--no-timing", action="store_true", help="only the byte check")


def run(args: argparse.Namespace) -> int:
    """The whole check; 0 ok, 1 byte mismatch, 2 no GPU/simulator."""
    from fluidspec.numba_kernels import cuda as gpu

    if not gpu.available():
        print(f"cuda check: cannot run: {gpu.unavailable_reason()}", file=sys.stderr)
        return 2
    where = "CUDA simulator" if gpu.simulated() else "GPU"
    if not args.tiny and gpu.simulated():
        print("cuda check: the simulator cannot run full sizes; use --tiny", file=sys.stderr)
        return 2
    cases = args.cases if args.cases is not None else (10 if args.tiny else 200)
    max_elems = 64 if args.tiny else 1 << 18
    print(f"cuda check on the {where}: {cases} random cases, device bytes vs numba_kernels.arrays")
    try:
        verify(cases, args.seed, max_elems)
        verify_io(args.seed, max_elems)
    except ByteMismatch as exc:
        print(f"cuda check: FAILED: BYTE MISMATCH: {exc}", file=sys.stderr)
        return 1
    print(f"cuda check: bytes identical on all {cases} cases (encode and decode) and through "
          "numba_kernels.io with CUDAPlace")
    if args.no_timing:
        return 0
    sizes = TINY_CASES if args.tiny else CASES
    repeat = args.repeat if args.repeat is not None else (2 if args.tiny else 10)
    rows = measure(sizes, repeat)
    table, met = report(rows, "1x256MiB-f32-combined")
    print(table)
    print(f"target: large case encode and decode >= {TARGET_FRACTION:.0%} of the D2D copy: "
          f"{'met' if met else 'MISSED'}{' (simulator: meaningless)' if args.tiny else ''}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": rows, "device": where}, f, indent=1)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fluidspec.cuda_check",
                                     description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run_from_bench(quick: bool, json_path: str | None) -> int:
    """``fluidspec bench --cuda [--quick] [--json FILE]``: the same check, sized for where it
    runs (tiny under the simulator; fewer repeats and cases with ``--quick``)."""
    from fluidspec.numba_kernels import cuda as gpu

    tiny = gpu.simulated()
    return run(argparse.Namespace(
        tiny=tiny, cases=20 if quick and not tiny else None, seed=0,
        repeat=3 if quick and not tiny else None, json=json_path, no_timing=False,
    ))
