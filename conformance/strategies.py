"""Public Hypothesis strategies for fluidspec cases — import them to test your own implementation.

    from fluidspec.conformance import strategies as fs
    @given(fs.tensor_values())
    def test_my_codec(value): ...

Everything generated is *valid* input unless a strategy's name says otherwise; every value is a
``conformance.TensorValue`` / ``SelectedRowsValue`` and every program a ``ProgramSpec`` (the same
objects the adapters and the subprocess protocol take).

* ``names()`` — variable names: dots, slashes (sub-directories in separate mode), spaces,
  unicode, and code-point sort traps (``B`` < ``_`` < ``a``, ``10`` < ``9``, a non-BMP character
  that sorts *after* U+FFFD by code point but before it in UTF-16).
* ``dtypes()`` — every element type of FMT-DTYPE-001, bfloat16 and both fp8 included
  (``paddle2=True`` keeps the types Paddle 2.6.2 reads).
* ``shapes()`` — rank 0..8, zero-size dims, and dims >= 128 (multi-byte varints).
* ``lods(rows)`` — valid LoDs (FMT-LOD-002) for a tensor with ``rows`` rows.
* ``arrays(dtype, shape)``, ``tensor_values()``, ``selected_rows_values()``.
* ``programs()`` — several blocks, every variable kind, parameters and persistables.
* ``save_cases()`` — a program, values for every variable the call selects, and a save call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fluidspec.conformance._case import (
    Call,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    VarSpec,
    dtype_from_name,
)

__all__ = [
    "DTYPE_NAMES",
    "PADDLE2_DTYPE_NAMES",
    "VAR_KINDS",
    "SORT_TRAPS",
    "names",
    "name_sets",
    "dtypes",
    "shapes",
    "lods",
    "arrays",
    "tensor_values",
    "selected_rows_values",
    "programs",
    "SaveCase",
    "save_cases",
]

#: numpy names of every element type a writer may be given (FMT-DTYPE-001/003/004).
DTYPE_NAMES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64",
    "bfloat16", "uint16", "complex64", "complex128", "float8_e4m3fn", "float8_e5m2",
    "uint32", "uint64",
)
#: The ones Paddle 2.6.2 can read back (FMT-DTYPE-004).
PADDLE2_DTYPE_NAMES = DTYPE_NAMES[:13]
#: Variable kinds programs are built with: the two that hold values and the ones selection skips.
VAR_KINDS = (
    "LOD_TENSOR", "SELECTED_ROWS", "FEED_MINIBATCH", "FETCH_LIST", "READER", "RAW",
    "LOD_TENSOR_ARRAY", "STEP_SCOPES",
)
#: Names whose code-point order differs from a naive or UTF-16 order (FMT-COMB-001).
SORT_TRAPS = ("10", "9", "B", "Z9", "_x", "a b", "a-b", "a.b", "a_b", "b", "é", "\ufffd",
              "\U0001f600", "Ab", "aB")

_PLAIN = st.sampled_from("abcxyzABZ0123456789_")
_SPICE = st.sampled_from(list(".-_ é€ßΩ中\ufffd\U0001f600"))


@st.composite
def _component(draw: st.DrawFn) -> str:
    head = draw(_PLAIN)
    tail = draw(st.lists(st.one_of(_PLAIN, _SPICE), max_size=6))
    text = head + "".join(tail)
    return text if text not in (".", "..") else text + "x"


def names(slashes: bool = True) -> st.SearchStrategy[str]:
    """A variable name that is safe as a relative path (no ``..``, not absolute, no NUL)."""
    parts = st.lists(_component(), min_size=1, max_size=3 if slashes else 1)
    built = parts.map("/".join)
    return st.one_of(st.sampled_from(SORT_TRAPS), built, st.sampled_from(["fc_0.w_0", "fc_0.b_0",
                     "embedding_0.w_0", "learning_rate_0", "batch_norm_0.w_1"]))


def _path_conflict(a: str, b: str) -> bool:
    return a == b or b.startswith(a + "/") or a.startswith(b + "/")


def name_sets(min_size: int = 1, max_size: int = 6, slashes: bool = True
              ) -> st.SearchStrategy[list[str]]:
    """Distinct names none of which is a directory prefix of another (``a`` vs ``a/b``)."""

    def ok(items: list[str]) -> bool:
        return not any(_path_conflict(a, b) for i, a in enumerate(items) for b in items[i + 1 :])

    return st.lists(names(slashes), min_size=min_size, max_size=max_size, unique=True).filter(ok)


def dtypes(paddle2: bool = False) -> st.SearchStrategy[np.dtype]:
    """A numpy dtype of an element type (bfloat16, fp8 included unless ``paddle2``)."""
    pool = PADDLE2_DTYPE_NAMES if paddle2 else DTYPE_NAMES
    return st.sampled_from(pool).map(dtype_from_name)


@st.composite
def shapes(draw: st.DrawFn, max_rank: int = 8, max_numel: int = 256, min_rank: int = 0
           ) -> tuple[int, ...]:
    """0-d, zero-size, rank up to 8, and sometimes one dim >= 128 (two-byte varints)."""
    rank = draw(st.integers(min_rank, max_rank))
    dims = draw(st.lists(st.integers(0, 4), min_size=rank, max_size=rank))
    if rank and draw(st.integers(0, 4)) == 0:
        i = draw(st.integers(0, rank - 1))
        dims[i] = draw(st.sampled_from([127, 128, 130, 200, 300, 16384]))
        others = [j for j in range(rank) if j != i]
        for j in others:
            dims[j] = min(dims[j], 1)
        if dims[i] > max_numel and others:
            dims[others[0]] = 0
        elif dims[i] > max_numel:
            dims[i] = 130
    while int(np.prod(dims)) > max_numel:
        dims[dims.index(max(dims))] //= 2
    return tuple(dims)


@st.composite
def lods(draw: st.DrawFn, rows: int, max_levels: int = 3) -> list[list[int]]:
    """A valid LoD for ``rows`` rows (FMT-LOD-002), built from the innermost level out."""
    levels = draw(st.integers(0, max_levels))
    if levels == 0:
        return []
    lod: list[list[int]] = []
    total = rows
    for _ in range(levels):
        seqs = draw(st.integers(1, max(1, min(total + 1, 5))))
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=seqs - 1, max_size=seqs - 1)))
        level = [0, *cuts, total]
        lod.insert(0, level)
        total = len(level) - 1
    return lod


def arrays(dtype: np.dtype, shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Arrays of any bit pattern (NaNs, infinities, -0.0, subnormals included)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "V" or dtype.name in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
        bits = np.dtype(f"u{dtype.itemsize}")
        return hnp.arrays(bits, shape).map(lambda a: a.view(dtype))
    if dtype.kind in "fc":
        half = dtype.itemsize // 2 if dtype.kind == "c" else dtype.itemsize
        bits = np.dtype(f"u{half}")
        real = np.dtype(f"f{half}")
        specials = np.array([np.nan, np.inf, -np.inf, -0.0, 1.0, np.finfo(real).smallest_subnormal],
                            dtype=real).view(bits).tolist()
        elements = st.one_of(st.sampled_from(specials), st.integers(0, 2 ** (8 * half) - 1))
        inner = (*shape, 2) if dtype.kind == "c" else shape
        return hnp.arrays(bits, inner, elements=elements).map(
            lambda a: a.view(dtype).reshape(shape))
    return hnp.arrays(dtype, shape)


@st.composite
def tensor_values(draw: st.DrawFn, dtype: np.dtype | None = None, shape: tuple[int, ...] | None = None,
                  paddle2: bool = False, with_lod: bool = True) -> TensorValue:
    """A dense tensor value; with a LoD when it has rows and ``with_lod``."""
    dt = dtype if dtype is not None else draw(dtypes(paddle2))
    shp = shape if shape is not None else draw(shapes())
    array = draw(arrays(dt, shp))
    lod = draw(lods(shp[0])) if with_lod and len(shp) >= 1 and draw(st.booleans()) else []
    return TensorValue(array, lod)


@st.composite
def selected_rows_values(draw: st.DrawFn, paddle2: bool = False) -> SelectedRowsValue:
    """A SelectedRows: rows (may repeat) below height, value of shape [len(rows), …]."""
    height = draw(st.integers(0, 50))
    n = draw(st.integers(0, 5))
    rows = draw(st.lists(st.integers(0, max(height - 1, 0)), min_size=n, max_size=n))
    width = draw(shapes(max_rank=2, max_numel=16))
    array = draw(arrays(draw(dtypes(paddle2)), (n, *width)))
    return SelectedRowsValue(array, rows, height)


@st.composite
def programs(draw: st.DrawFn, min_vars: int = 1, max_vars: int = 6, kinds: tuple[str, ...] = VAR_KINDS,
             max_blocks: int = 3) -> ProgramSpec:
    """A program with up to ``max_blocks`` blocks and variables of the given kinds."""
    nblocks = draw(st.integers(1, max_blocks))
    parents = [-1] + [draw(st.integers(0, i - 1)) for i in range(1, nblocks)]
    var_names = draw(name_sets(min_vars, max_vars))
    vars_: list[VarSpec] = []
    for name in var_names:
        kind = draw(st.sampled_from(kinds)) if draw(st.integers(0, 2)) == 0 else "LOD_TENSOR"
        block = draw(st.integers(0, nblocks - 1))
        if kind in ("LOD_TENSOR", "SELECTED_ROWS"):
            is_param = kind == "LOD_TENSOR" and draw(st.booleans())
            dtype = draw(st.sampled_from(PADDLE2_DTYPE_NAMES)).replace("uint16", "bfloat16")
            shape = draw(shapes(max_rank=3))
            vars_.append(VarSpec(name, block, kind, dtype, shape,
                                 draw(st.integers(0, 2)) if kind == "LOD_TENSOR" else 0,
                                 persistable=is_param or draw(st.booleans()), is_parameter=is_param))
        else:
            vars_.append(VarSpec(name, block, kind, None, None, 0,
                                 persistable=draw(st.booleans())))
    return ProgramSpec(vars=tuple(vars_), blocks=tuple(parents))


# --------------------------------------------------------------------------------------------
# Whole save cases


@dataclass
class SaveCase:
    """A program, the values in the scope, and one save call (with its load twin)."""

    program: ProgramSpec
    values: dict[str, Value]
    call: Call

    def load_call(self, dirname: str | None, memory: bytes | None = None) -> Call:
        args = dict(self.call.args)
        args["dirname"] = dirname
        if memory is not None:
            args["memory"] = memory
        return Call(self.call.api.replace("save_", "load_", 1), args)

    def __repr__(self) -> str:
        return f"SaveCase(program={self.program!r}, values={self.values!r}, call={self.call!r})"


def _value_for(draw: st.DrawFn, v: VarSpec, paddle2: bool) -> Value:
    if v.kind == "SELECTED_ROWS":
        return draw(selected_rows_values(paddle2=paddle2))
    # Values have the declared dtype: combined loads check it (SEL-LOAD-005).  bfloat16 is
    # sometimes given as a numpy uint16 array, which is written as BF16 (FMT-DTYPE-003).
    dtype = dtype_from_name(v.dtype or "float32")
    if dtype.name == "bfloat16" and draw(st.booleans()):
        dtype = np.dtype(np.uint16)
    if v.is_parameter and v.shape is not None:
        return draw(tensor_values(dtype=dtype, shape=tuple(v.shape), with_lod=False))
    return draw(tensor_values(dtype=dtype))


@st.composite
def save_cases(draw: st.DrawFn, apis: tuple[str, ...] = ("save_vars", "save_params", "save_persistables"),
               layout: str | None = None, paddle2: bool = True, kinds: tuple[str, ...] = VAR_KINDS,
               max_vars: int = 6) -> SaveCase:
    """A valid save: every selected variable has a value; ``layout`` separate|combined|memory.

    Combined and memory layouts never select SelectedRows (FMT-SR-002).  The ``dirname`` field
    is a placeholder (``"<dir>"``) the check replaces with a fresh directory.
    """
    from fluidspec.conformance._oracle import selected_vars

    lay = layout or draw(st.sampled_from(["separate", "combined", "memory"]))
    if lay != "separate":
        kinds = tuple(k for k in kinds if k != "SELECTED_ROWS")
    program = draw(programs(1, max_vars, kinds))
    # Persistable kinds that hold no saveable value would make the save fail (SEL-SAVE-007).
    program = replace(program, vars=tuple(
        replace(v, persistable=False) if v.kind in ("LOD_TENSOR_ARRAY", "STEP_SCOPES") else v
        for v in program.vars))
    api = draw(st.sampled_from(apis))
    args: dict[str, Any] = {"dirname": None if lay == "memory" else "<dir>",
                            "filename": draw(st.sampled_from(["__params__", "params.bin", "w"]))
                            if lay == "combined" else None}
    if api == "save_vars":
        how = draw(st.sampled_from(["vars", "is_parameter", "is_persistable", "names"]))
        tensors = [v.name for v in program.list_vars() if v.kind in ("LOD_TENSOR", "SELECTED_ROWS")]
        if how == "vars" and tensors:
            args["vars"] = draw(st.lists(st.sampled_from(tensors), min_size=1, max_size=4))
            args["predicate"] = None
        elif how == "names" and tensors:
            args["vars"] = None
            args["predicate"] = {"names": draw(st.lists(st.sampled_from(tensors), min_size=1,
                                                        unique=True))}
        else:
            args["vars"] = None
            args["predicate"] = how if how.startswith("is_") else "is_persistable"
    call = Call(api, args)
    chosen = selected_vars(program, call)
    if lay != "separate" and args.get("vars"):
        # A name twice in a separate save writes its file twice; keep the combined case simple.
        args["vars"] = list(dict.fromkeys(args["vars"]))
        call = Call(api, args)
    values = {v.name: _value_for(draw, v, paddle2) for v in chosen}
    return SaveCase(program, values, call)
