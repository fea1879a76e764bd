"""fluidspec.conformance.strategies: they reach every dtype, variable kind, shape edge, LoD shape and
sort trap the suite promises, and they only generate valid input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from fluidspec.conformance import strategies as fs
from fluidspec.conformance._oracle import selected_vars

# Search only (no shrinking): these ask "is it reachable", not "what is the smallest".
_FIND = settings(max_examples=3000, database=None, suppress_health_check=list(HealthCheck),
                 phases=[Phase.generate], derandomize=True)


@pytest.mark.parametrize("name", fs.DTYPE_NAMES)
def test_tensor_values_reach_every_dtype(name):  # FMT-DTYPE-001
    found = find(fs.tensor_values(), lambda v: v.array.dtype.name == name, settings=_FIND)
    assert found.array.dtype.name == name


@pytest.mark.parametrize("kind", fs.VAR_KINDS)
def test_programs_reach_every_var_kind(kind):
    found = find(fs.programs(), lambda p: any(v.kind == kind for v in p.vars), settings=_FIND)
    assert any(v.kind == kind for v in found.vars)


def test_programs_reach_several_blocks_and_parameters():
    found = find(fs.programs(), lambda p: len(p.blocks) == 3 and any(v.is_parameter and v.block
                                                                       == 0 for v in p.vars)
                 and any(v.block == 2 for v in p.vars), settings=_FIND)
    assert found.blocks[0] == -1 and all(0 <= p < i for i, p in enumerate(found.blocks) if i)


@pytest.mark.parametrize("pred", [
    lambda s: s == (), lambda s: 0 in s, lambda s: len(s) == 8, lambda s: any(d >= 128 for d in s),
], ids=["0-d", "zero-size", "rank-8", "dim>=128"])
def test_shapes_reach_the_edges(pred):
    assert pred(find(fs.shapes(), pred, settings=_FIND))


def test_lods_reach_several_levels_and_empty_sequences():
    found = find(fs.lods(6), lambda lod: len(lod) == 3 and any(
        a == b for level in lod for a, b in zip(level, level[1:], strict=False)), settings=_FIND)
    assert len(found) == 3


def test_names_reach_sort_traps_slashes_and_unicode():
    for pred in (lambda n: "/" in n, lambda n: any(ord(c) > 0xFFFF for c in n),
                 lambda n: "." in n and "é" in n):
        assert pred(find(fs.names(), pred, settings=_FIND))


@given(fs.tensor_values())
def test_tensor_values_have_valid_lods(value):  # FMT-LOD-002
    from fluidspec.reference.codec import check_lod

    assert check_lod(value.lod, value.array.shape) is None


@given(fs.name_sets())
def test_name_sets_are_safe_paths_without_prefix_clashes(names):  # SAFE-PATH-001
    for n in names:
        assert n and not n.startswith("/") and "\x00" not in n
        assert all(part not in ("", ".", "..") for part in n.split("/"))
    for a in names:
        for b in names:
            assert a == b or not b.startswith(a + "/")


@given(fs.save_cases())
def test_save_cases_give_every_selected_var_a_value(case):
    chosen = selected_vars(case.program, case.call)
    assert {v.name for v in chosen} <= set(case.values)
    for v in chosen:
        if v.kind == "LOD_TENSOR" and v.dtype:
            got = case.values[v.name].array.dtype.name
            assert got == v.dtype or (v.dtype == "bfloat16" and got == "uint16")
    if case.call.get("filename") or case.call.get("dirname") is None:
        assert not any(v.kind == "SELECTED_ROWS" for v in chosen)


def test_arrays_cover_special_float_bits():
    found = find(fs.arrays(np.dtype(np.float32), (4,)),
                 lambda a: np.isnan(a).any() and np.isinf(a).any(), settings=_FIND)
    assert np.isnan(found).any()
