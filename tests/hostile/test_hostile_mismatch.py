"""Combined loads that do not match the selection: SAFE-MISMATCH-001
(and SEL-LOAD-002/004/005).

Records are assigned to the sorted selected names by position.  Before assigning anything, a
load counts the records (RECORD_COUNT_MISMATCH: how many records, how many variables), compares
each record's element type with the declared dtype (DTYPE_MISMATCH: first mismatch, var,
expected, found) and Parameters' shapes (SHAPE_MISMATCH).  On any error the scope is untouched:
every variable keeps the value (or the absence of one) it had.  From a file and from memory.
"""

from __future__ import annotations

import hostile_helpers as hh
import numpy as np
import pytest

from fluidspec import reference as fluid
from fluidspec.reference._codec import encode_lod_tensor
from fluidspec.spec.errors import FluidSpecError

IO = hh.io_params()

# Sorted order: a, b, c.  Parameters: b.
DECLARED = {
    "a": np.arange(3, dtype=np.float32),
    "b": np.arange(6, dtype=np.int64).reshape(2, 3),
    "c": np.array([True, False]),
}
PARAMETERS = {"b"}
SENTINELS = {
    "a": np.full(3, -1, np.float32),
    "b": np.full((2, 3), -1, np.int64),
    "c": None,  # no value before the load: must still have none after a failed one
}


def _stream(*arrays):
    return b"".join(encode_lod_tensor(a) for a in arrays)


def _dtype_names(dtype_like) -> set[str]:
    """The spellings an error may use for a dtype: VarType name and numpy name, lower-case."""
    from fluidspec.spec import element_type_for_dtype

    dt = np.dtype(dtype_like)
    return {dt.name.lower(), element_type_for_dtype(dt).name.lower()}


def _load(io, data: bytes, tmp_path, from_memory: bool):
    program = hh.build_program(DECLARED, parameters=PARAMETERS, set_values=False)
    scope = fluid.global_scope()
    for name, value in SENTINELS.items():
        if value is not None:
            scope.var(name).get_tensor().set(value, fluid.CPUPlace())
    exe = fluid.Executor(fluid.CPUPlace())
    if from_memory:
        return io.load_vars(exe, None, program, vars=list(program.list_vars()), filename=data)
    (tmp_path / "all").write_bytes(data)
    return io.load_vars(exe, str(tmp_path), program, vars=list(program.list_vars()),
                        filename="all")


def _expect(io, data, tmp_path, from_memory, error_id):
    with fluid.scope_guard(fluid.Scope()):
        with pytest.raises(FluidSpecError) as info:
            _load(io, data, tmp_path, from_memory)
        after = hh.scope_values(list(DECLARED))
    assert info.value.id == error_id, str(info.value)
    assert hh.same_values(after, SENTINELS), "the scope changed although the load failed"
    return info.value


MODES = [pytest.param(False, id="file"), pytest.param(True, id="memory")]


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("from_memory", MODES)
def test_matching_stream_loads(io, tmp_path, from_memory):
    # The control: the same setup with a matching stream loads and assigns every value.
    with fluid.scope_guard(fluid.Scope()):
        _load(io, _stream(*DECLARED.values()), tmp_path, from_memory)
        got = hh.scope_values(list(DECLARED))
    assert hh.same_values(got, DECLARED)


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("from_memory", MODES)
@pytest.mark.parametrize("records", [0, 1, 2, 4, 7])
def test_record_count_mismatch_says_both_counts(io, tmp_path, from_memory, records):
    arrays = list(DECLARED.values())
    data = _stream(*(arrays * 3)[:records])
    if records == 0:
        expected_ids = ("RECORD_COUNT_MISMATCH", "TRUNCATED")  # an empty stream holds nothing
    else:
        expected_ids = ("RECORD_COUNT_MISMATCH",)
    with fluid.scope_guard(fluid.Scope()):
        with pytest.raises(FluidSpecError) as info:
            _load(io, data, tmp_path, from_memory)
        after = hh.scope_values(list(DECLARED))
    err = info.value
    assert err.id in expected_ids, str(err)
    assert hh.same_values(after, SENTINELS)
    if err.id == "RECORD_COUNT_MISMATCH":
        text = str(err)
        assert str(records) in text and str(len(DECLARED)) in text, text


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("from_memory", MODES)
@pytest.mark.parametrize(
    ("swap", "var", "found"),
    [
        ({"a": np.arange(3, dtype=np.float64)}, "a", np.float64),
        ({"b": np.arange(6, dtype=np.int32).reshape(2, 3)}, "b", np.int32),
        ({"c": np.array([1, 0], np.uint8)}, "c", np.uint8),
        # Two mismatches: the first in sorted order is named.
        ({"a": np.arange(3, dtype=np.float16), "c": np.array([1.0, 2.0])}, "a", np.float16),
    ],
    ids=["a-fp64", "b-int32", "c-uint8", "first-of-two"],
)
def test_dtype_mismatch_names_the_first_var_expected_and_found(io, tmp_path, from_memory, swap,
                                                                var, found):
    arrays = {**DECLARED, **swap}
    err = _expect(io, _stream(*arrays.values()), tmp_path, from_memory, "DTYPE_MISMATCH")
    assert err.var == var, str(err)
    assert str(err.expected).lower() in _dtype_names(DECLARED[var].dtype), str(err)
    assert str(err.found).lower() in _dtype_names(found), str(err)


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("from_memory", MODES)
def test_records_in_the_wrong_order_are_refused_not_swapped(io, tmp_path, from_memory):
    # Paddle assigns positionally: c's record first would make `a` a bool.  Here: DTYPE_MISMATCH.
    data = _stream(DECLARED["c"], DECLARED["b"], DECLARED["a"])
    err = _expect(io, data, tmp_path, from_memory, "DTYPE_MISMATCH")
    assert err.var == "a"


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("from_memory", MODES)
def test_parameter_shape_mismatch_is_refused_before_assigning(io, tmp_path, from_memory):
    arrays = {**DECLARED, "b": np.arange(6, dtype=np.int64).reshape(3, 2)}
    err = _expect(io, _stream(*arrays.values()), tmp_path, from_memory, "SHAPE_MISMATCH")
    assert err.var == "b"
    assert "2" in str(err.expected) and "3" in str(err.found), str(err)


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("from_memory", MODES)
def test_non_parameter_shape_is_not_checked(io, tmp_path, from_memory):
    # As Paddle does: only Parameters are shape-checked (a's declared [3] takes a [1, 3]).
    arrays = {**DECLARED, "a": np.arange(3, dtype=np.float32).reshape(1, 3)}
    with fluid.scope_guard(fluid.Scope()):
        _load(io, _stream(*arrays.values()), tmp_path, from_memory)
        got = hh.scope_values(list(DECLARED))
    assert hh.same_values(got, arrays)


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("from_memory", MODES)
def test_a_bad_last_record_leaves_earlier_vars_unassigned(io, tmp_path, from_memory):
    # Paddle loads a truncated last record silently; here TRUNCATED, and `a`, `b` (whose
    # records were fine) keep their old values.
    data = _stream(*DECLARED.values())[:-1]
    _expect(io, data, tmp_path, from_memory, "TRUNCATED")


