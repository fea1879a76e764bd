"""Places and a small interpreting Executor (API-EXEC-*).

The reference runs a Program's global block op by op with numpy kernels for a deliberately
small set of operator types: what startup programs and simple saved inference programs use.
Any other op type is refused with INVALID_ARGUMENT naming it (API-EXEC-002) — the save/load
APIs themselves never need the executor: they read and write the Scope directly.

As in Paddle, values of persistable variables land in the run's scope and values of the
other variables in a temporary child scope dropped after the run (API-EXEC-001), so a
training step does not leave its temporaries behind for a later ``save_vars``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from fluidspec import spec
from fluidspec.reference._framework import Block, Operator, Program, Variable, default_main_program
from fluidspec.reference._scope import LoDTensor, Scope, global_scope
from fluidspec.spec.errors import InvalidArgumentError, UninitializedVarError

__all__ = ["CPUPlace", "CUDAPlace", "Executor", "KERNELS"]


class CPUPlace:
    """Where values live; the reference keeps every value in host memory."""

    def __repr__(self) -> str:
        return "CPUPlace"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CPUPlace)

    def __hash__(self) -> int:
        return hash("CPUPlace")


class CUDAPlace:
    """Accepted for compatibility; values still live in host memory (API-EXEC-003)."""

    def __init__(self, device_id: int = 0) -> None:
        self.device_id = int(device_id)

    def __repr__(self) -> str:
        return f"CUDAPlace({self.device_id})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CUDAPlace) and other.device_id == self.device_id

    def __hash__(self) -> int:
        return hash(("CUDAPlace", self.device_id))


class _RunContext:
    """Reads and writes of one run: persistables in ``scope``, the rest in ``local``."""

    def __init__(self, block: Block, scope: Scope, feed: Mapping[str, Any]) -> None:
        self.block = block
        self.scope = scope
        self.local = scope.new_scope()
        self.feed = feed

    def read(self, op: Operator, slot: str, index: int = 0) -> LoDTensor:
        names = op.input(slot)
        if len(names) <= index:
            raise InvalidArgumentError(f"operator {op.type!r} lacks input {slot!r}",
                                       expected=f"{index + 1} argument(s)", found=names)
        holder = self.local.find_var(names[index])
        if holder is None or not holder.is_initialized():
            raise UninitializedVarError(
                f"operator {op.type!r} reads a variable with no value", var=names[index],
                expected="a value computed, fed or loaded before this op", found="none",
            )
        return holder.get_tensor()

    def array(self, op: Operator, slot: str, index: int = 0) -> np.ndarray:
        return self.read(op, slot, index)._value(op.input(slot)[index])

    def write(self, op: Operator, slot: str, array: Any, lod: Sequence[Sequence[int]] = ()) -> None:
        names = op.output(slot)
        if not names:
            raise InvalidArgumentError(f"operator {op.type!r} lacks output {slot!r}",
                                       expected="1 argument", found=names)
        declared = self.block._find_var_recursive(names[0])
        target = self.scope if declared is not None and declared.persistable else self.local
        tensor = target.var(names[0]).get_tensor()
        tensor.set(np.asarray(array))
        tensor._lod = [list(level) for level in lod]


def _attr(op: Operator, name: str, default: Any) -> Any:
    return op.attr(name) if op.has_attr(name) else default


def _dtype_attr(op: Operator, name: str, default: str = "float32") -> np.dtype:
    code = _attr(op, name, None)
    return spec.element_type_for_name(default if code is None or code < 0 else code).dtype


# --------------------------------------------------------------------------------------------
# Kernels: one function per op type, (op, ctx) -> None.


def _feed(op: Operator, ctx: _RunContext) -> None:
    name = op.output("Out")[0]
    if name not in ctx.feed:
        raise InvalidArgumentError(
            f"the program feeds {name!r} but feed= has no value for it", var=name,
            expected=f"feed[{name!r}]", found=sorted(ctx.feed),
        )
    value = ctx.feed[name]
    if isinstance(value, LoDTensor):
        ctx.write(op, "Out", value._value(name), value.lod())
    else:
        ctx.write(op, "Out", np.asarray(value))


def _fetch(op: Operator, ctx: _RunContext) -> None:
    ctx.read(op, "X")  # a fetch of a value never computed is an error, not a silent None


def _fill_constant(op: Operator, ctx: _RunContext) -> None:
    dtype = _dtype_attr(op, "dtype")
    shape = [int(d) for d in _attr(op, "shape", [])]
    text = _attr(op, "str_value", "")
    value = float(text) if text else float(_attr(op, "value", 0.0))
    ctx.write(op, "Out", np.full(shape, value, dtype=dtype))


def _random(op: Operator, ctx: _RunContext, draw: Callable[..., np.ndarray]) -> None:
    seed = int(_attr(op, "seed", 0))
    rng = np.random.default_rng(seed if seed else None)
    shape = [int(d) for d in _attr(op, "shape", [])]
    ctx.write(op, "Out", draw(rng, shape).astype(_dtype_attr(op, "dtype")))


def _uniform_random(op: Operator, ctx: _RunContext) -> None:
    low, high = float(_attr(op, "min", -1.0)), float(_attr(op, "max", 1.0))
    _random(op, ctx, lambda rng, shape: rng.uniform(low, high, shape))


def _gaussian_random(op: Operator, ctx: _RunContext) -> None:
    mean, std = float(_attr(op, "mean", 0.0)), float(_attr(op, "std", 1.0))
    _random(op, ctx, lambda rng, shape: rng.normal(mean, std, shape))


def _assign(op: Operator, ctx: _RunContext) -> None:
    tensor = ctx.read(op, "X")
    ctx.write(op, "Out", tensor._value().copy(), tensor.lod())


def _scale(op: Operator, ctx: _RunContext) -> None:
    tensor = ctx.read(op, "X")
    x = tensor._value()
    scale, bias = float(_attr(op, "scale", 1.0)), float(_attr(op, "bias", 0.0))
    out = x * scale + bias if _attr(op, "bias_after_scale", True) else (x + bias) * scale
    ctx.write(op, "Out", np.asarray(out).astype(x.dtype), tensor.lod())


def _broadcast_y(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    """Fluid's elementwise ``axis``: y's dims line up with x's dims starting at ``axis``."""
    if axis == -1 or y.ndim == x.ndim:
        return y
    trailing = x.ndim - axis - y.ndim
    return y.reshape(y.shape + (1,) * max(trailing, 0))


