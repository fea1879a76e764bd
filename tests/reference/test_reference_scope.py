"""fluidspec.reference._scope: Scopes and LoDTensor / SelectedRows values (API-SCOPE-*, FMT-LOD-002)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from fluidspec import reference as fluid
from fluidspec.spec.errors import (
    InvalidArgumentError,
    InvalidLodError,
    UninitializedVarError,
    UnsupportedDtypeError,
)


def test_scope_var_creates_and_find_var_finds():  # API-SCOPE-001
    scope = fluid.Scope()
    assert scope.find_var("a") is None
    holder = scope.var("a")
    assert scope.var("a") is holder and scope.find_var("a") is holder
    child = scope.new_scope()
    assert child.find_var("a") is holder and child.find_local_var("a") is None


def test_scope_guard_replaces_the_global_scope():  # API-SCOPE-001
    outer = fluid.global_scope()
    mine = fluid.Scope()
    with fluid.scope_guard(mine):
        assert fluid.global_scope() is mine
    assert fluid.global_scope() is outer
    with pytest.raises(InvalidArgumentError):
        with fluid.scope_guard(object()):
            pass


def test_scope_guard_is_per_thread():
    """Each thread sees the scope it guarded; one that guards nothing sees the process's scope."""
    process_scope = fluid.global_scope()
    entered, release = threading.Barrier(2), threading.Event()
    seen: dict[str, object] = {}

    def guarded() -> None:
        mine = fluid.Scope()
        with fluid.scope_guard(mine):
            entered.wait()
            release.wait(5)
            seen["guarded"] = fluid.global_scope() is mine

    worker = threading.Thread(target=guarded)
    worker.start()
    entered.wait()  # the worker is inside its guard now
    seen["unguarded"] = fluid.global_scope() is process_scope
    release.set()
    worker.join()
    assert seen == {"guarded": True, "unguarded": True}


def test_tensor_set_copies_and_np_array_reads():  # API-SCOPE-002
    tensor = fluid.Scope().var("t").get_tensor()
    source = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor.set(source, fluid.CPUPlace())
    source[0, 0] = 99
    out = np.array(tensor)
    assert out.dtype == np.float32 and out.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert tensor.shape() == [2, 3]
    out[0, 0] = 7  # np.array gives a copy: the stored value is unchanged
    assert np.array(tensor)[0, 0] == 0
    zero_d = fluid.Scope().var("z").get_tensor()
    zero_d.set(np.float32(2.0), fluid.CPUPlace())
    assert np.array(zero_d).shape == () and zero_d.shape() == []


def test_tensor_refuses_dtypes_outside_the_table():  # API-SCOPE-002, FMT-DTYPE-006
    tensor = fluid.Scope().var("t").get_tensor()
    with pytest.raises(UnsupportedDtypeError):
        tensor.set(np.array(["a"]), fluid.CPUPlace())
    with pytest.raises(UnsupportedDtypeError):
        tensor.set(np.array([1.0], dtype=np.longdouble), fluid.CPUPlace())


def test_empty_tensor_is_uninitialized():  # API-SCOPE-002
    holder = fluid.Scope().var("t")
    assert not holder.is_initialized()
    with pytest.raises(UninitializedVarError):
        np.array(holder.get_tensor())


@pytest.mark.parametrize("lod", [[[0, 0, 5]], [[0, 5, 5]], [[0, 2], [0, 2, 5]], []])
def test_set_lod_accepts_what_paddle_accepts(lod):  # FMT-LOD-002
    tensor = fluid.Scope().var("t").get_tensor()
    tensor.set(np.zeros((5, 1), np.float32), fluid.CPUPlace())
    tensor.set_lod(lod)
    assert tensor.lod() == lod


@pytest.mark.parametrize(
    "lod", [[[0, 1]], [[0, 5, 3]], [[1, 5]], [[5]], [[]], [[0, 1, 2], [0, 2, 4]]]
)
def test_set_lod_rejects_what_paddle_rejects(lod):  # FMT-LOD-002
    tensor = fluid.Scope().var("t").get_tensor()
    tensor.set(np.zeros((5, 1), np.float32), fluid.CPUPlace())
    with pytest.raises(InvalidLodError):
        tensor.set_lod(lod)
    assert tensor.lod() == []


def test_recursive_sequence_lengths_are_offsets_differences():  # API-SCOPE-002
    tensor = fluid.Scope().var("t").get_tensor()
    tensor.set(np.zeros((5, 2), np.float32), fluid.CPUPlace())
    tensor.set_recursive_sequence_lengths([[2, 1], [1, 2, 2]])
    assert tensor.lod() == [[0, 2, 3], [0, 1, 3, 5]]
    assert tensor.recursive_sequence_lengths() == [[2, 1], [1, 2, 2]]


def test_selected_rows_holds_rows_height_and_value():  # API-SCOPE-002
    holder = fluid.Scope().var("sr")
    sr = holder.get_selected_rows()
    sr.set_rows([1, 7, 3])
    sr.set_height(10)
    sr.get_tensor().set(np.arange(6, dtype=np.float32).reshape(3, 2), fluid.CPUPlace())
    assert (sr.rows(), sr.height()) == ([1, 7, 3], 10)
    assert np.array(sr.get_tensor()).shape == (3, 2) and holder.is_initialized()
    with pytest.raises(InvalidArgumentError):  # a holder is one kind or the other
        holder.get_tensor()
