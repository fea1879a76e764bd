"""Frozen vectors: manifests in the ``fluidspec-vectors/1`` envelope, and replaying them.

A vector set is a directory holding ``manifest.json`` (schema in spec/chapters/conformance.md),
the files the vectors name, and ``expected/*.npy`` values.  ``conformance/vectors/paddle-2.6.2/``
was written by real Paddle; ``conformance/vectors/fluidspec/`` by ``python -m
conformance.make_vectors`` (the reference, and Hypothesis counterexamples promoted to vectors).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.conformance._case import (
    Call,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    VarSpec,
    dtype_from_name,
)

__all__ = ["SCHEMA", "VECTORS_DIR", "VectorSet", "Vector", "vector_sets", "expected_values"]

SCHEMA = "fluidspec-vectors/1"
VECTORS_DIR = Path(__file__).resolve().parent / "vectors"
KINDS = ("tensor_file", "combined", "memory", "selected_rows_file", "save_dir", "inference_model",
         "api_case")


@dataclass
class Vector:
    set_name: str
    root: Path
    raw: dict[str, Any]

    @property
    def id(self) -> str:
        return self.raw["id"]

    @property
    def kind(self) -> str:
        return self.raw["kind"]

    @property
    def clauses(self) -> list[str]:
        return list(self.raw.get("clauses") or [])

    @property
    def expected(self) -> dict[str, Any]:
        return self.raw.get("expected") or {}

    def path(self, rel: str) -> Path:
        return self.root / rel


@dataclass
class VectorSet:
    name: str
    root: Path
    manifest: dict[str, Any]

    @property
    def vectors(self) -> list[Vector]:
        return [Vector(self.name, self.root, v) for v in self.manifest.get("vectors", [])]


def vector_sets(directory: Path = VECTORS_DIR) -> list[VectorSet]:
    """Every ``*/manifest.json`` under ``directory`` with the right schema."""
    out = []
    for manifest in sorted(directory.glob("*/manifest.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            raise ValueError(f"{manifest}: schema {data.get('schema')!r}, expected {SCHEMA!r}")
        out.append(VectorSet(manifest.parent.name, manifest.parent, data))
    return out


def _load_array(root: Path, item: dict[str, Any]) -> np.ndarray:
    raw = np.load(root / item["values"], allow_pickle=False)
    dtype = dtype_from_name(item["dtype"])
    if item.get("bits_dtype"):
        raw = raw.view(dtype)
    return raw.astype(dtype, copy=False).reshape(item["shape"])


def expected_values(vector: Vector) -> dict[str, Value]:
    """name -> the value the vector's files hold."""
    out: dict[str, Value] = {}
    for item in vector.expected.get("vars") or []:
        array = _load_array(vector.root, item)
        if "rows" in item:
            out[item["name"]] = SelectedRowsValue(array, list(item["rows"]), int(item["height"]))
        else:
            out[item["name"]] = TensorValue(array, [list(level) for level in item.get("lod") or []])
    return out


def _var(name: str, value: Value | None, item: dict[str, Any] | None = None) -> VarSpec:
    if isinstance(value, SelectedRowsValue):
        return VarSpec(name, 0, "SELECTED_ROWS", item["dtype"] if item else "float32",
                       (value.height, *value.array.shape[1:]), 0, True, False)
    dtype = (item or {}).get("dtype") or (value.array.dtype.name if value is not None else "float32")
    return VarSpec(name, 0, "LOD_TENSOR", "bfloat16" if dtype == "uint16" else dtype,
                   tuple((item or {}).get("shape") or (-1,)), 0, True, False)


def load_plan(vector: Vector) -> tuple[ProgramSpec, Call, list[str]] | None:
    """(program, load call, names expected in the scope) that reads the vector's files."""
    exp = vector.expected
    items = {i["name"]: i for i in exp.get("vars") or []}
    values = expected_values(vector) if exp.get("result") == "valid" else {}
    files = vector.raw.get("files") or []
    kind = vector.kind
    names = list(exp.get("order") or items)
    if kind in ("tensor_file", "selected_rows_file"):
        name = next(iter(items), None) or exp.get("var") or os.path.basename(files[0])
        dirname = str(vector.path(files[0]))[: -len(name)].rstrip("/")
        declared = exp.get("declared_kind") or ("SELECTED_ROWS" if kind == "selected_rows_file"
                                                else "LOD_TENSOR")
        v = _var(name, values.get(name), items.get(name))
        if declared == "SELECTED_ROWS" and v.kind != "SELECTED_ROWS":
            v = VarSpec(name, 0, "SELECTED_ROWS", v.dtype, None, 0, True, False)
        call = Call("load_vars", {"dirname": dirname, "filename": None, "vars": [name],
                                  "predicate": None})
        return ProgramSpec(vars=(v,)), call, [name]
    if kind in ("combined", "memory"):
        program = ProgramSpec(vars=tuple(_var(n, values.get(n), items.get(n)) for n in names))
        if kind == "memory":
            call = Call("load_vars", {"dirname": None, "filename": None, "vars": names,
                                      "predicate": None,
                                      "memory": vector.path(files[0]).read_bytes()})
        else:
            p = vector.path(files[0])
            call = Call("load_vars", {"dirname": str(p.parent), "filename": p.name, "vars": names,
                                      "predicate": None})
        return program, call, list(items)
    if kind == "save_dir":
        program = ProgramSpec(vars=tuple(_var(n, values.get(n), items.get(n)) for n in names))
        call = Call("load_vars", {"dirname": str(vector.path(exp["dirname"])),
                                  "filename": exp.get("filename"), "vars": names,
                                  "predicate": None})
        return program, call, list(items)
    if kind == "inference_model":
        call = Call("load_inference_model", {"dirname": str(vector.path(exp["dirname"])),
                                             "model_filename": exp.get("model_filename"),
                                             "params_filename": exp.get("params_filename")})
        return ProgramSpec(), call, list(items)
    return None


def save_plan(vector: Vector) -> tuple[ProgramSpec, dict[str, Value], Call, dict[str, str]] | None:
    """(program, values, save call into '<dir>', {written rel path: vector file}) or None."""
    exp = vector.expected
    if exp.get("result") != "valid" or vector.raw.get("no_write_check"):
        return None
    kind = vector.kind
    files = vector.raw.get("files") or []
    values = expected_values(vector)
    items = {i["name"]: i for i in exp.get("vars") or []}
    program = ProgramSpec(vars=tuple(_var(n, v, items.get(n)) for n, v in values.items()))
    names = list(values)
    if kind in ("tensor_file", "selected_rows_file"):
        return program, values, Call("save_vars", {"dirname": "<dir>", "filename": None,
                                                   "vars": names, "predicate": None}), {
            names[0]: files[0]}
    if kind == "combined":
        return program, values, Call("save_vars", {"dirname": "<dir>", "filename": "__params__",
                                                   "vars": names, "predicate": None}), {
            "__params__": files[0]}
    if kind == "memory":
        return program, values, Call("save_vars", {"dirname": None, "filename": None,
                                                   "vars": names, "predicate": None}), {
            "<memory>": files[0]}
    if kind == "save_dir":
        if len(values) != len(exp.get("order") or values):
            return None
        filename = exp.get("filename")
        written = ({filename: f"{exp['dirname']}/{filename}"} if filename else
                   {n: f"{exp['dirname']}/{n}" for n in names})
        return program, values, Call("save_vars", {"dirname": "<dir>", "filename": filename,
                                                   "vars": names, "predicate": None}), written
    return None