def _elementwise(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    def kernel(op: Operator, ctx: _RunContext) -> None:
        tensor = ctx.read(op, "X")
        x, y = tensor._value(), ctx.array(op, "Y")
        out = fn(x, _broadcast_y(x, y, int(_attr(op, "axis", -1))))
        ctx.write(op, "Out", np.asarray(out).astype(x.dtype), tensor.lod())

    return kernel


def _mul(op: Operator, ctx: _RunContext) -> None:
    x, y = ctx.array(op, "X"), ctx.array(op, "Y")
    xn, yn = int(_attr(op, "x_num_col_dims", 1)), int(_attr(op, "y_num_col_dims", 1))
    x2 = x.reshape(int(np.prod(x.shape[:xn])), -1)
    y2 = y.reshape(int(np.prod(y.shape[:yn])), -1)
    out = (x2 @ y2).reshape(x.shape[:xn] + y.shape[yn:])
    ctx.write(op, "Out", out.astype(x.dtype), ctx.read(op, "X").lod())


def _matmul(op: Operator, ctx: _RunContext) -> None:
    x, y = ctx.array(op, "X"), ctx.array(op, "Y")
    tx = bool(_attr(op, "trans_x", _attr(op, "transpose_X", False)))
    ty = bool(_attr(op, "trans_y", _attr(op, "transpose_Y", False)))
    if tx:
        x = np.swapaxes(x, -1, -2)
    if ty:
        y = np.swapaxes(y, -1, -2)
    out = np.matmul(x, y) * float(_attr(op, "alpha", 1.0))
    ctx.write(op, "Out", out.astype(x.dtype))


def _unary(fn: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def kernel(op: Operator, ctx: _RunContext) -> None:
        tensor = ctx.read(op, "X")
        x = tensor._value()
        ctx.write(op, "Out", np.asarray(fn(x)).astype(x.dtype), tensor.lod())

    return kernel


def _cast(op: Operator, ctx: _RunContext) -> None:
    tensor = ctx.read(op, "X")
    ctx.write(op, "Out", tensor._value().astype(_dtype_attr(op, "out_dtype")), tensor.lod())


def _softmax(op: Operator, ctx: _RunContext) -> None:
    x = ctx.array(op, "X")
    axis = int(_attr(op, "axis", -1))
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    ctx.write(op, "Out", (shifted / shifted.sum(axis=axis, keepdims=True)).astype(x.dtype))


def _reshape2(op: Operator, ctx: _RunContext) -> None:
    """Fluid's reshape: 0 copies the input dim at that position, one -1 is inferred."""
    x = ctx.array(op, "X")
    shape = [x.shape[i] if d == 0 else int(d) for i, d in enumerate(_attr(op, "shape", []))]
    ctx.write(op, "Out", x.reshape(shape))


def _transpose2(op: Operator, ctx: _RunContext) -> None:
    x = ctx.array(op, "X")
    ctx.write(op, "Out", np.transpose(x, [int(a) for a in _attr(op, "axis", [])]))


def _dropout(op: Operator, ctx: _RunContext) -> None:
    """Inference-time dropout only: identity, or scaling by 1-p for 'downgrade_in_infer'."""
    if not _attr(op, "is_test", False):
        raise InvalidArgumentError("the reference runs dropout only with is_test=True",
                                   expected="is_test=True", found=False)
    tensor = ctx.read(op, "X")
    x = tensor._value()
    mode = _attr(op, "dropout_implementation", "downgrade_in_infer")
    keep = 1.0 - float(_attr(op, "dropout_prob", 0.5))
    out = x if mode == "upscale_in_train" else (x * keep).astype(x.dtype)
    ctx.write(op, "Out", out, tensor.lod())


def _reduce(fn: Callable[..., np.ndarray]) -> Callable:
    def kernel(op: Operator, ctx: _RunContext) -> None:
        x = ctx.array(op, "X")
        dims = [int(d) for d in _attr(op, "dim", [])]
        axis = None if _attr(op, "reduce_all", False) or not dims else tuple(dims)
        out = fn(x, axis=axis, keepdims=bool(_attr(op, "keep_dim", False)))
        ctx.write(op, "Out", np.asarray(out).astype(x.dtype))

    return kernel


def _concat(op: Operator, ctx: _RunContext) -> None:
    parts = [ctx.array(op, "X", i) for i in range(len(op.input("X")))]
    ctx.write(op, "Out", np.concatenate(parts, axis=int(_attr(op, "axis", 0))))


#: The op types the reference executor runs (API-EXEC-002).
KERNELS: dict[str, Callable[[Operator, _RunContext], None]] = {
    "feed": _feed,
    "fetch": _fetch,
    "fill_constant": _fill_constant,
    "uniform_random": _uniform_random,
    "gaussian_random": _gaussian_random,
    "assign": _assign,
    "scale": _scale,
    "elementwise_add": _elementwise(np.add),
    "elementwise_sub": _elementwise(np.subtract),
    "elementwise_mul": _elementwise(np.multiply),
    "elementwise_div": _elementwise(np.divide),
    "mul": _mul,
    "matmul": _matmul,
    "matmul_v2": _matmul,
    "relu": _unary(lambda x: np.maximum(x, 0)),
    "sigmoid": _unary(lambda x: 1.0 / (1.0 + np.exp(-x))),
    "tanh": _unary(np.tanh),
    "exp": _unary(np.exp),
    "sqrt": _unary(np.sqrt),
    "square": _unary(np.square),
    "cast": _cast,
    "softmax": _softmax,
    "reshape2": _reshape2,
    "transpose2": _transpose2,
    "dropout": _dropout,
    "reduce_mean": _reduce(np.mean),
    "reduce_sum": _reduce(np.sum),
    "concat": _concat,
}


class Executor:
    """``fluid.Executor(place)``: runs a Program's global block against a Scope."""

    def __init__(self, place: Any = None) -> None:
        self.place = CPUPlace() if place is None else place

    # Fluid's public signature, argument for argument (API-EXEC-001), hence its length.
    def run(
        self, program: Program | None = None, feed: Mapping[str, Any] | None = None,
        fetch_list: Sequence[Variable | str] | Variable | str | None = None,
        feed_var_name: str = "feed", fetch_var_name: str = "fetch", scope: Scope | None = None,
        return_numpy: bool = True, use_program_cache: bool = False, **_ignored: Any,
    ) -> list[Any]:
        """Run every op of the global block in order; return the fetched values (API-EXEC-001).

        Sub-blocks are not run (no control-flow kernels); an op type outside ``KERNELS`` is
        INVALID_ARGUMENT before any op runs, so a refused program changes nothing.
        """
        program = default_main_program() if program is None else program
        if not isinstance(program, Program):
            raise InvalidArgumentError("Executor.run needs a Program", expected="Program",
                                       found=type(program).__name__)
        scope = global_scope() if scope is None else scope
        feed = dict(feed or {})
        block = program.global_block()
        missing = sorted({op.type for op in block.ops if op.type not in KERNELS})
        if missing:
            raise InvalidArgumentError(
                "the reference executor has no kernel for these operator types",
                expected=f"op types in {sorted(KERNELS)}", found=missing,
            )
        ctx = _RunContext(block, scope, feed)
        if not any(op.type == "feed" for op in block.ops):
            for name, value in feed.items():
                self._feed_directly(ctx, name, value)
        for op in block.ops:
            KERNELS[op.type](op, ctx)
        return self._fetch(ctx, fetch_list, return_numpy)

    @staticmethod
    def _feed_directly(ctx: _RunContext, name: str, value: Any) -> None:
        declared = ctx.block._find_var_recursive(name)
        target = ctx.scope if declared is not None and declared.persistable else ctx.local
        tensor = target.var(name).get_tensor()
        if isinstance(value, LoDTensor):
            tensor.set(value._value(name))
            tensor._lod = value.lod()
        else:
            tensor.set(np.asarray(value))

    @staticmethod
    def _fetch(ctx: _RunContext, fetch_list: Any, return_numpy: bool) -> list[Any]:
        if fetch_list is None:
            return []
        if isinstance(fetch_list, (Variable, str)):
            fetch_list = [fetch_list]
        results = []
        for item in fetch_list:
            name = item.name if isinstance(item, Variable) else item
            holder = ctx.local.find_var(name)
            if holder is None or not holder.is_initialized():
                raise UninitializedVarError("a fetched variable has no value", var=name,
                                            expected="a computed, fed or loaded value",
                                            found="none")
            tensor = holder.get_tensor()
            results.append(np.array(tensor) if return_numpy else tensor)
        return results

    def close(self) -> None:
        """Nothing to release."""
