"""Small helpers around real Paddle's static-mode (legacy "Fluid" IR) save/load, shared by the
vector generator and the protocol server.  Runs only inside ``.venv-paddle``: paddle, numpy and
the standard library, nothing else.

Where each Fluid API lives in Paddle 2.6.2 (python/paddle/static/__init__.py and python/paddle/static/io.py in v2.6.2):

====================================  =====================================================
Fluid 1.x                             Paddle 2.6.2
====================================  =====================================================
save_vars / load_vars                 paddle.static.io.save_vars / load_vars
save_params / load_params             save_vars / load_vars with predicate=is_parameter
save_persistables / load_persistables paddle.distributed.io.save_persistables / load_...
save_inference_model (dirname)        normalize_program + serialize + save_persistables
load_inference_model (dirname)        paddle.distributed.io.load_inference_model_distributed
====================================  =====================================================
"""

from __future__ import annotations

import os
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import paddle
from paddle.base import core

paddle.enable_static()

# Paddle records the Python stack (absolute file paths and line numbers) of the code that created
# each op in an ``op_callstack`` attribute, and serialised programs keep it (measured on Paddle 2.6.2).
# Recording an empty stack instead keeps model bytes independent of the checkout's location and of
# edits to this file; nothing in Paddle's save/load reads the attribute.
import paddle.base.framework as _framework  # noqa: E402

_framework.traceback = types.SimpleNamespace(extract_stack=lambda *a, **k: [])

PLACE = paddle.CPUPlace()
VarType = core.VarDesc.VarType

io = paddle.static.io
dist_io = paddle.distributed.io


def paddle_dtype(array: np.ndarray, bf16_bits: bool = False) -> str:
    """The dtype string to declare a var holding ``array`` (np.uint16 bits = Paddle's bf16)."""
    if bf16_bits:
        return "uint16"  # Paddle's 'uint16' *is* bfloat16: Paddle 2.6.2 holds bf16 values as numpy uint16
    return str(array.dtype)


@contextmanager
def fresh() -> Iterator[tuple[Any, Any, Any, Any]]:
    """A fresh (main, startup, scope, executor) with unique-name counters reset, so that the
    names Paddle generates (``fc.w_0``, ``learning_rate_0``, ``save_infer_model/scale_0.tmp_0``)
    are the same on every run."""
    main, startup = paddle.static.Program(), paddle.static.Program()
    scope = core.Scope()
    with paddle.utils.unique_name.guard(), paddle.static.scope_guard(scope), \
            paddle.static.program_guard(main, startup):
        yield main, startup, scope, paddle.static.Executor(PLACE)


def put_tensor(
    block: Any, scope: Any, name: str, array: np.ndarray, lod: Sequence[Sequence[int]] = (),
    bf16_bits: bool = False,
) -> Any:
    """Declare a persistable LoD-tensor var ``name`` in ``block`` and set its runtime value."""
    var = block.create_var(
        name=name, shape=list(array.shape), dtype=paddle_dtype(array, bf16_bits), persistable=True
    )
    tensor = scope.var(name).get_tensor()
    tensor.set(np.asarray(array), PLACE)
    if lod:
        tensor.set_lod([list(map(int, level)) for level in lod])
    return var


def put_selected_rows(
    block: Any, scope: Any, name: str, array: np.ndarray, rows: Sequence[int], height: int
) -> Any:
    """Declare a persistable SELECTED_ROWS var ``name`` and set its rows, height and value."""
    var = block.create_var(name=name, type=VarType.SELECTED_ROWS, persistable=True)
    sr = scope.var(name).get_selected_rows()
    sr.set_rows(list(map(int, rows)))
    sr.set_height(int(height))
    sr.get_tensor().set(np.asarray(array), PLACE)
    return var


def get_tensor(scope: Any, name: str) -> tuple[np.ndarray, list[list[int]]]:
    """The runtime value (bf16 comes back as np.uint16 bits) and LoD of ``name`` in ``scope``."""
    tensor = scope.find_var(name).get_tensor()
    return np.array(tensor), [list(level) for level in tensor.lod()]


def get_selected_rows(scope: Any, name: str) -> tuple[np.ndarray, list[int], int]:
    sr = scope.find_var(name).get_selected_rows()
    return np.array(sr.get_tensor()), list(sr.rows()), int(sr.height())


def is_bf16(scope: Any, name: str) -> bool:
    return scope.find_var(name).get_tensor()._dtype() == paddle.bfloat16


def files_under(root: str) -> list[str]:
    """Every regular file below ``root``, as sorted '/'-separated relative paths."""
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            out.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return sorted(out)
