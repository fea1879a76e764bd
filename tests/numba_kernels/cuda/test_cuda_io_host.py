"""numba_kernels.cuda._io where CUDA cannot run: a CUDAPlace load keeps values on the host.

API-EXEC-003: places are accepted; without a GPU (and without the simulator) numba_kernels.io
with ``Executor(CUDAPlace(0))`` must behave exactly like the CPU place, never fail for want of
a driver.  (With CUDA, test_cuda_io checks that the values move to the device.)
"""

from __future__ import annotations

import numpy as np
import pytest

from fluidspec import reference as fluid
from fluidspec.numba_kernels import io as nio
from fluidspec.numba_kernels.cuda import _io as _cuda_io
from fluidspec.numba_kernels.cuda import _launch as _cuda_launch

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(_cuda_launch.available(), reason="CUDA can run here")]


def test_cuda_place_load_stays_on_the_host_without_cuda():
    prog = fluid.Program()
    prog.global_block().create_parameter(name="w", shape=[2], dtype="float32")
    with fluid.scope_guard(fluid.Scope()):
        fluid.global_scope().var("w").get_tensor().set(np.array([1, 2], np.float32))
        blob = nio.save_params(fluid.Executor(fluid.CUDAPlace(0)), None, prog)
    assert not _cuda_io.loads_to_device(fluid.Executor(fluid.CUDAPlace(0)))
    scope = fluid.Scope()
    with fluid.scope_guard(scope):
        nio.load_params(fluid.Executor(fluid.CUDAPlace(0)), None, prog, filename=blob)
    value = scope.find_var("w").get_tensor()._array
    assert type(value) is np.ndarray and value.tolist() == [1.0, 2.0]
