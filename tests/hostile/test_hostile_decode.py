"""Decoders against hostile bytes: truncations, bit flips, lying headers.

Clauses: ERR-001 (only taxonomy errors), ERR-002 (errors say where), FMT-SAFE-001 (every strict
prefix is TRUNCATED), FMT-SAFE-002 (negative / overflowing dims), FMT-SAFE-004 (Git LFS),
FMT-DESC-003/004, FMT-DTYPE-005, FMT-LOD-003/004, FMT-SR-003, FMT-REC-001/003, FMT-COMB-002/003.

A decode of mutated bytes may also *succeed*; then the result must be exactly what the bytes say,
re-derived independently by ``hostile_helpers.check_*_success``.  Every test runs against every
implementation (``reference``; ``numba_kernels`` once its decode API lands).
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

import hostile_helpers as hh
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec.spec.errors import FluidSpecError

IMPLS = hh.decoder_params()
DENSE = hh.dense_seeds()
COMBINED = hh.combined_seeds()
SELECTED_ROWS = hh.selected_rows_seeds()
LIES = hh.lying_headers()

# A decode of a few hundred bytes that takes longer than this is a hang (or quadratic blow-up).
_SLOW_S = 5.0


def _outcome(fn, *args):
    """Run a decoder: ('ok', result) or ('error', FluidSpecError).  Anything else propagates."""
    start = time.perf_counter()
    try:
        result = ("ok", fn(*args))
    except FluidSpecError as err:
        result = ("error", err)
    assert time.perf_counter() - start < _SLOW_S, "decoder took too long"
    return result


def _check_file(impl: hh.Decoders, buf: bytes) -> None:
    kind, value = _outcome(impl.decode_file, buf)
    if kind == "error":
        hh.check_error(value, len(buf))
    else:
        array, lod = value
        assert hh.check_dense_success(buf, 0, array, lod) == len(buf)


def _check_combined(impl: hh.Decoders, buf: bytes, count: int) -> None:
    kind, value = _outcome(impl.decode_combined, buf, count)
    if kind == "error":
        hh.check_error(value, len(buf))
        return
    assert len(value) == count
    pos = 0
    for array, lod in value:
        pos = hh.check_dense_success(buf, pos, array, lod)
    assert pos == len(buf)


def _check_selected_rows(impl: hh.Decoders, buf: bytes) -> None:
    kind, value = _outcome(impl.decode_selected_rows, buf)
    if kind == "error":
        hh.check_error(value, len(buf))
    else:
        array, rows, height = value
        assert hh.check_selected_rows_success(buf, array, rows, height) == len(buf)


def _check_everything(impl: hh.Decoders, buf: bytes, count: int) -> None:
    _check_file(impl, buf)
    _check_combined(impl, buf, count)
    _check_selected_rows(impl, buf)


# --------------------------------------------------------------------------------------------
# The seeds themselves are valid (else the fuzzing below proves nothing)


@pytest.mark.parametrize("impl", IMPLS)
def test_seeds_decode_to_what_their_bytes_say(impl):
    for name, buf in DENSE.items():
        array, lod = impl.decode_file(buf)
        assert hh.check_dense_success(buf, 0, array, lod) == len(buf), name
    for name, (buf, count) in COMBINED.items():
        out = impl.decode_combined(buf, count)
        pos = 0
        for array, lod in out:
            pos = hh.check_dense_success(buf, pos, array, lod)
        assert pos == len(buf), name
    for name, buf in SELECTED_ROWS.items():
        array, rows, height = impl.decode_selected_rows(buf)
        assert (rows, height) == ([1, 7, 3], 10), name
        assert hh.check_selected_rows_success(buf, array, rows, height) == len(buf)


# --------------------------------------------------------------------------------------------
# FMT-SAFE-001: truncation at every offset


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", sorted(DENSE))
def test_every_strict_prefix_of_a_record_is_truncated(impl, name):
    buf = DENSE[name]
    for cut in range(len(buf)):
        with pytest.raises(FluidSpecError) as info:
            impl.decode_file(buf[:cut])
        assert info.value.id == "TRUNCATED", (cut, str(info.value))
        hh.check_error(info.value, cut)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", sorted(COMBINED))
def test_every_strict_prefix_of_a_combined_stream_is_truncated(impl, name):
    buf, count = COMBINED[name]
    # A cut at a record boundary leaves fewer whole records: RECORD_COUNT_MISMATCH (SEL-LOAD-004).
    # The boundaries come from a full decode that check_dense_success verifies byte by byte.
    boundaries = {0}
    for array, lod in impl.decode_combined(buf, count):
        boundaries.add(hh.check_dense_success(buf, max(boundaries), array, lod))
    for cut in range(len(buf)):
        with pytest.raises(FluidSpecError) as info:
            impl.decode_combined(buf[:cut], count)
        expected = "RECORD_COUNT_MISMATCH" if cut in boundaries else "TRUNCATED"
        assert info.value.id == expected, (cut, str(info.value))


@pytest.mark.parametrize("impl", IMPLS)
def test_every_strict_prefix_of_a_selected_rows_record_is_truncated(impl):
    buf = SELECTED_ROWS["paddle-selected-rows"]
    for cut in range(len(buf)):
        with pytest.raises(FluidSpecError) as info:
            impl.decode_selected_rows(buf[:cut])
        assert info.value.id == "TRUNCATED", (cut, str(info.value))


@pytest.mark.parametrize("impl", IMPLS)
def test_extra_bytes_after_a_file_or_stream_are_trailing_bytes(impl):
    # FMT-COMB-002 / FMT-COMB-003
    buf = DENSE["paddle-fp32-2x3"]
    for extra in (b"\x00", b"\x00" * 7, DENSE["paddle-int8"]):
        with pytest.raises(FluidSpecError) as info:
            impl.decode_file(buf + extra)
        assert info.value.id == "TRAILING_BYTES"
        with pytest.raises(FluidSpecError) as info:
            impl.decode_combined(buf + extra, 1)
        # A whole extra record is a count mismatch (SEL-LOAD-004), other bytes FMT-COMB-002's.
        whole = extra == DENSE["paddle-int8"]
        assert info.value.id == ("RECORD_COUNT_MISMATCH" if whole else "TRAILING_BYTES")


# --------------------------------------------------------------------------------------------
# Lying headers


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("lie", LIES, ids=[lie.name for lie in LIES])
def test_lying_header_is_refused_with_the_right_taxonomy_error(impl, lie):
    decode = impl.decode_file if lie.kind == "dense" else impl.decode_selected_rows
    with pytest.raises(FluidSpecError) as info:
        decode(lie.data)
    assert info.value.id in lie.allowed, str(info.value)
    hh.check_error(info.value, len(lie.data))
    if lie.kind == "dense":
        # The same lie as the second record of a combined stream: same verdict, later offset.
        head = DENSE["paddle-int8"]
        with pytest.raises(FluidSpecError) as info:
            impl.decode_combined(head + lie.data, 2)
        # No bytes at all for the second record: one whole record for two (SEL-LOAD-004).
        allowed = lie.allowed if lie.data else ("RECORD_COUNT_MISMATCH",)
        assert info.value.id in allowed, str(info.value)
        if info.value.offset is not None:
            assert info.value.offset >= len(head)


# --------------------------------------------------------------------------------------------
# Hypothesis: random mutations of the seeds


_ALL_SEEDS = sorted(DENSE) + sorted(COMBINED) + sorted(SELECTED_ROWS)


def _seed(name: str) -> tuple[bytes, int]:
    if name in DENSE:
        return DENSE[name], 1
    if name in COMBINED:
        return COMBINED[name]
    return SELECTED_ROWS[name], 1


# Values that make integer fields lie: around the 31/32/63/64-bit edges and "huge".
_INTERESTING = [0, 1, 7, 8, 12, 0x7F, 0x80, 0xFF, 1 << 20, (1 << 31) - 1, 1 << 31, (1 << 32) - 1,
                1 << 32, 1 << 40, 1 << 50, 1 << 60, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]


@st.composite
def _mutated(draw):
    buf, count = _seed(draw(st.sampled_from(_ALL_SEEDS)))
    data = bytearray(buf)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "byte", "u32", "u64", "cut", "insert", "dup"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and data:
            data[at] = draw(st.integers(0, 255))
        elif op in ("u32", "u64"):
            width = 4 if op == "u32" else 8
            value = draw(st.sampled_from(_INTERESTING)) & ((1 << (8 * width)) - 1)
            data[at : at + width] = struct.pack("<I" if width == 4 else "<Q", value)
        elif op == "cut":
            end = draw(st.integers(at, len(data)))
            del data[at:end]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 32))]
    return bytes(data), count


@pytest.mark.parametrize("impl", IMPLS)
@given(case=_mutated())
def test_mutated_seeds_give_taxonomy_errors_or_exact_results(impl, case):
    buf, count = case
    _check_everything(impl, buf, count)


@given(case=_mutated())
def test_read_records_used_by_inspect_gives_taxonomy_errors_or_true_headers(case):
    # fluidspec inspect's reader (FMT-SNIFF-001) walks records without knowing their count.
    from fluidspec.reference._codec import read_records

    buf, _count = case
    try:
        headers = read_records(buf)
    except FluidSpecError as err:
        hh.check_error(err, len(buf))
        return
    assert headers and headers[-1].end == len(buf)
    for prev, nxt in zip(headers, headers[1:], strict=False):
        assert prev.end == nxt.offset


@pytest.mark.parametrize("impl", IMPLS)
@given(buf=st.binary(max_size=96), count=st.integers(1, 3))
def test_random_bytes_give_taxonomy_errors_or_exact_results(impl, buf, count):
    _check_everything(impl, buf, count)


@pytest.mark.parametrize("impl", IMPLS)
@given(
    field_offset=st.sampled_from([0, 4, 12, 16, 20]),
    value=st.sampled_from(_INTERESTING),
    width=st.sampled_from([4, 8]),
)
def test_lying_integer_in_a_header_field(impl, field_offset, value, width):
    # The fixed-position header fields of a record with a one-level LoD: version (0), level
    # count (4), level size (12), first offset (20), and - for a no-LoD record - desc size (16).
    base = DENSE["paddle-fp32-lod"] if field_offset != 16 else DENSE["paddle-fp32-2x3"]
    data = bytearray(base)
    value &= (1 << (8 * width)) - 1
    data[field_offset : field_offset + width] = value.to_bytes(width, "little")
    _check_everything(impl, bytes(data), 1)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("cut", [4, 8, 24, len(hh.LFS_POINTER)])
def test_git_lfs_pointer_is_not_a_tensor_file(impl, cut):
    # FMT-SAFE-004: even a short prefix of the pointer text is recognised (>= 4 bytes, "vers").
    buf = hh.LFS_POINTER[:cut]
    for decode in (impl.decode_file, impl.decode_selected_rows):
        with pytest.raises(FluidSpecError) as info:
            decode(buf)
        assert info.value.id == "NOT_A_TENSOR_FILE", str(info.value)
    with pytest.raises(FluidSpecError) as info:
        impl.decode_combined(buf, 1)
    assert info.value.id == "NOT_A_TENSOR_FILE"


# --------------------------------------------------------------------------------------------
# Whole loads of mutated files, and mutated ProgramDescs (ERR-001 beyond the codec)

IO = hh.io_params()
_PADDLE_MODEL = (Path(__file__).resolve().parents[2] / "conformance" / "vectors"
                 / "paddle-2.6.2" / "inference-dir" / "__model__")


@pytest.mark.parametrize("io", IO)
@given(case=_mutated())
def test_mutated_combined_files_through_load_vars(io, case):
    # A load either succeeds or raises a taxonomy error and leaves the scope as it was
    # (SEL-LOAD-003); never another exception.
    import numpy as np

    from fluidspec import reference as fluid

    buf, _count = case
    names = ["a", "b", "c"]
    sentinel = {n: np.full(2, i, np.float32) for i, n in enumerate(names)}
    with fluid.scope_guard(fluid.Scope()):
        program = hh.build_program(sentinel)
        exe = fluid.Executor(fluid.CPUPlace())
        try:
            io.load_vars(exe, None, program, filename=buf)
        except FluidSpecError as err:
            hh.check_error(err, len(buf))
            assert hh.same_values(hh.scope_values(names), sentinel)


@pytest.fixture(scope="module")
def paddle_model() -> bytes:
    if not _PADDLE_MODEL.exists():
        pytest.skip("the Paddle-written __model__ vector is not in this checkout")
    return _PADDLE_MODEL.read_bytes()


@given(data=st.data())
def test_mutated_program_desc_is_bad_program_or_parses(paddle_model, data):
    from fluidspec import reference as fluid

    buf = bytearray(paddle_model)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(buf) - 1))
        op = data.draw(st.sampled_from(["flip", "cut", "byte", "insert"]))
        if op == "flip":
            buf[at] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "byte":
            buf[at] = data.draw(st.integers(0, 255))
        elif op == "insert":
            buf[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del buf[at:]
            break
    try:
        program = fluid.Program.parse_from_string(bytes(buf))
    except FluidSpecError as err:
        assert err.id == "BAD_PROGRAM", str(err)
        return
    assert len(program.blocks) >= 1
    program.desc.serialize_to_string()  # what parsed can be written back


@pytest.mark.parametrize("io", IO)
@given(case=_mutated())
def test_mutated_separate_files_through_load_vars(io, case):
    # The same for separate files: a dense var and a SelectedRows var each read the mutated
    # bytes from their own file (FMT-COMB-003, FMT-SR-*), in a fresh directory per example.
    import tempfile

    import numpy as np

    from fluidspec import reference as fluid

    buf, _count = case
    with tempfile.TemporaryDirectory() as tmp, fluid.scope_guard(fluid.Scope()):
        program = fluid.Program()
        block = program.global_block()
        block.create_var(name="dense", shape=[2], dtype="float32", persistable=True)
        block.create_var(name="sr", shape=[10, 2], dtype="float32", persistable=True,
                         type=fluid.core.VarDesc.VarType.SELECTED_ROWS)
        fluid.global_scope().var("dense").get_tensor().set(np.ones(2, np.float32))
        exe = fluid.Executor(fluid.CPUPlace())
        for name in ("dense", "sr"):
            Path(tmp, name).write_bytes(buf)
        other = {"dense": "sr", "sr": "dense"}
        for name in ("dense", "sr"):
            # The other var's file must load, so rewrite it with a valid record first.
            if other[name] == "sr":
                Path(tmp, "sr").write_bytes(SELECTED_ROWS["paddle-selected-rows"])
            else:
                Path(tmp, "dense").write_bytes(DENSE["paddle-fp32-2x3"])
            Path(tmp, name).write_bytes(buf)
            before = hh.scope_values(["dense"])
            try:
                io.load_vars(exe, tmp, program)
            except FluidSpecError as err:
                hh.check_error(err, len(buf))
                assert hh.same_values(hh.scope_values(["dense"]), before)


@pytest.mark.parametrize("harness", ["fuzz_decode.py", "fuzz_program.py"])
def test_atheris_harnesses_still_run(harness, tmp_path):
    # The long-run harnesses of fuzz/README.md share this file's helpers; a short run keeps
    # them working (atheris is the optional `fuzz` extra, so this skips without it).
    import subprocess
    import sys

    pytest.importorskip("atheris")
    script = Path(__file__).resolve().parents[2] / "fuzz" / harness
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "corpus"), "-runs=300", "-timeout=10"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done 300 runs" in done.stderr
    assert not list(tmp_path.glob("crash-*"))
