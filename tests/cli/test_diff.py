"""``fluidspec diff`` (fluidspec/_diff.py, fluidspec/_cmd_diff.py).

Saves are written here with ``reference._codec`` directly; expected differences are computed by
hand from the arrays the test chose.  Clauses: FMT-COMB-001 (records are in sorted-name order,
which is how ``--names`` are assigned), FMT-SNIFF-001 (SelectedRows files), PROG-SNIFF-001
(program files in a directory are not variables), ERR-001 (errors exit 2 with a taxonomy id).
"""

from __future__ import annotations

import json

import ml_dtypes
import numpy as np
import pytest

from fluidspec._cli import main as cli
from fluidspec._diff import diff_saves, names_from, read_save
from fluidspec.reference._codec import encode_combined, encode_lod_tensor, encode_selected_rows
from fluidspec.spec.errors import MissingFileError, RecordCountMismatchError, TruncatedError
from fluidspec.spec.framework_pb2 import ProgramDesc, VarType


def _write_dir(root, values):
    root.mkdir(parents=True, exist_ok=True)
    for name, (array, lod) in values.items():
        (root / name).write_bytes(encode_lod_tensor(np.asarray(array), lod))
    return root


def _write_combined(path, values):
    path.write_bytes(encode_combined((values[n][0], values[n][1]) for n in sorted(values)))
    return path


BASE = {
    "fc.w_0": (np.arange(6, dtype=np.float32).reshape(2, 3), []),
    "fc.b_0": (np.zeros(3, np.float32), []),
    "emb": (np.arange(10, dtype=np.int64).reshape(5, 2), [[0, 2, 5]]),
}


def test_identical_directories_are_equal_and_exit_0(tmp_path, capsys):
    a, b = _write_dir(tmp_path / "a", BASE), _write_dir(tmp_path / "b", BASE)
    result = diff_saves(a, b)
    assert result.equal and result.same == ["emb", "fc.b_0", "fc.w_0"]
    assert cli(["diff", str(a), str(b)]) == 0
    assert "3 variable(s) identical; saves are equal" in capsys.readouterr().out


