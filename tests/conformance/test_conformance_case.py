"""fluidspec.conformance._case: the protocol's JSON forms of values, programs, calls and outcomes
(PROTO-VALUE-001..003, PROTO-PROG-001, PROTO-RUN-003)."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given

from fluidspec.conformance import strategies as fs
from fluidspec.conformance._case import (
    Call,
    Outcome,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    value_from_json,
    value_to_json,
    values_equal,
)


@given(fs.tensor_values())
def test_tensor_value_json_round_trip(value):  # PROTO-VALUE-001
    back = value_from_json(json.loads(json.dumps(value_to_json(value))))
    assert values_equal(value, back), (value, back)


@given(fs.selected_rows_values())
def test_selected_rows_json_round_trip(value):  # PROTO-VALUE-002
    js = value_to_json(value)
    assert js["kind"] == "SELECTED_ROWS" and "lod" not in js
    assert values_equal(value, value_from_json(js))


def test_value_json_is_little_endian_base64():  # PROTO-VALUE-001
    js = value_to_json(TensorValue(np.array([1.0, 2.0], dtype=">f4"), [[0, 2]]))
    assert js == {"dtype": "float32", "shape": [2], "kind": "LOD_TENSOR", "lod": [[0, 2]],
                  "data": "AACAPwAAAEA="}


def test_large_values_spill_to_files(tmp_path):  # PROTO-VALUE-001: "file" instead of "data"
    value = TensorValue(np.arange(400_000, dtype=np.float32))
    js = value_to_json(value, spill_dir=str(tmp_path))
    assert "data" not in js and js["file"].startswith(str(tmp_path))
    assert values_equal(value, value_from_json(js))


def test_values_equal_is_bitwise():
    nan_a = TensorValue(np.array([np.nan], np.float32))
    assert values_equal(nan_a, TensorValue(np.array([np.nan], np.float32)))
    assert not values_equal(TensorValue(np.array([0.0])), TensorValue(np.array([-0.0])))
    assert not values_equal(TensorValue(np.zeros(2), [[0, 2]]), TensorValue(np.zeros(2)))
    assert not values_equal(SelectedRowsValue(np.zeros((1, 1)), [0], 3),
                            SelectedRowsValue(np.zeros((1, 1)), [0], 4))


@given(fs.programs())
def test_program_json_round_trip(program):  # PROTO-PROG-001
    assert ProgramSpec.from_json(json.loads(json.dumps(program.to_json()))) == program


def test_call_and_outcome_bytes_are_base64():  # PROTO-VALUE-003, PROTO-RUN-003
    call = Call("load_vars", {"dirname": None, "memory": b"\x00\x01", "vars": ("a",)})
    js = call.to_json()
    assert js["memory"] == "AAE=" and js["vars"] == ["a"]
    assert Call.from_json(json.loads(json.dumps(js))).get("memory") == b"\x00\x01"
    out = Outcome(True, {"memory": b"\xff"}, {"a": TensorValue(np.ones(1, np.int8))})
    back = Outcome.from_json(json.loads(json.dumps(out.to_json())))
    assert back.memory == b"\xff" and values_equal(back.scope["a"], out.scope["a"])
    err = Outcome.from_json({"ok": False, "error": {"error": "TRUNCATED", "message": "m"}})
    assert err.error_id == "TRUNCATED" and not err.ok
