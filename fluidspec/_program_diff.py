"""Compare two programs (the views of ``fluidspec._program_view`` or ``fluidspec._pir_view``).

Each difference is one line of text.  A ProgramDesc is compared block by block: variables by
name (kind, dtype, dims, LoD level, persistable / is_parameter / stop_gradient flags), ops in
order (an op inserted or removed is reported once, not as a shift of every later op; ops that
line up are compared by input/output slots and attributes), then feed and fetch targets.  The
``op_callstack`` attribute is left out: it records where the saving script ran, not the model.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

__all__ = ["compare_programs"]

_VAR_FIELDS = ("kind", "dtype", "dims", "lod_level", "persistable", "is_parameter",
               "stop_gradient")
_IGNORED_ATTRS = frozenset({"op_callstack"})


def _vars(prefix: str, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    left, right = {v["name"]: v for v in a}, {v["name"]: v for v in b}
    out = [f"{prefix}var {n}: only in A" for n in sorted(left.keys() - right.keys())]
    out += [f"{prefix}var {n}: only in B" for n in sorted(right.keys() - left.keys())]
    for name in sorted(left.keys() & right.keys()):
        changed = [f"{f} {left[name][f]} -> {right[name][f]}" for f in _VAR_FIELDS
                   if left[name].get(f) != right[name].get(f)]
        if changed:
            out.append(f"{prefix}var {name}: " + "; ".join(changed))
    return out


def _op_detail(where: str, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = []
    for side in ("inputs", "outputs"):
        if a[side] != b[side]:
            out.append(f"{where}: {side} {a[side]} -> {b[side]}")
    attrs_a = {k: v for k, v in a["attrs"].items() if k not in _IGNORED_ATTRS}
    attrs_b = {k: v for k, v in b["attrs"].items() if k not in _IGNORED_ATTRS}
    for key in sorted(attrs_a.keys() | attrs_b.keys()):
        if attrs_a.get(key, "<absent>") != attrs_b.get(key, "<absent>"):
            out.append(f"{where}: attr {key} {attrs_a.get(key, '<absent>')!r} -> "
                       f"{attrs_b.get(key, '<absent>')!r}")
    return out


def _ops(prefix: str, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    matcher = SequenceMatcher(None, [op["type"] for op in a], [op["type"] for op in b],
                              autojunk=False)
    out = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                out += _op_detail(f"{prefix}op {i} {a[i]['type']}", a[i], b[j])
            continue
        if i2 > i1:
            out.append(f"{prefix}ops {i1}..{i2 - 1} only in A: "
                       + ", ".join(op["type"] for op in a[i1:i2]))
        if j2 > j1:
            out.append(f"{prefix}ops {j1}..{j2 - 1} only in B: "
                       + ", ".join(op["type"] for op in b[j1:j2]))
    return out


def _program_desc(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = []
    if a["version"] != b["version"]:
        out.append(f"program version {a['version']} -> {b['version']}")
    if len(a["blocks"]) != len(b["blocks"]):
        out.append(f"blocks {len(a['blocks'])} -> {len(b['blocks'])}")
    for block_a, block_b in zip(a["blocks"], b["blocks"], strict=False):
        prefix = f"block {block_a['idx']}: "
        if block_a["parent_idx"] != block_b["parent_idx"]:
            out.append(f"{prefix}parent {block_a['parent_idx']} -> {block_b['parent_idx']}")
        out += _vars(prefix, block_a["vars"], block_b["vars"])
        out += _ops(prefix, block_a["ops"], block_b["ops"])
    for key in ("feed_targets", "fetch_targets"):
        if a[key] != b[key]:
            shown = [[t["name"] for t in side[key]] for side in (a, b)]
            out.append(f"{key.replace('_', ' ')} {shown[0]} -> {shown[1]}")
    return out


def _pir(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = []
    for key in ("version", "op_types", "inputs", "outputs"):
        if a[key] != b[key]:
            out.append(f"{key.replace('_', ' ')} {a[key]} -> {b[key]}")
    out += _vars("", [dict(p, kind="parameter") for p in a["parameters"]],
                 [dict(p, kind="parameter") for p in b["parameters"]])
    return out


def compare_programs(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Every difference between two program views, one line each (empty when the same)."""
    if a["kind"] != b["kind"]:
        return [f"program kind {a['kind']} -> {b['kind']} (not compared further)"]
    return _program_desc(a, b) if a["kind"] == "ProgramDesc" else _pir(a, b)
