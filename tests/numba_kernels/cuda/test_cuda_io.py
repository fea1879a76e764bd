"""fluidspec.numba_kernels.cuda._io: what the save/load APIs use when values live on the GPU, and the
APIs themselves (numba_kernels.io with Executor(CUDAPlace(0))) on device values.

FMT-COMB-001 (the combined stream, packed on the device, equals the reference's), FMT-REC-006
(record offsets split it into the separate-files records), FMT-REC-002 / FMT-REC-005 (load:
arrays and LoDs back, as device arrays), SEL-SAVE-005 / SEL-FILE-001..003 (the same bytes and
files as reference.io saving the same values from the host).
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import require_cuda, tensor_lists
from hypothesis import given

require_cuda()

from numba import cuda  # noqa: E402

from fluidspec import reference as fluid  # noqa: E402
from fluidspec.numba_kernels import cuda as gpu  # noqa: E402
from fluidspec.numba_kernels import io as nio  # noqa: E402
from fluidspec.reference import CPUPlace, CUDAPlace  # noqa: E402
from fluidspec.reference import codec as oracle  # noqa: E402
from fluidspec.reference import io as rio  # noqa: E402

pytestmark = pytest.mark.cuda


@given(case=tensor_lists())
def test_pack_to_host_is_the_combined_stream_and_splits_into_records(case):
    arrays, lods = case
    host, offsets = gpu.pack_to_host([cuda.to_device(a) for a in arrays], lods)
    assert host.tobytes() == oracle.encode_combined(list(zip(arrays, lods, strict=True)))
    assert len(offsets) == len(arrays) + 1
    for i, (a, lod) in enumerate(zip(arrays, lods, strict=True)):
        assert host[offsets[i]:offsets[i + 1]].tobytes() == oracle.encode_lod_tensor(a, lod)


def test_unpack_to_device_round_trip():
    arrays = [np.arange(6, dtype=np.int32).reshape(3, 2), np.float64(4.0)]
    lods = [[[0, 1, 3]], None]
    blob = oracle.encode_combined(list(zip(arrays, lods, strict=True)))
    got = gpu.unpack_to_device(blob, count=2, names=["a", "b"])
    for (dev, lod), a, want in zip(got, arrays, [[[0, 1, 3]], []], strict=True):
        assert dev.copy_to_host().tobytes() == np.asarray(a).tobytes()
        assert lod == want


def test_where_values_live():
    assert gpu.any_on_device([np.zeros(2), cuda.to_device(np.zeros(2))])
    assert not gpu.any_on_device([np.zeros(2)])
    assert gpu.is_cuda_place(CUDAPlace(0)) and not gpu.is_cuda_place(CPUPlace())


# --------------------------------------------------------------------------------------------
# The eight APIs with values on the device: numba_kernels.io + Executor(CUDAPlace(0))

VT = fluid.core.VarDesc.VarType
VALUES = {
    "w": (np.arange(1, 7, dtype=np.float32).reshape(2, 3), None),
    "seq": (np.arange(5, dtype=np.float32).reshape(5, 1), [[0, 2, 5]]),
    "lr": (np.float32(2.0), None),
    "mask": (np.array([True, False, True]), None),
    "emb": (np.arange(24, dtype=np.int64).reshape(4, 6), None),
}


def _program():
    prog = fluid.Program()
    g = prog.global_block()
    g.create_parameter(name="w", shape=[2, 3], dtype="float32")
    g.create_parameter(name="emb", shape=[4, 6], dtype="int64")
    g.create_var(name="seq", shape=[-1, 1], dtype="float32", persistable=True)
    g.create_var(name="lr", shape=[1], dtype="float32", persistable=True)
    g.create_var(name="mask", shape=[3], dtype="bool", persistable=True)
    x = g.create_var(name="x", shape=[-1, 3], dtype="float32")
    y = g.create_var(name="y", shape=[-1, 2], dtype="float32")
    g.append_op(type="mul", inputs={"X": [x], "Y": [g.var("w")]}, outputs={"Out": [y]})
    return prog


def _host_scope():
    scope = fluid.Scope()
    for name, (array, lod) in VALUES.items():
        tensor = scope.var(name).get_tensor()
        tensor.set(array, fluid.CPUPlace())
        if lod:
            tensor.set_lod(lod)
    return scope


def _device_scope(tmp_path):
    """Values loaded by numba_kernels.io through Executor(CUDAPlace(0)): they live on the device."""
    src = tmp_path / "src"
    with fluid.scope_guard(_host_scope()):
        rio.save_persistables(fluid.Executor(fluid.CPUPlace()), str(src), _program())
    scope = fluid.Scope()
    with fluid.scope_guard(scope):
        nio.load_persistables(fluid.Executor(fluid.CUDAPlace(0)), str(src), _program())
    return scope


def _files(root):
    return {p.name: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_cuda_place_load_puts_values_on_the_device(tmp_path):
    """SEL-LOAD-*: every value and LoD arrives, as device arrays, byte for byte."""
    scope = _device_scope(tmp_path)
    for name, (array, lod) in VALUES.items():
        tensor = scope.find_var(name).get_tensor()
        assert gpu.is_on_device(tensor._array), name
        assert tensor._array.copy_to_host().tobytes() == np.asarray(array).tobytes()
        assert tensor._array.shape == np.asarray(array).shape
        assert tensor.lod() == (lod or [])
        assert np.array(tensor).tobytes() == np.asarray(array).tobytes()  # back to the host


@pytest.mark.parametrize("api", ["save_persistables", "save_params", "save_vars"])
@pytest.mark.parametrize("mode", ["memory", "combined", "separate"])
def test_saving_device_values_packs_on_the_device(tmp_path, monkeypatch, api, mode):
    """SEL-SAVE-005, FMT-COMB-001: same bytes/files as reference.io saving host values, and the
    device path (not a host copy) did the packing."""
    calls = []
    real = gpu.pack_to_host
    monkeypatch.setattr(gpu, "pack_to_host",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    prog = _program()
    kwargs = {"vars": [prog.global_block().var(n) for n in ("w", "seq", "lr")]} \
        if api == "save_vars" else {}
    outs = []
    for mod, scope in ((rio, _host_scope()), (nio, _device_scope(tmp_path / "d"))):
        exe = fluid.Executor(fluid.CUDAPlace(0))
        root = tmp_path / mod.__name__
        with fluid.scope_guard(scope):
            if mode == "memory":
                outs.append(getattr(mod, api)(exe, None, prog, **kwargs))
            else:
                getattr(mod, api)(exe, str(root), prog,
                                  **({"filename": "all"} if mode == "combined" else {}), **kwargs)
                outs.append(_files(root))
    assert outs[1] == outs[0]
    assert calls, "device values were not packed by the CUDA path"


def test_inference_model_round_trip_on_the_device(tmp_path):
    """save_inference_model / load_inference_model with device values: same files as the
    reference's; the loaded parameters come back onto the device."""
    outs = []
    for mod, scope in ((rio, _host_scope()), (nio, _device_scope(tmp_path / "d"))):
        prog = _program()
        root = tmp_path / mod.__name__
        with fluid.scope_guard(scope):
            mod.save_inference_model(str(root), ["x"], [prog.global_block().var("y")],
                                     fluid.Executor(fluid.CUDAPlace(0)), prog,
                                     params_filename="params")
        outs.append(_files(root))
    assert outs[1] == outs[0]
    fresh = fluid.Scope()
    with fluid.scope_guard(fresh):
        nio.load_inference_model(str(tmp_path / nio.__name__), fluid.Executor(fluid.CUDAPlace(0)),
                                 params_filename="params")
    w = fresh.find_var("w").get_tensor()._array
    assert gpu.is_on_device(w)
    assert w.copy_to_host().tobytes() == VALUES["w"][0].tobytes()


def test_device_bf16_value_reads_back_as_bfloat16():
    """FMT-DTYPE-003: a BF16 value loaded onto the device converts back to ml_dtypes.bfloat16
    (np.array(tensor) must not see the simulator's void view of the dtype)."""
    import ml_dtypes

    prog = fluid.Program()
    prog.global_block().create_parameter(name="b", shape=[3], dtype="bfloat16")
    host = fluid.Scope()
    value = np.arange(3, dtype=np.float32).astype(ml_dtypes.bfloat16)
    host.var("b").get_tensor().set(value)
    with fluid.scope_guard(host):
        blob = rio.save_params(fluid.Executor(fluid.CPUPlace()), None, prog)
    scope = fluid.Scope()
    with fluid.scope_guard(scope):
        nio.load_params(fluid.Executor(fluid.CUDAPlace(0)), None, prog, filename=blob)
    back = np.array(scope.find_var("b").get_tensor())
    assert back.dtype == np.dtype(ml_dtypes.bfloat16) and back.tobytes() == value.tobytes()