# --------------------------------------------------------------------------------------------
# One error per mismatch, whichever reader reads the stream (format.md §1.6)
#
# The expected ids are the spec's decision, written here from the chapter text: each case names
# the one clause that decides it, and the test also checks that clause's text names the id.

_WHOLE = list(DECLARED.values())
_ONE_RECORD = encode_lod_tensor(DECLARED["a"])
COMBINED_MISMATCHES = [
    # (case, stream for the 3 variables a, b, c, clause, error id)
    ("cut-inside-the-first-record", _stream(*_WHOLE)[:10], "FMT-SAFE-001", "TRUNCATED"),
    ("cut-inside-the-last-record", _stream(*_WHOLE)[:-1], "FMT-SAFE-001", "TRUNCATED"),
    ("fewer-whole-records", _stream(*_WHOLE[:2]), "SEL-LOAD-004", "RECORD_COUNT_MISMATCH"),
    ("no-records", b"", "SEL-LOAD-004", "RECORD_COUNT_MISMATCH"),
    ("one-extra-record", _stream(*_WHOLE, _WHOLE[0]), "SEL-LOAD-004", "RECORD_COUNT_MISMATCH"),
    ("two-extra-records", _stream(*_WHOLE, *_WHOLE[:2]), "SEL-LOAD-004", "RECORD_COUNT_MISMATCH"),
    ("stray-zero-bytes", _stream(*_WHOLE) + b"\0" * 5, "FMT-COMB-002", "TRAILING_BYTES"),
    ("a-cut-extra-record", _stream(*_WHOLE) + _ONE_RECORD[:-1], "FMT-COMB-002", "TRAILING_BYTES"),
    ("extra-record-then-stray-byte", _stream(*_WHOLE) + _ONE_RECORD + b"\1", "FMT-COMB-002",
     "TRAILING_BYTES"),
]


def _combined_readers() -> list:
    """(id, read(bytes) for 3 variables) for every implementation's combined-stream readers."""
    from fluidspec.reference import _codec

    def via_load_vars(io):
        def read(data: bytes) -> None:
            with fluid.scope_guard(fluid.Scope()):
                _load(io, data, None, from_memory=True)
        return read

    readers = [pytest.param(lambda data: _codec.decode_combined(data, len(DECLARED)),
                            id="reference-codec")]
    for param in IO:
        (io,) = param.values
        readers.append(pytest.param(via_load_vars(io), id=f"{param.id}-load_vars",
                                    marks=param.marks))
    try:
        from fluidspec.numba_kernels import arrays
    except ImportError as exc:
        readers.append(pytest.param(None, id="numba_kernels-arrays", marks=pytest.mark.skip(
            reason=f"fluidspec.numba_kernels.arrays not importable ({exc})")))
    else:
        readers.append(pytest.param(lambda data: arrays.decode(data, count=len(DECLARED)),
                                    id="numba_kernels-arrays"))
    return readers


@pytest.mark.parametrize("read", _combined_readers())
@pytest.mark.parametrize(("stream", "clause", "error_id"),
                         [pytest.param(*case[1:], id=case[0]) for case in COMBINED_MISMATCHES])
def test_every_reader_gives_a_mismatched_combined_stream_the_clauses_error(read, stream, clause,
                                                                           error_id):
    from fluidspec.spec import clause as spec_clause

    assert f"`{error_id}`" in spec_clause(clause).text, f"{clause} does not name {error_id}"
    with pytest.raises(FluidSpecError) as info:
        read(stream)
    assert info.value.id == error_id, str(info.value)
