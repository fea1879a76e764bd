"""fluidspec.reference._io: save_vars / load_vars and the params / persistables wrappers (SEL-*).

Expected bytes are byte dumps of files written by Paddle 2.6.2 (spec/chapters/format.md), typed
in here by hand — not from the codec under test.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fluidspec import reference as fluid
from fluidspec import spec
from fluidspec.reference._codec import decode_combined
from fluidspec.spec import EMPTY_SELECTION_WARNING
from fluidspec.spec.errors import (
    DtypeMismatchError,
    InvalidArgumentError,
    MissingFileError,
    RecordCountMismatchError,
    ShapeMismatchError,
    TrailingBytesError,
    TruncatedError,
    UninitializedVarError,
    UnsafeNameError,
    UnsupportedVarTypeError,
)

VT = fluid.core.VarDesc.VarType
EXE = fluid.Executor(fluid.CPUPlace())

# Bytes written by Paddle 2.6.2.
F32_2X3 = bytes.fromhex(
    "00000000" "0000000000000000" "00000000" "06000000" "080510021003"
    "0000803f" "00000040" "00004040" "00008040" "0000a040" "0000c040"
)
F32_LOD = bytes.fromhex(
    "00000000" "0100000000000000" "1800000000000000"
    "0000000000000000" "0200000000000000" "0500000000000000"
    "00000000" "06000000" "080510051001"
    "00000000" "0000803f" "00000040" "00004040" "00008040"
)
F32_0D = bytes.fromhex("00000000" "0000000000000000" "00000000" "02000000" "0805" "00000040")
BOOL_3 = bytes.fromhex("00000000" "0000000000000000" "00000000" "04000000" "08001003" "010001")
C64_1 = bytes.fromhex(
    "00000000" "0000000000000000" "00000000" "04000000" "08171001" "0000803f00000040"
)
SR_82 = bytes.fromhex(
    "00000000" "0300000000000000" "0100000000000000" "0700000000000000" "0300000000000000"
    "0a00000000000000" "00000000" "06000000" "080510031002"
    "00000000" "0000803f" "00000040" "00004040" "00008040" "0000a040"
)


@pytest.fixture(autouse=True)
def fresh_scope():
    with fluid.scope_guard(fluid.Scope()):
        yield


def _set(name, array, lod=None):
    tensor = fluid.global_scope().var(name).get_tensor()
    tensor.set(np.asarray(array), fluid.CPUPlace())
    if lod:
        tensor.set_lod(lod)
    return tensor


def _value(name):
    return np.array(fluid.global_scope().find_var(name).get_tensor())


def _files_under(root):
    root = Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _program(*specs):
    """Each spec: (name, kind, persistable, is_param, shape, dtype)."""
    prog = fluid.Program()
    g = prog.global_block()
    for name, kind, persistable, is_param, shape, dtype in specs:
        if is_param:
            g.create_parameter(name=name, shape=shape, dtype=dtype)
        else:
            g.create_var(name=name, shape=shape if kind in (VT.LOD_TENSOR, VT.SELECTED_ROWS)
                         else None, dtype=dtype, type=kind, persistable=persistable)
    return prog


# --------------------------------------------------------------------------------------------
# Bytes identical to Paddle's


def test_separate_files_are_paddle_bytes(tmp_path):  # SEL-FILE-001, SEL-SAVE-005, SEL-SAVE-009
    prog = _program(
        ("w", VT.LOD_TENSOR, True, True, [2, 3], "float32"),
        ("seq", VT.LOD_TENSOR, True, False, [-1, 1], "float32"),
        ("lr", VT.LOD_TENSOR, True, False, [1], "float32"),  # declared [1], holds 0-d
        ("mask", VT.LOD_TENSOR, True, False, [3], "bool"),
        ("c", VT.LOD_TENSOR, True, False, [1], "complex64"),
        ("sr", VT.SELECTED_ROWS, True, False, [10, 2], "float32"),
    )
    _set("w", np.arange(1, 7, dtype=np.float32).reshape(2, 3))
    _set("seq", np.arange(5, dtype=np.float32).reshape(5, 1), [[0, 2, 5]])
    _set("lr", np.float32(2.0))
    _set("mask", [True, False, True])
    _set("c", np.array([1 + 2j], np.complex64))
    sr = fluid.global_scope().var("sr").get_selected_rows()
    sr.set_rows([1, 7, 3])
    sr.set_height(10)
    sr.get_tensor().set(np.arange(6, dtype=np.float32).reshape(3, 2), fluid.CPUPlace())
    assert fluid.io.save_persistables(EXE, str(tmp_path), prog) is None
    expected = {"w": F32_2X3, "seq": F32_LOD, "lr": F32_0D, "mask": BOOL_3, "c": C64_1, "sr": SR_82}
    assert {n: (tmp_path / n).read_bytes() for n in expected} == expected
    assert _files_under(tmp_path) == sorted(expected)


def test_combined_and_memory_are_paddle_bytes_in_sorted_order(tmp_path):  # FMT-COMB-001, SEL-FILE-003
    prog = _program(("w", VT.LOD_TENSOR, True, True, [2, 3], "float32"),
                    ("seq", VT.LOD_TENSOR, True, False, [-1, 1], "float32"),
                    ("lr", VT.LOD_TENSOR, True, False, [1], "float32"))
    _set("w", np.arange(1, 7, dtype=np.float32).reshape(2, 3))
    _set("seq", np.arange(5, dtype=np.float32).reshape(5, 1), [[0, 2, 5]])
    _set("lr", np.float32(2.0))
    expected = F32_0D + F32_LOD + F32_2X3  # lr < seq < w
    assert fluid.io.save_persistables(EXE, None, prog) == expected
    fluid.io.save_persistables(EXE, tmp_path, prog, filename="sub/all")
    assert (tmp_path / "sub" / "all").read_bytes() == expected


def test_loads_paddle_bytes(tmp_path):  # SEL-LOAD-007, SEL-FILE-003
    prog = _program(("w", VT.LOD_TENSOR, True, True, [2, 3], "float32"),
                    ("seq", VT.LOD_TENSOR, True, False, [-1, 1], "float32"),
                    ("lr", VT.LOD_TENSOR, True, False, [1], "float32"),
                    ("sr", VT.SELECTED_ROWS, True, False, [10, 2], "float32"))
    for name, data in {"w": F32_2X3, "seq": F32_LOD, "lr": F32_0D, "sr": SR_82}.items():
        (tmp_path / name).write_bytes(data)
    fluid.io.load_persistables(EXE, tmp_path, prog)
    assert _value("w").tolist() == [[1, 2, 3], [4, 5, 6]]
    assert fluid.global_scope().find_var("seq").get_tensor().lod() == [[0, 2, 5]]
    assert _value("lr").shape == () and _value("lr") == 2.0
    sr = fluid.global_scope().find_var("sr").get_selected_rows()
    assert (sr.rows(), sr.height()) == ([1, 7, 3], 10)
    assert np.array(sr.get_tensor()).tolist() == [[0, 1], [2, 3], [4, 5]]
    prog2 = _program(*[(n, VT.LOD_TENSOR, True, False, [1], "float32") for n in ("lr", "seq", "w")])
    with fluid.scope_guard(fluid.Scope()):
        fluid.io.load_vars(EXE, None, prog2, predicate=fluid.io.is_persistable,
                           filename=F32_0D + F32_LOD + F32_2X3)
        assert _value("w").shape == (2, 3) and _value("seq").shape == (5, 1)


def test_combined_order_is_code_point_order():  # FMT-COMB-001 (its example order)
    names = ["é", "a_b", "b", "a/b", "10", "9", "B", "Z9", "_x", "a b", "a-b", "a.b"]
    prog = _program(*[(n, VT.LOD_TENSOR, True, False, [1], "int64") for n in names])
    for i, n in enumerate(names):
        _set(n, np.array([i], np.int64))
    stream = fluid.io.save_persistables(EXE, None, prog)
    order = [names[int(r.array[0])] for r in decode_combined(stream)]
    assert order == ["10", "9", "B", "Z9", "_x", "a b", "a-b", "a.b", "a/b", "a_b", "b", "é"]


# --------------------------------------------------------------------------------------------
# Selection


def test_wrappers_select_parameters_and_persistables(tmp_path):  # SEL-CAND-001/003, SEL-SAVE-003
    prog = _program(
        ("p", VT.LOD_TENSOR, True, True, [1], "float32"),
        ("lr", VT.LOD_TENSOR, True, False, [1], "float32"),
        ("tmp", VT.LOD_TENSOR, False, False, [1], "float32"),
        ("raw", VT.RAW, True, False, None, None),
        ("feed", VT.FEED_MINIBATCH, True, False, None, None),
        ("fetch", VT.FETCH_LIST, True, False, None, None),
        ("rdr", VT.READER, True, False, None, None),
    )
    sub = prog._create_block()
    sub.create_var(name="inner", shape=[1], dtype="float32", persistable=True)
    for n in ("p", "lr", "tmp", "inner"):
        _set(n, np.ones(1, np.float32))
    fluid.io.save_params(EXE, tmp_path / "params", prog)
    fluid.io.save_persistables(EXE, tmp_path / "persist", prog)
    assert _files_under(tmp_path / "params") == ["p"]
    assert _files_under(tmp_path / "persist") == ["inner", "lr", "p"]
    assert [v.name for v in prog.list_vars() if fluid.io.is_persistable(v)] == [
        "p", "lr", "raw", "inner"]


def test_explicit_vars_beat_predicate(tmp_path):  # SEL-CAND-002
    prog = _program(("a", VT.LOD_TENSOR, True, True, [1], "float32"),
                    ("b", VT.LOD_TENSOR, False, False, [1], "float32"))
    other = _program(("c", VT.LOD_TENSOR, False, False, [1], "float32"))
    for n in "abc":
        _set(n, np.ones(1, np.float32))
    fluid.io.save_vars(EXE, tmp_path, prog, vars=(prog.global_block().var("b"),
                                                  other.global_block().var("c")),
                       predicate=fluid.io.is_parameter)
    assert _files_under(tmp_path) == ["b", "c"]
    with pytest.raises(InvalidArgumentError):
        fluid.io.save_vars(EXE, tmp_path, prog, vars=["a"])
    with pytest.raises(InvalidArgumentError):
        fluid.io.save_vars(EXE, tmp_path, "not a program")
    with pytest.raises(InvalidArgumentError):  # checked even when vars is given
        fluid.io.save_vars(EXE, tmp_path, "not a program", vars=[prog.global_block().var("a")])
    with pytest.raises(InvalidArgumentError):
        fluid.io.load_vars(EXE, tmp_path, 42)


def test_predicate_none_selects_everything_and_fails_on_feed(tmp_path):  # SEL-CAND-002, SEL-SAVE-007
    prog = _program(("x", VT.LOD_TENSOR, False, False, [1], "float32"),
                    ("feed", VT.FEED_MINIBATCH, True, False, None, None))
    _set("x", np.ones(1, np.float32))
    with pytest.raises(UnsupportedVarTypeError) as info:
        fluid.io.save_vars(EXE, tmp_path / "d", prog)
    assert info.value.var == "feed" and not (tmp_path / "d").exists()
    plain = _program(("x", VT.LOD_TENSOR, False, False, [1], "float32"),
                     ("r", VT.RAW, False, False, None, None))
    fluid.io.save_vars(EXE, tmp_path / "e", plain)  # RAW skipped, non-persistable x saved
    assert _files_under(tmp_path / "e") == ["x"]


@pytest.mark.parametrize("kind", [VT.STEP_SCOPES, VT.LOD_TENSOR_ARRAY, VT.LOD_RANK_TABLE])
def test_other_persistable_kinds_are_unsupported(tmp_path, kind):  # SEL-SAVE-007
    prog = fluid.Program()
    prog.global_block().create_var(name="k", type=kind, persistable=True)
    with pytest.raises(UnsupportedVarTypeError):
        fluid.io.save_persistables(EXE, tmp_path, prog)
    with pytest.raises(UnsupportedVarTypeError):
        fluid.io.load_persistables(EXE, tmp_path, prog)
    assert _files_under(tmp_path) == []


@pytest.mark.parametrize("dirname", ["dir", None])
@pytest.mark.parametrize("filename", [None, "combined"])
def test_empty_selection_warns_and_writes_nothing(tmp_path, dirname, filename):  # SEL-SAVE-002
    if dirname is None and filename is not None:
        return
    prog = _program(("t", VT.LOD_TENSOR, False, False, [1], "float32"))
    target = None if dirname is None else tmp_path / dirname
    with pytest.warns(UserWarning) as record:
        result = fluid.io.save_persistables(EXE, target, prog, filename=filename)
    assert [str(w.message) for w in record] == [EMPTY_SELECTION_WARNING]
    assert record[0].category is UserWarning
    assert result is None and list(tmp_path.iterdir()) == []
    with pytest.warns(UserWarning, match="no variable in your model"):
        assert fluid.io.save_vars(EXE, target, prog, vars=[], filename=filename) is None


def test_raw_only_selection_writes_nothing_without_warning(tmp_path):  # SEL-SAVE-003
    prog = _program(("r", VT.RAW, True, False, None, None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fluid.io.save_persistables(EXE, tmp_path / "d", prog) is None
        assert fluid.io.save_persistables(EXE, None, prog) is None
    assert not (tmp_path / "d").exists()


def test_duplicates_collapse(tmp_path):  # SEL-SAVE-004
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"))
    a = prog.global_block().var("a")
    _set("a", np.ones(1, np.float32))
    assert fluid.io.save_vars(EXE, None, vars=[a, a]) == fluid.io.save_vars(EXE, None, vars=[a])
    fluid.io.save_vars(EXE, tmp_path, vars=[a, a])
    assert _files_under(tmp_path) == ["a"]


# --------------------------------------------------------------------------------------------
# Save-side errors


def _good_save(tmp_path):
    prog = _program(("a", VT.LOD_TENSOR, True, False, [2], "float32"),
                    ("u", VT.LOD_TENSOR, True, False, [2], "float32"))
    _set("a", np.array([1, 2], np.float32))
    _set("u", np.array([3, 4], np.float32))
    fluid.io.save_persistables(EXE, tmp_path, prog)
    fluid.io.save_persistables(EXE, tmp_path, prog, filename="all")
    return prog, {n: (tmp_path / n).read_bytes() for n in ("a", "u", "all")}


@pytest.mark.parametrize("filename", [None, "all"])
def test_uninitialized_is_an_error_and_keeps_the_previous_save(tmp_path, filename):  # SEL-SAVE-006/008
    prog, before = _good_save(tmp_path)
    with fluid.scope_guard(fluid.Scope()):
        _set("a", np.array([9, 9], np.float32))  # u has no value in this scope
        with pytest.raises(UninitializedVarError) as info:
            fluid.io.save_persistables(EXE, tmp_path, prog, filename=filename)
    assert info.value.var == "u"
    assert {n: (tmp_path / n).read_bytes() for n in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "all", "u"]


@pytest.mark.parametrize(
    "name", ["../escape", "/abs_name", "", ".", "a/../b", "a//b", "trail/", "nul\x00", "x" * 256,
             "ok/" + "y" * 256])
def test_unsafe_names_are_refused_before_writing(tmp_path, name):  # SEL-PATH-001
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"),
                    (name, VT.LOD_TENSOR, True, False, [1], "float32"))
    _set("a", np.ones(1, np.float32))
    _set(name, np.ones(1, np.float32))
    with pytest.raises(UnsafeNameError):
        fluid.io.save_persistables(EXE, tmp_path / "d", prog)
    assert not (tmp_path / "d").exists() and not (tmp_path / "escape").exists()
    with pytest.raises(UnsafeNameError):
        fluid.io.load_persistables(EXE, tmp_path / "d", prog)
    # ... but a combined stream or memory does not use names as paths.
    assert len(decode_combined(fluid.io.save_persistables(EXE, None, prog))) == 2


@pytest.mark.parametrize("filename", ["", "../x", "/abs", "a/./b"])
def test_unsafe_combined_filenames_are_refused(tmp_path, filename):  # SEL-PATH-001
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"))
    _set("a", np.ones(1, np.float32))
    with pytest.raises(UnsafeNameError):
        fluid.io.save_persistables(EXE, tmp_path / "d", prog, filename=filename)
    assert not (tmp_path / "d").exists()


def test_file_directory_collisions_are_refused(tmp_path):  # SEL-PATH-002
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"),
                    ("a/b", VT.LOD_TENSOR, True, False, [1], "float32"))
    _set("a", np.ones(1, np.float32))
    _set("a/b", np.ones(1, np.float32))
    with pytest.raises(UnsafeNameError):
        fluid.io.save_persistables(EXE, tmp_path, prog)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "c").mkdir()
    only_c = _program(("c", VT.LOD_TENSOR, True, False, [1], "float32"))
    _set("c", np.ones(1, np.float32))
    with pytest.raises(UnsafeNameError):
        fluid.io.save_persistables(EXE, tmp_path, only_c)
    (tmp_path / "f").write_bytes(b"x")
    below_file = _program(("f/g", VT.LOD_TENSOR, True, False, [1], "float32"))
    _set("f/g", np.ones(1, np.float32))
    with pytest.raises(UnsafeNameError):
        fluid.io.save_persistables(EXE, tmp_path, below_file)


def test_selected_rows_only_in_separate_files(tmp_path):  # SEL-SAVE-007, FMT-SR-002
    prog = _program(("sr", VT.SELECTED_ROWS, True, False, [4, 1], "float32"))
    sr = fluid.global_scope().var("sr").get_selected_rows()
    sr.get_tensor().set(np.ones((1, 1), np.float32), fluid.CPUPlace())
    with pytest.raises(UnsupportedVarTypeError):
        fluid.io.save_persistables(EXE, None, prog)
    with pytest.raises(UnsupportedVarTypeError):
        fluid.io.save_persistables(EXE, tmp_path, prog, filename="all")
    with pytest.raises(UnsupportedVarTypeError):
        fluid.io.load_persistables(EXE, None, prog, filename=b"")
    # a SelectedRows *value* in a var declared LOD_TENSOR is refused in combined mode too
    dense = _program(("sr", VT.LOD_TENSOR, True, False, [4, 1], "float32"))
    with pytest.raises(UnsupportedVarTypeError):
        fluid.io.save_persistables(EXE, None, dense)
    assert list(tmp_path.iterdir()) == []


def test_argument_errors(tmp_path):  # API-ARG-001, SEL-SAVE-001, SEL-LOAD-006
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"))
    _set("a", np.ones(1, np.float32))
    with pytest.raises(InvalidArgumentError):
        fluid.io.save_persistables(EXE, None, prog, filename="x")
    with pytest.raises(InvalidArgumentError):
        fluid.io.load_persistables(EXE, None, prog)
    with pytest.raises(InvalidArgumentError):
        fluid.io.load_persistables(EXE, None, prog, filename="not-bytes")
    with pytest.raises(UnsafeNameError):
        fluid.io.save_persistables(EXE, 42, prog)


# --------------------------------------------------------------------------------------------
# Load-side errors


def test_missing_file_is_missing_file_and_scope_untouched(tmp_path):  # SEL-LOAD-001/003
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"),
                    ("b", VT.LOD_TENSOR, True, False, [1], "float32"))
    (tmp_path / "a").write_bytes(F32_0D)
    before = _set("a", np.zeros(1, np.float32))
    with pytest.raises(MissingFileError) as info:
        fluid.io.load_persistables(EXE, tmp_path, prog)
    assert info.value.var == "b" and _value("a").tolist() == [0.0]
    with pytest.raises(MissingFileError):
        fluid.io.load_persistables(EXE, tmp_path, prog, filename="nope")
    (tmp_path / "b").write_bytes(F32_0D)
    fluid.io.load_persistables(EXE, tmp_path, prog, filename="")  # '' = separate (SEL-LOAD-006)
    assert np.array(before).shape == ()  # the holder's tensor object was updated in place


def test_parameter_shapes_are_checked_before_the_scope_changes(tmp_path):  # SEL-LOAD-002/003
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"),
                    ("w", VT.LOD_TENSOR, True, True, [3, 2], "float32"))
    (tmp_path / "a").write_bytes(F32_0D)
    (tmp_path / "w").write_bytes(F32_2X3)
    _set("a", np.zeros(1, np.float32))
    with pytest.raises(ShapeMismatchError) as info:
        fluid.io.load_persistables(EXE, tmp_path, prog)
    assert (info.value.var, info.value.expected, info.value.found) == ("w", (3, 2), (2, 3))
    assert _value("a").tolist() == [0.0] and fluid.global_scope().find_var("w") is None
    ok = _program(("a", VT.LOD_TENSOR, True, False, [7, 7], "float32"),  # non-param: unchecked
                  ("w", VT.LOD_TENSOR, True, True, [-1, 3], "float32"))  # -1 matches 2
    fluid.io.load_persistables(EXE, tmp_path, ok)
    assert _value("w").shape == (2, 3) and _value("a").shape == ()
    rank = _program(("w", VT.LOD_TENSOR, True, True, [6], "float32"))
    with pytest.raises(ShapeMismatchError):
        fluid.io.load_params(EXE, tmp_path, rank)


def test_separate_files_take_the_file_dtype(tmp_path):  # SEL-LOAD-002
    prog = _program(("w", VT.LOD_TENSOR, True, False, [2, 3], "float64"))
    (tmp_path / "w").write_bytes(F32_2X3)
    fluid.io.load_persistables(EXE, tmp_path, prog)
    assert _value("w").dtype == np.float32


def test_record_count_mismatch_names_both_counts():  # SEL-LOAD-004
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"),
                    ("b", VT.LOD_TENSOR, True, False, [1], "float32"))
    _set("a", np.ones(1, np.float32))
    with pytest.raises(RecordCountMismatchError, match="1 records for 2 selected"):
        fluid.io.load_persistables(EXE, None, prog, filename=F32_0D)
    with pytest.raises(RecordCountMismatchError, match="3 records for 2 selected"):
        fluid.io.load_persistables(EXE, None, prog, filename=F32_0D * 3)
    with pytest.raises(RecordCountMismatchError, match="0 records for 2"):
        fluid.io.load_persistables(EXE, None, prog, filename=b"")
    assert _value("a").tolist() == [1.0]
    empty = _program()
    fluid.io.load_persistables(EXE, None, empty, filename=b"")  # 0 records for 0 vars
    with pytest.raises(RecordCountMismatchError):
        fluid.io.load_persistables(EXE, None, empty, filename=F32_0D)


def test_dtype_mismatch_names_the_first_mismatch():  # SEL-LOAD-005
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"),
                    ("b", VT.LOD_TENSOR, True, False, [3], "bool"))
    with pytest.raises(DtypeMismatchError) as info:
        fluid.io.load_persistables(EXE, None, prog, filename=BOOL_3 + F32_0D)  # swapped order
    err = info.value
    assert (err.var, err.expected, err.found, err.offset) == ("a", "FP32", "BOOL", 0)
    assert "record 0 of 2 (for 2 variables)" in str(err)
    assert fluid.global_scope().find_var("a") is None
    fluid.io.load_persistables(EXE, None, prog, filename=F32_0D + BOOL_3)
    assert _value("b").tolist() == [True, False, True]


@pytest.mark.parametrize("cut", [1, 4, 12, 20, 24, 26, 30, 49])
def test_truncated_data_is_truncated(tmp_path, cut):  # FMT-SAFE-001, SEL-LOAD-004
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"),
                    ("w", VT.LOD_TENSOR, True, False, [2, 3], "float32"))
    with pytest.raises(TruncatedError):
        fluid.io.load_persistables(EXE, None, prog, filename=F32_0D + F32_2X3[:cut])
    (tmp_path / "a").write_bytes(F32_0D)
    (tmp_path / "w").write_bytes(F32_2X3[:cut])
    with pytest.raises(TruncatedError) as info:
        fluid.io.load_persistables(EXE, tmp_path, prog)
    assert info.value.path == str(tmp_path / "w")
    assert fluid.global_scope().find_var("a") is None


def test_trailing_bytes_in_a_separate_file(tmp_path):  # SEL-LOAD-007, FMT-COMB-003
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"),
                    ("sr", VT.SELECTED_ROWS, True, False, [10, 2], "float32"))
    (tmp_path / "a").write_bytes(F32_0D + b"\x00")
    (tmp_path / "sr").write_bytes(SR_82)
    with pytest.raises(TrailingBytesError):
        fluid.io.load_persistables(EXE, tmp_path, prog)
    (tmp_path / "a").write_bytes(F32_0D)
    (tmp_path / "sr").write_bytes(SR_82 + b"\x01")
    with pytest.raises(TrailingBytesError):
        fluid.io.load_persistables(EXE, tmp_path, prog)


# --------------------------------------------------------------------------------------------
# Hypothesis: random programs round-trip, write exactly the selection, in sorted order

_SAFE_CHARS = st.sampled_from(list("abcXYZ019_.- é中"))
_COMPONENT = st.text(_SAFE_CHARS, min_size=1, max_size=6).filter(lambda s: s not in (".", ".."))
_NAME = st.lists(_COMPONENT, min_size=1, max_size=3).map("/".join)
_DTYPES = [row.dtype for row in spec.ELEMENT_TYPES.values()]


@st.composite
def _values(draw):
    dtype = draw(st.sampled_from(_DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=3)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    count = int(np.prod(shape))
    if dtype == np.bool_:
        array = rng.integers(0, 2, count).astype(bool).reshape(shape)
    else:
        array = np.frombuffer(rng.bytes(count * dtype.itemsize), dtype=dtype).reshape(shape)
    lod = []
    if shape and draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(0, shape[0]), max_size=3)))
        lod = [[0, *cuts, shape[0]]]
    return array, lod


@st.composite
def _random_programs(draw):
    """A program of 1-3 blocks with every var kind, and a scope holding the values."""
    names = draw(st.lists(_NAME, min_size=1, max_size=8, unique=True))
    assume(not any(a != b and b.startswith(a + "/") for a in names for b in names))
    prog = fluid.Program()
    for _ in range(draw(st.integers(0, 2))):
        prog._create_block(parent_idx=draw(st.integers(0, len(prog.blocks) - 1)))
    scope = fluid.Scope()
    kinds = ["param", "persist", "temp", "sr", "raw", "feed", "fetch", "reader"]
    for name in names:
        block = prog.block(draw(st.integers(0, len(prog.blocks) - 1)))
        kind = draw(st.sampled_from(kinds))
        array, lod = draw(_values())
        declared = [-1 if d and draw(st.booleans()) else d for d in array.shape]
        if kind == "param":
            block.create_parameter(name=name, shape=declared, dtype=array.dtype)
        elif kind in ("persist", "temp"):
            block.create_var(name=name, shape=declared, dtype=array.dtype,
                             persistable=kind == "persist", lod_level=len(lod))
        elif kind == "sr":
            block.create_var(name=name, shape=[10, *array.shape[1:]], dtype=array.dtype,
                             type=VT.SELECTED_ROWS, persistable=True)
        else:
            vtype = {"raw": VT.RAW, "feed": VT.FEED_MINIBATCH, "fetch": VT.FETCH_LIST,
                     "reader": VT.READER}[kind]
            block.create_var(name=name, type=vtype, persistable=True)
            continue
        if kind == "sr":
            sr = scope.var(name).get_selected_rows()
            sr.get_tensor().set(array, fluid.CPUPlace())
            sr.set_rows(draw(st.lists(st.integers(0, 9), min_size=len(array.shape) and
                                      array.shape[0], max_size=len(array.shape) and
                                      array.shape[0])) if array.shape else [])
            sr.set_height(10)
        else:
            tensor = scope.var(name).get_tensor()
            tensor.set(array, fluid.CPUPlace())
            tensor.set_lod(lod)
    return prog, scope


def _same_value(a_holder, b_holder):
    a, b = a_holder._holder, b_holder._holder
    assert type(a) is type(b)
    if isinstance(a, fluid.core.SelectedRows):
        assert (a.rows(), a.height()) == (b.rows(), b.height())
        a, b = a.get_tensor(), b.get_tensor()
    x, y = np.array(a), np.array(b)
    # numpy uint16 is written as BF16 and reads back as bfloat16 (FMT-DTYPE-003)
    written = spec.element_type_for_dtype(x.dtype).dtype
    assert (written, x.shape, x.tobytes()) == (y.dtype, y.shape, y.tobytes())
    assert a.lod() == b.lod()


def _expected_selection(prog):
    return {v.name for v in prog.list_vars() if fluid.io.is_persistable(v) and v.type != VT.RAW}


@given(_random_programs())
def test_separate_round_trip_and_file_set(case):  # SEL-FILE-001, SEL-CAND-*, SEL-LOAD-007
    prog, scope = case
    with tempfile.TemporaryDirectory() as root, fluid.scope_guard(scope):
        expected = _expected_selection(prog)
        if not any(fluid.io.is_persistable(v) for v in prog.list_vars()):
            with pytest.warns(UserWarning):
                fluid.io.save_persistables(EXE, root, prog)
        else:
            fluid.io.save_persistables(EXE, os.path.join(root, "m"), prog)
        written = set(_files_under(os.path.join(root, "m"))) if expected else set()
        assert written == expected
        if not expected:
            return
        loaded = fluid.Scope()
        with fluid.scope_guard(loaded):
            fluid.io.load_persistables(EXE, os.path.join(root, "m"), prog)
        assert set(loaded.local_var_names()) == expected
        for name in expected:
            _same_value(scope.find_var(name), loaded.find_var(name))


@given(_random_programs())
def test_combined_and_memory_round_trip_in_sorted_order(case):  # SEL-SAVE-004, SEL-FILE-002/003
    prog, scope = case
    dense = [v for v in prog.list_vars() if fluid.io.is_persistable(v) and v.type != VT.RAW]
    assume(dense and all(v.type == VT.LOD_TENSOR for v in dense))
    with tempfile.TemporaryDirectory() as root, fluid.scope_guard(scope):
        stream = fluid.io.save_persistables(EXE, None, prog)
        fluid.io.save_persistables(EXE, root, prog, filename="params")
        assert Path(root, "params").read_bytes() == stream
        names = sorted(v.name for v in dense)
        records = decode_combined(stream)
        assert len(records) == len(names)
        for name, record in zip(names, records, strict=True):
            original = np.array(scope.find_var(name).get_tensor())
            written = spec.element_type_for_dtype(original.dtype).dtype
            assert (record.array.dtype, record.array.tobytes()) == (written, original.tobytes())
        for source in (dict(dirname=None, filename=stream), dict(dirname=root, filename="params")):
            loaded = fluid.Scope()
            with fluid.scope_guard(loaded):
                fluid.io.load_persistables(EXE, source["dirname"], prog, filename=source["filename"])
            for name in names:
                _same_value(scope.find_var(name), loaded.find_var(name))


def test_stray_bytes_after_the_records_are_trailing_bytes():  # FMT-COMB-002, SEL-LOAD-004
    prog = _program(("a", VT.LOD_TENSOR, True, False, [1], "float32"))
    for stray in (b"\x00\x01", b"\x00" * 30, F32_0D[:-1]):
        with pytest.raises(TrailingBytesError) as info:
            fluid.io.load_persistables(EXE, None, prog, filename=F32_0D + stray)
        assert info.value.offset == len(F32_0D)
    with pytest.raises(RecordCountMismatchError, match="3 records for 1"):
        fluid.io.load_persistables(EXE, None, prog, filename=F32_0D + F32_0D + F32_2X3)
    assert fluid.global_scope().find_var("a") is None


def _tree(root):
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@given(_random_programs(), st.data())
def test_errors_leave_files_and_scope_untouched(case, data):  # SEL-SAVE-006/008, SEL-LOAD-002/003
    prog, scope = case
    saved = sorted(_expected_selection(prog))
    assume(saved)
    with tempfile.TemporaryDirectory() as root, fluid.scope_guard(scope):
        fluid.io.save_persistables(EXE, root, prog)
        before = _tree(root)
        victim = data.draw(st.sampled_from(saved))
        holder = scope.find_var(victim)
        kept, holder._holder = holder._holder, None  # the victim loses its value
        with pytest.raises(UninitializedVarError) as info:
            fluid.io.save_persistables(EXE, root, prog)
        assert info.value.var == victim and _tree(root) == before
        holder._holder = kept
        params = [v for v in prog.list_vars() if fluid.io.is_parameter(v)
                  and v.name in saved and -1 not in v.shape]
        if not params:
            return
        param = data.draw(st.sampled_from(params))
        # a value of another rank in the Parameter's file
        (Path(root) / param.name).write_bytes(F32_0D if param.shape != () else F32_2X3)
        fresh = fluid.Scope()
        with fluid.scope_guard(fresh), pytest.raises(ShapeMismatchError) as info:
            fluid.io.load_persistables(EXE, root, prog)
        assert info.value.var == param.name and fresh.local_var_names() == []


def test_a_selected_rows_value_in_a_dense_var_round_trips(tmp_path):  # SEL-SAVE-005, SEL-LOAD-007
    prog = _program(("emb", VT.LOD_TENSOR, True, False, [10, 2], "float32"))
    sr = fluid.global_scope().var("emb").get_selected_rows()
    sr.set_rows([1, 7, 3])
    sr.set_height(10)
    sr.get_tensor().set(np.arange(6, dtype=np.float32).reshape(3, 2), fluid.CPUPlace())
    fluid.io.save_persistables(EXE, tmp_path, prog)
    assert (tmp_path / "emb").read_bytes() == SR_82  # the runtime kind is what is written
    with fluid.scope_guard(fluid.Scope()):
        fluid.global_scope().var("emb").get_selected_rows()  # a SelectedRows holder exists
        fluid.io.load_persistables(EXE, tmp_path, prog)
        loaded = fluid.global_scope().find_var("emb").get_selected_rows()
        assert (loaded.rows(), loaded.height()) == ([1, 7, 3], 10)
    with fluid.scope_guard(fluid.Scope()), pytest.raises(spec.errors.FluidSpecError):
        fluid.io.load_persistables(EXE, tmp_path, prog)  # no holder: read as dense, refused
