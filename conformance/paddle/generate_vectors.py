"""Write conformance vectors with REAL PaddlePaddle (static mode, legacy "Fluid" IR): 2.6.2 or 3.3.1.

    .venv-paddle/bin/python conformance/paddle/generate_vectors.py OUTDIR     # 2.6.2
    .venv-paddle3/bin/python conformance/paddle/generate_vectors.py OUTDIR    # 3.3.1

(``bash scripts/paddle_vectors.sh [VERSION]`` creates the venv and regenerates
conformance/vectors/paddle-VERSION/.)  Paddle 3 writes the legacy ProgramDesc only with
``FLAGS_enable_pir_api=0`` set before ``import paddle``; this script sets it.

Runs inside ``.venv-paddle`` and imports only paddle, numpy and the standard library.  Every value
Paddle is asked to save is made here from fixed formulas, and the manifest's expected values are
those inputs — never something decoded from Paddle's output — so the vectors test a decoder
against what Paddle was given.  Before a vector is recorded, Paddle must read its own files back
to the same values (a vector Paddle itself cannot read would be worthless).

OUTDIR receives ``manifest.json`` (schema ``fluidspec-vectors/1``), one directory per vector with
the files Paddle wrote, and ``expected/<vector>/<i>.npy`` with the expected values (bfloat16 is
stored as its uint16 bit patterns, marked ``"bits_dtype": "uint16"``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

# Paddle 3's default PIR mode writes JSON programs; the legacy ProgramDesc needs this before import
# (Paddle 2.6.2 ignores it).
os.environ.setdefault("FLAGS_enable_pir_api", "0")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _paddle_kit as kit  # noqa: E402
import paddle  # noqa: E402

SCHEMA = "fluidspec-vectors/1"
GENERATOR = "conformance/paddle/generate_vectors.py"

# Clause ids of spec/chapters/format.md that the vectors exercise.
REC = ["FMT-REC-001", "FMT-REC-002", "FMT-REC-003", "FMT-REC-004", "FMT-REC-005", "FMT-REC-006",
       "FMT-REC-007", "FMT-DESC-001", "FMT-DTYPE-001", "FMT-DTYPE-002"]
NAMES_IN_ORDER = ["10", "9", "B", "Z9", "_x", "a b", "a-b", "a.b", "a/b", "a_b", "b", "é"]


# ------------------------------------------------------------------------------------------
# Values: fixed, bit-exact, with the edge values of each type.


def special_values(dtype: str) -> np.ndarray:
    """A [2, 3] array of ``dtype`` holding extremes, signed zero, inf/nan and subnormals."""
    if dtype == "bool":
        return np.array([[True, False, True], [False, False, True]])
    if dtype == "bfloat16":  # bit patterns: 1, -2, +inf, nan, smallest subnormal, -0
        return np.array([[0x3F80, 0xC000, 0x7F80], [0x7FC0, 0x0001, 0x8000]], dtype=np.uint16)
    if dtype in ("int8", "uint8", "int16", "int32", "int64"):
        info = np.iinfo(dtype)
        mid = 5 if info.min < 0 else 127
        return np.array([[info.min, info.max, 0], [1, mid, info.max - 1]], dtype=dtype)
    if dtype in ("float16", "float32", "float64"):
        info = np.finfo(dtype)
        return np.array(
            [[-0.0, 1.5, -np.inf], [np.nan, info.smallest_subnormal, info.max]], dtype=dtype
        )
    if dtype in ("complex64", "complex128"):
        part = "float32" if dtype == "complex64" else "float64"
        tiny = np.finfo(part).smallest_subnormal
        return np.array(
            [[1 + 2j, -3.5 - 0j, complex(np.inf, -1)], [complex(0, np.nan), complex(tiny, -tiny),
                                                        -0.25 + 0.5j]], dtype=dtype
        )
    raise ValueError(dtype)


def ramp(shape: Sequence[int], dtype: str = "float32", salt: int = 0) -> np.ndarray:
    """Small dyadic numbers (multiples of 1/8 in [-2, 2)) so float arithmetic on them is exact."""
    n = int(np.prod(shape)) if len(shape) else 1
    return (((np.arange(n) * 5 + salt) % 32 - 16) / 8).astype(dtype).reshape(shape)


SEPARATE_SAVE_DTYPES = ["int16", "int32", "int64", "float16", "float32", "float64", "uint8",
                        "int8", "bfloat16"]
COMBINED_ONLY_DTYPES = ["bool", "complex64", "complex128"]  # the `save` op has no kernel for them
ALL_DTYPES = SEPARATE_SAVE_DTYPES + COMBINED_ONLY_DTYPES


# ------------------------------------------------------------------------------------------
# The writer: directories, expected-value files, the manifest.


class Vectors:
    def __init__(self, out: str) -> None:
        self.out = out
        self.entries: list[dict[str, Any]] = []

    def dir(self, vid: str) -> str:
        path = os.path.join(self.out, vid)
        os.makedirs(path, exist_ok=True)
        return path

    def rel(self, path: str) -> str:
        return os.path.relpath(path, self.out).replace(os.sep, "/")

    def files(self, vid: str) -> list[str]:
        return [f"{vid}/{f}" for f in kit.files_under(os.path.join(self.out, vid))]

    def var(self, vid: str, name: str, array: np.ndarray, lod: Sequence[Sequence[int]] = (),
            bf16: bool = False, **extra: Any) -> dict[str, Any]:
        """An expected-var entry; writes ``array`` to expected/<vid>/<i>.npy."""
        exp_dir = os.path.join(self.out, "expected", vid)
        os.makedirs(exp_dir, exist_ok=True)
        path = os.path.join(exp_dir, f"{len(os.listdir(exp_dir))}.npy")
        np.save(path, np.asarray(array), allow_pickle=False)
        entry: dict[str, Any] = {
            "name": name,
            "dtype": "bfloat16" if bf16 else str(np.asarray(array).dtype),
            "shape": list(np.shape(array)),
            "lod": [list(map(int, level)) for level in lod],
            "values": self.rel(path),
        }
        if bf16:
            entry["bits_dtype"] = "uint16"
        entry.update(extra)
        return entry

    def add(self, vid: str, kind: str, description: str, clauses: list[str],
            vars: list[dict[str, Any]], files: list[str] | None = None, **expected: Any) -> None:
        self.entries.append({
            "id": vid,
            "description": description,
            "clauses": clauses,
            "kind": kind,
            "files": files if files is not None else self.files(vid),
            "expected": {"result": "valid", "error": None, "vars": vars, **expected},
        })

    def write_manifest(self) -> None:
        manifest = {
            "schema": SCHEMA,
            "provenance": {
                "implementation": "paddlepaddle",
                "version": paddle.__version__,
                "generator": GENERATOR,
                "numpy": np.__version__,
                "notes": "Paddle static mode, legacy ProgramDesc IR"
                         + (" (FLAGS_enable_pir_api=0 before import paddle)"
                            if not paddle.__version__.startswith("2.") else "")
                         + ". Ops are created with an empty op_callstack (the generator stubs "
                         "Paddle's stack capture) so that model files do not embed absolute "
                         "paths of the machine that made them.",
            },
            "vectors": self.entries,
        }
        with open(os.path.join(self.out, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1, ensure_ascii=False, sort_keys=False)
            f.write("\n")


# ------------------------------------------------------------------------------------------
# Paddle must read back what it wrote.


def check_paddle_reads_back(dirname: str | None, filename: str | bytes | None,
                            specs: list[tuple[str, np.ndarray, Sequence[Sequence[int]], bool]]
                            ) -> None:
    """load_vars the given (name, array, lod, bf16) into a fresh scope and compare bit-exactly."""
    with kit.fresh() as (main, _startup, scope, exe):
        block = main.global_block()
        vars_ = [block.create_var(name=n, shape=list(a.shape), dtype=kit.paddle_dtype(a, b),
                                  persistable=True) for n, a, _l, b in specs]
        kit.io.load_vars(exe, dirname, main, vars=vars_, filename=filename)
        for name, array, lod, bf16 in specs:
            got, got_lod = kit.get_tensor(scope, name)
            if bf16 != kit.is_bf16(scope, name):
                raise AssertionError(f"{name}: bf16 flag changed on Paddle's round trip")
            if got.dtype != array.dtype or got.shape != array.shape or \
                    got.tobytes() != array.tobytes() or got_lod != [list(lv) for lv in lod]:
                raise AssertionError(f"{name}: Paddle read back {got!r} lod {got_lod}")


# ------------------------------------------------------------------------------------------
# The vectors


def tensor_file(v: Vectors, vid: str, name: str, array: np.ndarray, description: str,
                clauses: list[str], lod: Sequence[Sequence[int]] = (), bf16: bool = False) -> None:
    """One var, one separate file written by the `save` op (save_vars without filename)."""
    d = v.dir(vid)
    with kit.fresh() as (main, _s, scope, exe):
        var = kit.put_tensor(main.global_block(), scope, name, array, lod, bf16)
        kit.io.save_vars(exe, d, main, vars=[var])
    check_paddle_reads_back(d, None, [(name, array, lod, bf16)])
    v.add(vid, "tensor_file", description, clauses, [v.var(vid, name, array, lod, bf16)])


def dtype_vectors(v: Vectors) -> None:
    for dt in SEPARATE_SAVE_DTYPES:
        bf16 = dt == "bfloat16"
        clauses = REC + (["FMT-DTYPE-003"] if bf16 else [])
        tensor_file(v, f"dtype-{dt}-file", "t", special_values(dt),
                    f"{dt} [2,3] with edge values, separate file written by the save op", clauses,
                    bf16=bf16)
    # bool/complex: the separate `save` op refuses them (measured on Paddle 2.6.2) — check that Paddle
    # still does, then write them where Paddle can: a combined file of one record.
    for dt in COMBINED_ONLY_DTYPES:
        array = special_values(dt)
        vid = f"dtype-{dt}-combined"
        d = v.dir(vid)
        with kit.fresh() as (main, _s, scope, exe):
            var = kit.put_tensor(main.global_block(), scope, "t", array)
            try:
                kit.io.save_vars(exe, os.path.join(d, "refused"), main, vars=[var])
            except NotImplementedError:
                pass
            else:
                raise AssertionError(f"Paddle's save op now has a {dt} kernel: update the vectors")
            shutil.rmtree(os.path.join(d, "refused"), ignore_errors=True)
            kit.io.save_vars(exe, d, main, vars=[var], filename="t")
        check_paddle_reads_back(d, "t", [("t", array, (), False)])
        v.add(vid, "combined", f"{dt} [2,3] with edge values, a one-record combined file (the "
              "separate save op has no kernel for this type: NotImplementedError)",
              REC + ["FMT-COMB-001", "SEL-FILE-002"], [v.var(vid, "t", array)], order=["t"],
              separate_save="NotImplementedError")


def all_dtypes(v: Vectors) -> None:
    specs = [(f"v_{dt}", special_values(dt), (), dt == "bfloat16") for dt in ALL_DTYPES]
    specs.sort(key=lambda s: s[0])
    comb, mem = "all-dtypes-combined", "all-dtypes-memory"
    d = v.dir(comb)
    with kit.fresh() as (main, _s, scope, exe):
        block = main.global_block()
        vars_ = [kit.put_tensor(block, scope, n, a, lod, b) for n, a, lod, b in reversed(specs)]
        kit.io.save_vars(exe, d, main, vars=vars_, filename="__params__")
        data = kit.io.save_vars(exe, None, main, vars=vars_)
    with open(os.path.join(v.dir(mem), "memory.bin"), "wb") as f:
        f.write(data)
    check_paddle_reads_back(d, "__params__", specs)
    check_paddle_reads_back(None, data, specs)
    order = [s[0] for s in specs]
    v.add(comb, "combined", "every element type Paddle 2.6.2 writes, one combined file "
          "(save_vars(filename='__params__'); vars given in reverse name order)",
          REC + ["FMT-COMB-001", "FMT-DTYPE-003", "SEL-SAVE-004", "SEL-FILE-002"],
          [v.var(comb, n, a, lod, b) for n, a, lod, b in specs], order=order)
    v.add(mem, "memory", "the same vars saved to memory: the bytes save_vars(dirname=None) returns",
          REC + ["FMT-COMB-001", "FMT-DTYPE-003", "SEL-SAVE-001", "SEL-FILE-003"],
          [v.var(mem, n, a, lod, b) for n, a, lod, b in specs], order=order)


def shape_and_lod_vectors(v: Vectors) -> None:
    lod_clauses = REC + ["FMT-LOD-001", "FMT-LOD-002"]
    tensor_file(v, "lod-1-level", "seq", ramp([5, 1]), "float32 [5,1] with LoD [[0,2,5]]",
                lod_clauses, lod=[[0, 2, 5]])
    tensor_file(v, "lod-2-levels", "seq2", ramp([5, 2], salt=3),
                "float32 [5,2] with LoD [[0,2,3],[0,1,3,5]]", lod_clauses,
                lod=[[0, 2, 3], [0, 1, 3, 5]])
    tensor_file(v, "lod-empty-sequence", "seq0", np.arange(5, dtype=np.int64).reshape(5, 1),
                "int64 [5,1] with LoD [[0,0,5]] (an empty first sequence)", lod_clauses,
                lod=[[0, 0, 5]])
    tensor_file(v, "zero-d", "scalar", np.array(2.0, dtype=np.float32),
                "float32 0-d tensor (dims [], one element)", REC)
    tensor_file(v, "zero-size-int64", "empty", np.zeros([0], dtype=np.int64),
                "int64 [0]: no data bytes", REC)
    tensor_file(v, "zero-size-3d", "empty3", np.zeros([2, 0, 3], dtype=np.float32),
                "float32 [2,0,3]: a zero dim in the middle", REC)
    tensor_file(v, "zero-size-big-dim", "empty_big", np.zeros([0, 16384], dtype=np.float64),
                "float64 [0,16384]: a 3-byte varint dim, no data", REC)
    tensor_file(v, "rank8-dim130", "r8", np.arange(130, dtype=np.int8).reshape([1] * 7 + [130]),
                "int8 rank 8 [1,1,1,1,1,1,1,130]: a 2-byte varint dim", REC)
    tensor_file(v, "rank8-dims-300", "r8b",
                ramp([2, 1, 3, 1, 1, 2, 1, 300], "float16", salt=1),
                "float16 rank 8 [2,1,3,1,1,2,1,300]", REC)


def selected_rows_vectors(v: Vectors) -> None:
    cases = [
        ("selected-rows", "sr", ramp([3, 2]), [1, 7, 3], 10,
         "SelectedRows rows [1,7,3] height 10, float32 [3,2] value"),
        ("selected-rows-int64-dup-rows", "sr_i", np.arange(8, dtype=np.int64).reshape(4, 2),
         [5, 5, 0, 2], 6, "SelectedRows with a repeated row, int64 value [4,2]"),
        ("selected-rows-empty", "sr_e", np.zeros([0, 4], dtype=np.float32), [], 3,
         "SelectedRows with no rows, height 3, float32 [0,4] value"),
    ]
    for vid, name, array, rows, height, desc in cases:
        d = v.dir(vid)
        with kit.fresh() as (main, _s, scope, exe):
            var = kit.put_selected_rows(main.global_block(), scope, name, array, rows, height)
            kit.io.save_vars(exe, d, main, vars=[var])
        with kit.fresh() as (main, _s, scope, exe):
            var = main.global_block().create_var(name=name, type=kit.VarType.SELECTED_ROWS,
                                                 persistable=True)
            kit.io.load_vars(exe, d, main, vars=[var])
            got, got_rows, got_height = kit.get_selected_rows(scope, name)
            if got.tobytes() != array.tobytes() or got.shape != array.shape or \
                    got_rows != rows or got_height != height:
                raise AssertionError(f"{vid}: Paddle read back {got!r} {got_rows} {got_height}")
        v.add(vid, "selected_rows_file", desc + " (separate file, save op)",
              ["FMT-SR-001", "FMT-SR-002", "API-SCOPE-002"],
              [v.var(vid, name, array, rows=rows, height=height)])


def name_vectors(v: Vectors) -> None:
    given = ["é", "a_b", "b", "10", "a/b", "Z9", "a b", "9", "_x", "a.b", "B", "a-b"]
    specs = {n: np.array([100 + i], dtype=np.int32) for i, n in enumerate(given)}
    sep, comb = "names-separate", "names-combined"
    for vid, filename in ((sep, None), (comb, "__params__")):
        d = v.dir(vid)
        with kit.fresh() as (main, _s, scope, exe):
            vars_ = [kit.put_tensor(main.global_block(), scope, n, specs[n]) for n in given]
            kit.io.save_vars(exe, d, main, vars=vars_, filename=filename)
        check_paddle_reads_back(d, filename, [(n, specs[n], (), False) for n in given])
    order = sorted(given)
    if order != NAMES_IN_ORDER:
        raise AssertionError(order)
    written = kit.files_under(os.path.join(v.out, sep))
    v.add(sep, "save_dir", "names with dots, slashes, spaces, digits and non-ASCII saved to "
          "separate files: each var's file is dirname/name ('a/b' makes a sub-directory)",
          REC + ["SEL-FILE-001"], [v.var(sep, n, specs[n]) for n in order], dirname=sep,
          layout="separate",
          filename=None, files_written=written, api="save_vars(vars=[...])")
    v.add(comb, "combined", "the same 12 vars (given in a shuffled order) in one combined file: "
          "records in code-point order of the names",
          REC + ["FMT-COMB-001", "SEL-SAVE-004", "SEL-FILE-002"],
          [v.var(comb, n, specs[n]) for n in order], order=order)


def filtering_vectors(v: Vectors) -> None:
    """fc + SGD training program: which files save_params (save_vars(predicate=is_parameter)) and
    save_persistables write, separate and combined."""
    root = v.dir("filtering")
    with kit.fresh() as (main, startup, scope, exe):
        x = paddle.static.data("x", [None, 4], "float32")
        label = paddle.static.data("label", [None, 2], "float32")
        y = paddle.static.nn.fc(x, 2, name="fc")
        loss = paddle.mean(paddle.square(y - label))
        paddle.static.create_parameter([3], "float32", name="zz_param")
        paddle.static.create_global_var([1], 0.25, "float32", persistable=True, name="my_counter")
        main.global_block().create_var(name="raw_persist", type=kit.VarType.RAW, persistable=True)
        paddle.optimizer.SGD(learning_rate=0.5).minimize(loss)
        exe.run(startup)
        values = {
            "fc.w_0": ramp([4, 2], salt=1), "fc.b_0": ramp([2], salt=2),
            "zz_param": ramp([3], salt=3),
        }
        for name, array in values.items():
            scope.find_var(name).get_tensor().set(array, kit.PLACE)
        values["my_counter"] = np.array([0.25], dtype=np.float32)
        values["learning_rate_0"] = np.array(0.5, dtype=np.float32)  # SGD's lr var is 0-d
        for name, array in values.items():
            got, _lod = kit.get_tensor(scope, name)
            if got.dtype != array.dtype or got.shape != array.shape or not np.array_equal(got, array):
                raise AssertionError(f"{name}: {got!r}")
        program_path = os.path.join(root, "main_program.pb")
        with open(program_path, "wb") as f:
            f.write(main.desc.serialize_to_string())
        saves = [
            ("filter-save-params", "params", None, "save_vars(predicate=is_parameter)",
             lambda d, fn: kit.io.save_vars(exe, d, main, predicate=kit.io.is_parameter,
                                            filename=fn)),
            ("filter-save-persistables", "persistables", None,
             "paddle.distributed.io.save_persistables",
             lambda d, fn: kit.dist_io.save_persistables(exe, d, main, filename=fn)),
            ("filter-save-params-combined", "params_combined", "__params__",
             "save_vars(predicate=is_parameter, filename='__params__')",
             lambda d, fn: kit.io.save_vars(exe, d, main, predicate=kit.io.is_parameter,
                                            filename=fn)),
            ("filter-save-persistables-combined", "persistables_combined", "__params__",
             "paddle.distributed.io.save_persistables(filename='__params__')",
             lambda d, fn: kit.dist_io.save_persistables(exe, d, main, filename=fn)),
        ]
        for vid, sub, filename, api, save in saves:
            d = os.path.join(root, sub)
            save(d, filename)
            written = kit.files_under(d)
            params = "params" in sub
            names = sorted(n for n in values if not params or n in ("fc.w_0", "fc.b_0", "zz_param"))
            if filename is None and written != names:
                raise AssertionError(f"{vid}: wrote {written}, expected {names}")
            check_paddle_reads_back(d, filename, [(n, values[n], (), False) for n in names])
            v.add(vid, "save_dir",
                  f"fc+SGD training program saved with {api}: parameters are fc.w_0, fc.b_0, "
                  "zz_param; persistable non-parameters are my_counter, learning_rate_0 (0-d) and "
                  "raw_persist (RAW: never saved); x, label and temporaries are not persistable",
                  REC + ["SEL-CAND-001", "SEL-CAND-003", "SEL-SAVE-001", "SEL-SAVE-003"]
                  + (["FMT-COMB-001", "SEL-SAVE-004", "SEL-FILE-002"] if filename
                     else ["SEL-FILE-001"]),
                  [v.var(vid, n, values[n]) for n in names],
                  files=[v.rel(os.path.join(d, f)) for f in written] + [v.rel(program_path)],
                  dirname=v.rel(d), layout="combined" if filename else "separate",
                  filename=filename, files_written=written, api=api,
                  program=v.rel(program_path), order=names if filename else None)


def _inference_net() -> tuple[list[Any], list[Any], dict[str, np.ndarray]]:
    """Two feeds, fc layers, a bool fetch, an unused parameter and an SGD step (pruned away)."""
    x = paddle.static.data("x", [None, 4], "float32")
    y = paddle.static.data("y", [None, 4], "float32")
    label = paddle.static.data("label", [None, 2], "float32")
    h = paddle.static.nn.fc(x, 3, activation="relu", name="fc1")
    out = paddle.static.nn.fc(h, 2, name="fc2") + paddle.static.nn.fc(y, 2, name="fcy")
    # A bool fetch (normalize_program adds no scale op for it), True and False for the run's feeds.
    nonzero = paddle.cast(paddle.nn.functional.relu(out + 4.0), "bool")
    paddle.static.create_parameter([5], "float32", name="unused.w")
    loss = paddle.mean(paddle.square(out - label))
    paddle.optimizer.SGD(learning_rate=0.1).minimize(loss)
    values = {
        "fc1.w_0": ramp([4, 3], salt=1), "fc1.b_0": ramp([3], salt=2),
        "fc2.w_0": ramp([3, 2], salt=3), "fc2.b_0": ramp([2], salt=4),
        "fcy.w_0": ramp([4, 2], salt=5), "fcy.b_0": ramp([2], salt=6),
        "unused.w": ramp([5], salt=7),
    }
    return [y, x], [out, nonzero], values


def inference_vectors(v: Vectors) -> None:
    feed_values = {"x": ramp([2, 4], salt=9), "y": ramp([2, 4], salt=11)}
    saved = sorted(n for n in _inference_net_names() if n != "unused.w")
    for vid, layout in (("inference-dir", "dir"), ("inference-combined", "combined")):
        d = v.dir(vid)
        with kit.fresh() as (main, startup, scope, exe):
            feeds, fetches, values = _inference_net()
            exe.run(startup)
            for name, array in values.items():
                scope.find_var(name).get_tensor().set(array, kit.PLACE)
            if layout == "dir":
                # Fluid's dirname layout: __model__ + one file per persistable of the pruned program.
                pruned = kit.io.normalize_program(main, feeds, fetches)
                model = pruned._remove_training_info(clip_extra=True).desc.serialize_to_string()
                kit.io.save_to_file(os.path.join(d, "__model__"), model)
                kit.dist_io.save_persistables(exe, d, pruned)
            else:
                paddle.static.save_inference_model(os.path.join(d, "model"), feeds, fetches, exe,
                                                   program=main)
        written = kit.files_under(d)
        with kit.fresh() as (_m, _s, scope, exe):
            if layout == "dir":
                program, feed_names, fetch_targets = \
                    kit.dist_io.load_inference_model_distributed(d, exe)
            else:
                program, feed_names, fetch_targets = \
                    paddle.static.load_inference_model(os.path.join(d, "model"), exe)
            outputs = exe.run(program, feed=feed_values, fetch_list=fetch_targets)
            for name in saved:
                got, _lod = kit.get_tensor(scope, name)
                if got.tobytes() != values[name].tobytes():
                    raise AssertionError(f"{vid}: {name} loaded as {got!r}")
        fetch_names = [t.name for t in fetch_targets]
        run = {
            "feed": {n: v.var(vid + "-run", n, a)["values"] for n, a in feed_values.items()},
            "fetch": [v.var(vid + "-run", n, np.asarray(a))["values"]
                      for n, a in zip(fetch_names, outputs, strict=True)],
            "note": "inputs and weights are multiples of 1/8, so float32 results are exact",
        }
        if layout == "dir":
            extra = {"dirname": vid, "model_filename": None, "params_filename": None,
                     "model": f"{vid}/__model__",
                     "api": "normalize_program + _remove_training_info(clip_extra=True) + "
                            "serialize + paddle.distributed.io.save_persistables; loaded with "
                            "load_inference_model_distributed"}
        else:
            extra = {"dirname": vid, "model_filename": "model.pdmodel",
                     "params_filename": "model.pdiparams", "model": f"{vid}/model.pdmodel",
                     "params": f"{vid}/model.pdiparams",
                     "api": "paddle.static.save_inference_model(path_prefix); loaded with "
                            "paddle.static.load_inference_model(path_prefix)"}
        v.add(vid, "inference_model",
              f"inference model, {layout} layout: feeds given [y, x]; fetches [fc2+fcy, cast("
              "relu(fc2+fcy+4), bool)]; unused.w and the SGD learning rate are pruned; Paddle 2.6.2 appends a "
              "scale op for the non-bool fetch (save_infer_model/scale_0)",
              REC + ["PROG-SCHEMA-001", "PROG-SER-001", "PROG-VER-001"]
              + (["FMT-COMB-001"] if layout == "combined" else ["SEL-FILE-001"]),
              [v.var(vid, n, values[n]) for n in saved],
              feed_target_names=list(feed_names), fetch_target_names=fetch_names,
              files_written=written, order=saved if layout == "combined" else None,
              run=run, **extra)


def _inference_net_names() -> list[str]:
    with kit.fresh():
        return list(_inference_net()[2])


# ------------------------------------------------------------------------------------------


def generate(out: str) -> Vectors:
    if os.path.exists(out) and os.listdir(out):
        raise SystemExit(f"{out} is not empty; give a new or empty directory")
    os.makedirs(out, exist_ok=True)
    v = Vectors(out)
    dtype_vectors(v)
    all_dtypes(v)
    shape_and_lod_vectors(v)
    selected_rows_vectors(v)
    name_vectors(v)
    filtering_vectors(v)
    inference_vectors(v)
    v.write_manifest()
    return v


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    v = generate(argv[0])
    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _d, fs in os.walk(argv[0]) for f in fs)
    print(f"{len(v.entries)} vectors, {size} bytes in {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