def test_added_removed_and_every_kind_of_change(tmp_path, capsys):
    a = _write_dir(tmp_path / "a", {**BASE, "old": (np.ones(2, np.float32), [])})
    w = BASE["fc.w_0"][0].copy()
    w[0, 1] += 0.5
    w[1, 2] -= 2.0
    b = _write_dir(tmp_path / "b", {
        "fc.w_0": (w, []),
        "fc.b_0": (np.zeros(4, np.float32), []),            # shape change
        "emb": (BASE["emb"][0], [[0, 3, 5]]),               # LoD change
        "new": (np.ones(2, np.float64), []),
    })
    result = diff_saves(a, b)
    assert not result.equal
    assert result.only_in_a == ["old"] and result.only_in_b == ["new"]
    changes = {c.name: c for c in result.changed}
    assert changes["fc.w_0"].changes == []
    assert (changes["fc.w_0"].values_differ, changes["fc.w_0"].max_abs_diff) == (2, 2.0)
    assert changes["fc.w_0"].numel == 6
    assert changes["fc.b_0"].changes == ["shape [3] -> [4]"]
    assert changes["emb"].changes == ["lod [[0, 2, 5]] -> [[0, 3, 5]]"]
    assert changes["emb"].values_differ == 0
    assert cli(["diff", "--json", str(a), str(b)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["equal"] is False and report["added"] == ["new"] and report["removed"] == ["old"]


def test_dtype_change_is_reported_without_value_comparison(tmp_path):
    a = _write_dir(tmp_path / "a", {"x": (np.arange(3, dtype=np.float32), [])})
    b = _write_dir(tmp_path / "b", {"x": (np.arange(3, dtype=np.float64), [])})
    (change,) = diff_saves(a, b).changed
    assert change.changes == ["dtype FP32 -> FP64"] and change.values_differ == 0


def test_combined_files_compare_record_by_record_without_names(tmp_path):
    a = _write_combined(tmp_path / "a.pdiparams", BASE)
    changed = dict(BASE, **{"fc.b_0": (np.array([0, 0, 3], np.float32), [])})
    b = _write_combined(tmp_path / "b.pdiparams", changed)
    result = diff_saves(a, b)
    # Sorted order (FMT-COMB-001): emb, fc.b_0, fc.w_0 -> #0, #1, #2.
    assert result.same == ["#0", "#2"]
    assert [(c.name, c.values_differ, c.max_abs_diff) for c in result.changed] == [("#1", 1, 3.0)]


def test_names_from_a_list_are_sorted_like_the_saver(tmp_path):
    a = _write_combined(tmp_path / "a", BASE)
    b = _write_dir(tmp_path / "b", BASE)
    # Given in any order; the combined stream holds them sorted (FMT-COMB-001).
    result = diff_saves(a, b, names=["fc.w_0", "emb", "fc.b_0"])
    assert result.equal and result.same == ["emb", "fc.b_0", "fc.w_0"]
    # A name given twice is saved once (SEL-SAVE-004).
    assert diff_saves(a, b, names=["fc.w_0", "emb", "fc.b_0", "emb"]).equal
    assert names_from("b, a") == ["b", "a"]
    listing = tmp_path / "names.txt"
    listing.write_text("fc.w_0\n\nemb\n")
    assert names_from(str(listing)) == ["fc.w_0", "emb"]


def test_names_from_a_program_are_its_saved_persistables(tmp_path):
    program = ProgramDesc()
    block = program.blocks.add(idx=0, parent_idx=-1)
    for name, kind, persistable in [("x", VarType.LOD_TENSOR, False),
                                    ("fc.w_0", VarType.LOD_TENSOR, True),
                                    ("feed", VarType.FEED_MINIBATCH, True),
                                    ("fetch", VarType.FETCH_LIST, True),
                                    ("emb", VarType.LOD_TENSOR, True),
                                    ("fc.b_0", VarType.LOD_TENSOR, True)]:
        v = block.vars.add(name=name, persistable=persistable)
        v.type.type = kind
    model = tmp_path / "inference.pdmodel"
    model.write_bytes(program.SerializeToString())
    assert sorted(names_from(str(model))) == ["emb", "fc.b_0", "fc.w_0"]
    params = _write_combined(tmp_path / "inference.pdiparams", BASE)
    assert cli(["diff", "--names", str(model), str(params), str(_write_dir(tmp_path / "d", BASE))]) == 0


def test_wrong_number_of_names_is_an_error_exit_2(tmp_path, capsys):
    a = _write_combined(tmp_path / "a", BASE)
    with pytest.raises(RecordCountMismatchError):
        read_save(a, names=["only_one"])
    assert cli(["diff", "--names", "x,y", str(a), str(a)]) == 2
    assert "RECORD_COUNT_MISMATCH" in capsys.readouterr().err


def test_missing_and_truncated_inputs_exit_2(tmp_path, capsys):
    a = _write_dir(tmp_path / "a", BASE)
    with pytest.raises(MissingFileError):
        diff_saves(a, tmp_path / "nowhere")
    assert cli(["diff", str(a), str(tmp_path / "nowhere")]) == 2
    assert "MISSING_FILE" in capsys.readouterr().err
    bad = _write_dir(tmp_path / "bad", BASE)
    (bad / "fc.w_0").write_bytes((bad / "fc.w_0").read_bytes()[:-3])
    with pytest.raises(TruncatedError):
        diff_saves(a, bad)
    assert cli(["diff", str(a), str(bad)]) == 2
    assert "TRUNCATED" in capsys.readouterr().err


def test_nan_equals_nan_but_not_a_number_and_atol_applies(tmp_path):
    a = _write_dir(tmp_path / "a", {"x": (np.array([np.nan, 1.0, 2.0], np.float32), [])})
    b = _write_dir(tmp_path / "b", {"x": (np.array([np.nan, 1.0, 2.25], np.float32), [])})
    (change,) = diff_saves(a, b).changed
    assert (change.values_differ, change.max_abs_diff) == (1, 0.25)
    assert diff_saves(a, b, atol=0.25).equal
    c = _write_dir(tmp_path / "c", {"x": (np.array([1.0, 1.0, 2.0], np.float32), [])})
    (change,) = diff_saves(a, c).changed
    assert change.values_differ == 1 and np.isnan(change.max_abs_diff)
    assert change.to_json()["max_abs_diff"] == "nan"


def test_integer_differences_do_not_overflow(tmp_path):
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    a = _write_dir(tmp_path / "a", {"i": (np.array([lo, 0], np.int64), [])})
    b = _write_dir(tmp_path / "b", {"i": (np.array([hi, 0], np.int64), [])})
    (change,) = diff_saves(a, b).changed
    assert change.max_abs_diff == 2**64 - 1 and change.values_differ == 1


def test_bool_bfloat16_and_selected_rows(tmp_path):
    a = _write_dir(tmp_path / "a", {
        "mask": (np.array([True, False]), []),
        "h": (np.array([1.0, 2.0], ml_dtypes.bfloat16), []),
    })
    b = _write_dir(tmp_path / "b", {
        "mask": (np.array([True, True]), []),
        "h": (np.array([1.0, 2.5], ml_dtypes.bfloat16), []),
    })
    (a / "sr").write_bytes(encode_selected_rows(np.ones((2, 2), np.float32), [1, 7], 10))
    (b / "sr").write_bytes(encode_selected_rows(np.ones((2, 2), np.float32), [1, 8], 10))
    changes = {c.name: c for c in diff_saves(a, b).changed}
    assert (changes["mask"].values_differ, changes["mask"].max_abs_diff) == (1, 1)
    assert (changes["h"].values_differ, changes["h"].max_abs_diff) == (1, 0.5)
    assert changes["sr"].changes == ["rows [1, 7] -> [1, 8]"]


def test_program_files_in_a_directory_are_not_variables(tmp_path):
    a = _write_dir(tmp_path / "a", BASE)
    program = ProgramDesc()
    program.blocks.add(idx=0, parent_idx=-1)
    (a / "__model__").write_bytes(program.SerializeToString())
    b = _write_dir(tmp_path / "b", BASE)
    assert diff_saves(a, b).equal


def test_memory_dump_against_a_directory(tmp_path):
    """A memory save (the bytes of a combined stream) written to a file compares like one."""
    dump = tmp_path / "dump.bin"
    dump.write_bytes(encode_combined((BASE[n][0], BASE[n][1]) for n in sorted(BASE)))
    d = _write_dir(tmp_path / "d", BASE)
    assert diff_saves(dump, d, names=sorted(BASE)).equal


def test_paddle_written_combined_and_separate_inference_saves_are_equal():
    """Paddle 2.6.2 vectors: the same model saved combined (names from its .pdmodel, sorted as
    FMT-COMB-001 says) and as separate files holds the same six variables."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "conformance/vectors/paddle-2.6.2"
    if not (root / "inference-combined").is_dir():
        pytest.skip("no Paddle-written inference vectors")
    names = names_from(str(root / "inference-combined/model.pdmodel"))
    result = diff_saves(root / "inference-combined/model.pdiparams", root / "inference-dir", names)
    assert result.equal and len(result.same) == 6 and "fc1.w_0" in result.same


def test_unnamed_records_against_named_files_suggest_names(tmp_path, capsys):
    a = _write_combined(tmp_path / "a", BASE)
    b = _write_dir(tmp_path / "b", BASE)
    assert cli(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "removed (only in A): #0, #1, #2" in out and "hint:" in out and "--names" in out
