"""Bounded memory on hostile headers (clauses FMT-SAFE-003, FMT-DESC-004,
FMT-LOD-004, FMT-SR-003, SAFE-MEM-001).

A reader may allocate at most ``len(input) + 1 MiB`` whatever its headers claim (2**40 dims,
2**60 LoD levels, a 2**40-byte level, a 10**9-byte desc, 2**50 rows, ...).  Three independent
measurements, because no single one sees every allocator:

* ``tracemalloc`` peak: every Python object and every numpy buffer (numpy reports its data
  allocations to tracemalloc), to the byte;
* the process's peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs``): also sees
  C allocations that are touched (protobuf's upb arena, numba's NRT);
* a child process under ``RLIMIT_AS`` = its current address space + 64 MiB: an allocation of a
  GiB fails there even if it is never touched, and the MemoryError fails the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import hostile_helpers as hh
import numpy as np
import pytest

from fluidspec.spec.errors import FluidSpecError

IMPLS = hh.decoder_params()
MIB = 1 << 20
HELPERS_DIR = Path(__file__).resolve().parents[1] / "helpers"
REPO = Path(__file__).resolve().parents[2]


def _memory_lies() -> list[hh.Lie]:
    """The lying headers plus the same lies padded with real bytes (so the input is not tiny)."""
    lies = list(hh.lying_headers())
    pad = bytes(3 * MIB)
    lies.append(hh.Lie("dims-2^40-with-3MiB-data",
                       hh.raw_record(desc=hh.desc_bytes(hh.FP32, [1 << 40]), data=pad),
                       frozenset({"TRUNCATED"})))
    lies.append(hh.Lie("desc-size-10^9-after-3MiB-lod",
                       hh.raw_record(lod_levels=[list(range(3 * MIB // 8))], desc_size=10**9),
                       frozenset({"TRUNCATED", "INVALID_LOD"})))
    lies.append(hh.Lie("lod-3MiB-not-ending-at-rows",
                       hh.raw_record(lod_levels=[list(range(3 * MIB // 8))],
                                     desc=hh.desc_bytes(hh.FP32, [5])),
                       frozenset({"INVALID_LOD"})))
    empty_levels = (5 * MIB // 4) // 8  # 1.25 MiB: over the 1 MiB slack, quick to walk
    lies.append(hh.Lie("lod-1.25MiB-of-empty-levels",
                       hh.raw_record(lod_levels=[[]] * empty_levels,
                                     desc=hh.desc_bytes(hh.FP32, [5]), data=bytes(20)),
                       frozenset({"INVALID_LOD"})))
    lies.append(hh.Lie("lod-1.25MiB-of-one-offset-levels-then-desc-lie",
                       hh.raw_record(lod_levels=[[0]] * (empty_levels // 2), desc_size=10**9),
                       frozenset({"TRUNCATED", "INVALID_LOD"})))
    big_rows = list(range(3 * MIB // 8))
    lies.append(hh.Lie("sr-desc-size-10^9-after-3MiB-rows",
                       hh.raw_selected_rows(big_rows, 10, b"")[:-4] + b"\x00\xca\x9a\x3b",
                       frozenset({"TRUNCATED"}), kind="selected_rows"))
    return lies


LIES = _memory_lies()


def _decode(impl: hh.Decoders, lie: hh.Lie) -> str:
    decode = impl.decode_file if lie.kind == "dense" else impl.decode_selected_rows
    try:
        decode(lie.data)
    except FluidSpecError as err:
        return err.id
    return "ok"


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("lie", LIES, ids=[lie.name for lie in LIES])
def test_tracemalloc_peak_stays_within_input_plus_1mib(impl, lie):
    _decode(impl, lie)  # warm caches (imports, JIT) outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        verdict = _decode(impl, lie)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert verdict in lie.allowed
    assert peak - before <= len(lie.data) + MIB, f"{lie.name}: peak {peak - before} bytes"


def _hwm_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1))


def _rss_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


_HAS_CLEAR_REFS = sys.platform == "linux" and os.access("/proc/self/clear_refs", os.W_OK)


@pytest.mark.skipif(not _HAS_CLEAR_REFS, reason="needs Linux /proc/self/clear_refs")
@pytest.mark.parametrize("impl", IMPLS)
def test_peak_rss_stays_within_input_plus_1mib(impl):
    over = {}
    for lie in LIES:
        _decode(impl, lie)
        Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
        start = _rss_kib()
        _decode(impl, lie)
        grown = (_hwm_kib() - start) * 1024
        if grown > len(lie.data) + MIB:
            over[lie.name] = grown
    assert over == {}


_CHILD = r"""
import json, resource, sys
sys.path[:0] = sys.argv[1].split(",")  # tests/helpers, and this test's own folder
import hostile_helpers as hh
import test_hostile_memory as thm
from fluidspec.spec.errors import FluidSpecError
impl = hh.reference_decoders() if sys.argv[2] == "reference" else hh.numba_decoders()
for lie in thm.LIES:
    thm._decode(impl, lie)  # warm up before the limit
vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + 64 * 2**20, resource.getrlimit(resource.RLIMIT_AS)[1]))
out = {}
for lie in thm.LIES:
    try:
        out[lie.name] = thm._decode(impl, lie)
    except MemoryError:
        out[lie.name] = "MemoryError"
print(json.dumps(out))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux")
@pytest.mark.parametrize("impl", IMPLS)
def test_no_large_allocation_under_an_address_space_limit(impl):
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, f"{HELPERS_DIR},{Path(__file__).parent}", impl.name],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    verdicts = json.loads(done.stdout.strip().splitlines()[-1])
    wrong = {lie.name: verdicts[lie.name] for lie in LIES if verdicts[lie.name] not in lie.allowed}
    assert wrong == {}


@pytest.mark.parametrize("impl", IMPLS)
def test_a_large_valid_record_costs_about_its_own_size(impl):
    # The control: the bound is not so loose that it would pass a decoder that copies twice.
    array = np.arange(2 * MIB, dtype=np.float32)  # 8 MiB payload
    buf = hh.raw_record(desc=hh.desc_bytes(hh.FP32, [array.size]), data=array.tobytes())
    impl.decode_file(buf)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        out, _lod = impl.decode_file(buf)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(out, array)
    assert peak - before <= len(buf) + MIB


# --------------------------------------------------------------------------------------------
# Whole loads through the APIs (SAFE-MEM-001): a lie in the *last* record of a big file, and the
# cost of a successful load (bytes read + values returned + 1 MiB).

IO = hh.io_params()
_BIG = np.arange(3 * MIB // 4, dtype=np.float32)  # 3 MiB
_LIE = hh.raw_record(desc_size=10**9)


def _peak_of(fn) -> tuple[int, object]:
    """(tracemalloc peak of ``fn()`` above its start, its result or its taxonomy error)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        try:
            fn_result = fn()
        except FluidSpecError as err:
            fn_result = err
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before, fn_result


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("mode", ["combined-file", "memory", "separate"])
def test_a_lie_after_a_big_record_costs_at_most_the_bytes_read(io, tmp_path, mode):
    from fluidspec import reference as fluid
    from fluidspec.reference._codec import encode_lod_tensor

    good = encode_lod_tensor(_BIG)
    with fluid.scope_guard(fluid.Scope()):
        program = hh.build_program({"a": _BIG, "b": np.zeros(0, np.float32)}, set_values=False)
        exe = fluid.Executor(fluid.CPUPlace())
        if mode == "separate":
            (tmp_path / "a").write_bytes(good)
            (tmp_path / "b").write_bytes(_LIE)
            nbytes = len(good) + len(_LIE)

            def load():
                return io.load_vars(exe, str(tmp_path), program)
        else:
            stream = good + _LIE
            (tmp_path / "all").write_bytes(stream)
            nbytes = len(stream)

            def load():
                if mode == "memory":
                    return io.load_vars(exe, None, program, filename=stream)
                return io.load_vars(exe, str(tmp_path), program, filename="all")
        _peak_of(load)  # warm-up (imports, JIT), outside the measurement
        peak, err = _peak_of(load)
    assert isinstance(err, FluidSpecError) and err.id == "TRUNCATED", err
    assert peak <= nbytes + MIB, f"peak {peak} bytes for {nbytes} bytes read"


@pytest.mark.parametrize("io", IO)
def test_a_successful_load_costs_bytes_read_plus_values(io, tmp_path):
    from fluidspec import reference as fluid
    from fluidspec.reference._codec import encode_lod_tensor

    stream = encode_lod_tensor(_BIG)
    (tmp_path / "all").write_bytes(stream)
    with fluid.scope_guard(fluid.Scope()):
        program = hh.build_program({"a": _BIG}, set_values=False)
        exe = fluid.Executor(fluid.CPUPlace())
        _peak_of(lambda: io.load_vars(exe, str(tmp_path), program, filename="all"))
        fluid.global_scope().var("a").get_tensor().set(np.zeros(1, np.float32))
        peak, err = _peak_of(lambda: io.load_vars(exe, str(tmp_path), program, filename="all"))
        assert err is None, err
        assert np.array_equal(hh.scope_values(["a"])["a"], _BIG)
    assert peak <= len(stream) + _BIG.nbytes + MIB, f"peak {peak} for a {len(stream)}-byte file"
