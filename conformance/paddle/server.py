"""A protocol server (spec/chapters/protocol.md, ``fluidspec-conformance/1``) for REAL PaddlePaddle.

    fluidspec conformance --impl "cmd:.venv-paddle/bin/python conformance/paddle/server.py"

Runs inside ``.venv-paddle`` (scripts/_paddle_env.sh) and imports only paddle, numpy and the
standard library.  Each ``run`` builds a fresh static-mode (legacy IR) Program and Scope, sets the
values, and calls the Paddle 2.6.2 equivalent of one Fluid API (PROTO-RUN-002):

=======================  ===========================================================================
Fluid API                Paddle 2.6.2 call made here
=======================  ===========================================================================
save_vars / load_vars    paddle.static.io.save_vars / load_vars
save_params              paddle.static.io.save_vars(predicate=paddle.static.io.is_parameter)
load_params              paddle.static.io.load_vars(predicate=paddle.static.io.is_parameter)
save/load_persistables   paddle.distributed.io.save_persistables / load_persistables
save_inference_model     normalize_program + _remove_training_info(clip_extra=True) + serialize to
                         dirname/(model_filename or __model__) + paddle.distributed.io.
                         save_persistables(dirname, pruned, params_filename) — Fluid's layout
load_inference_model     paddle.static.load_inference_model(dirname, model_filename=basename,
                         params_filename=basename) — Paddle 2.6.2's dirname loader, i.e.
                         load_inference_model_distributed plus the .pdmodel/.pdiparams preference
                         (INF-LOAD-002); memory mode (dirname null) paddle.static.
                         load_inference_model(None, model_filename=<bytes>, params_filename=<bytes>)
=======================  ===========================================================================

Errors.  Paddle raises RuntimeError/ValueError/... with its own messages.  ``PADDLE_ERRORS`` maps
the messages whose meaning is unambiguous to taxonomy ids (keeping Paddle's text in ``message``
and its class in ``type``); anything else is ``UNCLASSIFIED`` (PROTO-ERR-001), which the suite
counts against ERR-001.

Crashes.  Paddle 2.6.2 segfaults on a combined save of a SelectedRows or a non-empty tensor array
(measured).  This server does not guard against it: the process dies, and the client
(conformance/_subprocess.py) reports CRASHED for that request and starts a new server
(PROTO-ERR-003).  Nothing here keeps state across requests, so a restart loses nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import IO, Any

# The protocol owns stdout (PROTO-TRANSPORT-001).  Paddle and its C++ core print to fd 1 too, so the
# protocol gets a private duplicate of fd 1 and fd 1 itself is pointed at stderr before paddle loads.
_PROTOCOL_OUT = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

# Paddle 3.x defaults to PIR, which has no ProgramDesc, no block.create_var and drops save_vars'
# predicate; the legacy IR is chosen only by this variable set before `import paddle`
# (paddle.set_flags at run time does not switch).  Paddle 2.6.2 reads it too, with 0 its default.
os.environ["FLAGS_enable_pir_api"] = "0"

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _paddle_kit as kit  # noqa: E402
import paddle  # noqa: E402
from paddle.base.framework import convert_np_dtype_to_dtype_  # noqa: E402

PROTOCOL = "fluidspec-conformance/1"
APIS = ["save_vars", "load_vars", "save_params", "load_params", "save_persistables",
        "load_persistables", "save_inference_model", "load_inference_model"]

# numpy / ml_dtypes names of the protocol (PROTO-VALUE-001) -> how Paddle 2.6.2 holds them.
_HOLDER_DTYPES = {
    name: np.dtype(name) for name in ("bool", "int8", "int16", "int32", "int64", "uint8",
                                       "float16", "float32", "float64", "complex64", "complex128")
}
_HOLDER_DTYPES["bfloat16"] = np.dtype("uint16")  # bf16 bits; Paddle's 'uint16' is bfloat16
_HOLDER_DTYPES["uint16"] = np.dtype("uint16")  # FMT-DTYPE-003: numpy uint16 is written as BF16

# VarType.Type element names -> protocol dtype names, for programs Paddle loaded.
_ELEMENT_NAMES = {"BOOL": "bool", "INT8": "int8", "INT16": "int16", "INT32": "int32",
                  "INT64": "int64", "UINT8": "uint8", "FP16": "float16", "FP32": "float32",
                  "FP64": "float64", "BF16": "bfloat16", "COMPLEX64": "complex64",
                  "COMPLEX128": "complex128", "FP8_E4M3FN": "float8_e4m3fn",
                  "FP8_E5M2": "float8_e5m2", "UINT16": "uint16", "UINT32": "uint32",
                  "UINT64": "uint64"}

# Element types numpy cannot hold, which only Paddle 3.x has (FMT-DTYPE-001): str(tensor._dtype())
# -> (protocol dtype name, bytes per element).  Paddle 3.3.1 loads them, but np.array() of such a
# tensor fails ("cannot be expose to Python" for UINT16/32/64) or, for FP8, returns float32 values
# read past the 1-byte elements (measured), so their bytes are taken from Paddle's own serialisation
# of the loaded tensor instead (save_dense_tensor_to_memory: the element data is the record's tail).
_RAW_ONLY_DTYPES = {"paddle.float8_e4m3fn": ("float8_e4m3fn", 1),
                    "paddle.float8_e5m2": ("float8_e5m2", 1),
                    "VarType.UINT16": ("uint16", 2), "VarType.UINT32": ("uint32", 4),
                    "VarType.UINT64": ("uint64", 8)}

# Paddle 3.x renamed the tensor variable kinds; the protocol keeps the Fluid names.
_KIND_NAMES = {"DENSE_TENSOR": "LOD_TENSOR", "DENSE_TENSOR_ARRAY": "LOD_TENSOR_ARRAY"}

# (pattern in Paddle's message, taxonomy id).  First match wins; see the module docstring.
PADDLE_ERRORS: list[tuple[str, str]] = [
    (r"fails? to open file|There is no directory named|can not find at|No such file", "MISSING_FILE"),
    (r"Cannot read tensor desc size|error occurred while loading model parameters", "TRUNCATED"),
    (r"Cannot parse tensor desc|desc size should >= 0", "BAD_TENSOR_DESC"),
    (r"expected file format|tensor version \d+ is not supported", "BAD_VERSION"),
    (r"as tensor type|no kernels which are registered in the save operator|"
     r"Not supported numpy dtype|cannot hold dtype|data type '\w+' not understood",
     "UNSUPPORTED_DTYPE"),
    (r"Not allowed to load partial data", "TRAILING_BYTES"),
    (r"shape does not match", "SHAPE_MISMATCH"),
    (r"Tensor holds no memory|to be saved is not initialized", "UNINITIALIZED"),
    (r"SelectedRows can not be load with load_combine", "UNSUPPORTED_VAR_TYPE"),
    (r"provided (Legacy)?LoD is invalid", "INVALID_LOD"),  # 3.x says "LegacyLoD"
    (r"element number must be equal or greater than zero", "SIZE_OVERFLOW"),
    (r"doesn't exist in pruned inference program", "INVALID_ARGUMENT"),
    (r"Failed to parse program_desc", "BAD_PROGRAM"),
    (r"cannot be None when path_prefix is None|"
     r"directory path and params cannot be None at the same time", "INVALID_ARGUMENT"),
]


class Unsupported(Exception):
    """A request this server cannot serve (PROTO-ERR-002)."""


def error_of(exc: BaseException) -> dict[str, Any]:
    """The protocol error object for a Paddle exception (PROTO-ERR-001)."""
    if isinstance(exc, Unsupported):
        return {"error": "UNSUPPORTED_REQUEST", "message": str(exc)}
    text = str(exc)
    error = "UNCLASSIFIED"
    if not isinstance(exc, MemoryError):  # Paddle allocating from a lying header: no taxonomy id
        for pattern, eid in PADDLE_ERRORS:
            if re.search(pattern, text):
                error = eid
                break
    # Paddle's text starts with the Python op-creation stack; the error line is what matters.
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    headline = next((ln for ln in lines if re.match(r"\w*Error: ", ln)), lines[0] if lines else "")
    out = {"error": error, "type": type(exc).__name__, "message": headline[:2000]}
    if error == "UNCLASSIFIED":
        out["traceback"] = "".join(traceback.format_exception(exc)[-4:])[-4000:]
    return out


# ------------------------------------------------------------------------------------------
# Values (PROTO-VALUE-001/002)


def _array_from_json(obj: Mapping[str, Any]) -> np.ndarray:
    name = obj["dtype"]
    if name not in _HOLDER_DTYPES:
        raise ValueError(f"Paddle 2.6.2 cannot hold dtype {name} in a tensor")
    if obj.get("file"):
        with open(obj["file"], "rb") as fh:
            raw = fh.read()
    else:
        raw = base64.b64decode(obj.get("data") or "")
    holder = _HOLDER_DTYPES[name]
    le = holder.newbyteorder("<") if holder.itemsize > 1 else holder
    shape = tuple(int(d) for d in obj.get("shape") or [])
    return np.frombuffer(raw, dtype=le).astype(holder).reshape(shape)


def _array_to_json(array: np.ndarray, bf16: bool) -> dict[str, Any]:
    array = np.ascontiguousarray(array) if array.ndim else np.asarray(array)
    return {"dtype": "bfloat16" if bf16 else array.dtype.name, "shape": list(array.shape),
            "data": base64.b64encode(array.astype(array.dtype.newbyteorder("<"))
                                     .tobytes(order="C")).decode("ascii")}


def set_value(scope: Any, name: str, obj: Mapping[str, Any]) -> None:
    holder = scope.var(name)
    array = _array_from_json(obj)
    if obj.get("kind") == "SELECTED_ROWS":
        sr = holder.get_selected_rows()
        sr.set_rows([int(r) for r in obj.get("rows") or []])
        sr.set_height(int(obj["height"]))
        sr.get_tensor().set(array, kit.PLACE)
        return
    tensor = holder.get_tensor()
    tensor.set(array, kit.PLACE)
    if obj.get("lod"):
        tensor.set_lod([[int(o) for o in level] for level in obj["lod"]])


def get_value(scope: Any, name: str, kind: str | None) -> dict[str, Any] | None:
    holder = scope.find_var(name)
    if holder is None:
        return None
    if kind == "SELECTED_ROWS":
        sr = holder.get_selected_rows()
        tensor = sr.get_tensor()
        if not tensor._is_initialized():
            return None
        out = {"kind": "SELECTED_ROWS", "rows": [int(r) for r in sr.rows()],
               "height": int(sr.height())}
        out.update(_array_to_json(np.array(tensor), tensor._dtype() == paddle.bfloat16))
        return out
    if kind not in (None, "LOD_TENSOR"):
        return None
    tensor = holder.get_tensor()
    if not tensor._is_initialized():
        return None
    out = {"kind": "LOD_TENSOR", "lod": [[int(o) for o in level] for level in tensor.lod()]}
    raw_only = _RAW_ONLY_DTYPES.get(str(tensor._dtype()))
    if raw_only is None:
        out.update(_array_to_json(np.array(tensor), tensor._dtype() == paddle.bfloat16))
        return out
    name, itemsize = raw_only
    shape = [int(d) for d in tensor.shape()]
    nbytes = int(np.prod(shape, dtype=np.int64)) * itemsize
    record = bytes(paddle.base.core.save_dense_tensor_to_memory(tensor))
    out.update({"dtype": name, "shape": shape,
                "data": base64.b64encode(record[len(record) - nbytes:]).decode("ascii")})
    return out


def kind_name(var_type: Any) -> str:
    """The protocol's (Fluid) name of a variable kind, from Paddle's VarType."""
    return _KIND_NAMES.get(var_type.name, var_type.name)


# ------------------------------------------------------------------------------------------
# Programs (PROTO-PROG-001/002)


def build_program(spec: Mapping[str, Any]) -> tuple[Any, dict[str, Any], dict[str, str]]:
    """A Paddle Program from the protocol form; returns it, its Variables and their kinds."""
    prog = paddle.static.Program()
    for block in (spec.get("blocks") or [{"parent": -1}])[1:]:
        prog._create_block(parent_idx=int(block.get("parent", 0)))
        prog._rollback()
    pvars: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for v in spec.get("vars") or []:
        block = prog.block(int(v.get("block", 0)))
        kw: dict[str, Any] = {"name": v["name"]}
        if v.get("shape") is not None:
            kw["shape"] = [int(d) for d in v["shape"]]
        if v.get("dtype") is not None:
            kw["dtype"] = v["dtype"]
        kind = v.get("kind") or "LOD_TENSOR"
        if v.get("is_parameter"):
            pvars[v["name"]] = block.create_parameter(**kw)
        else:
            kw.update(type=getattr(kit.VarType, kind), persistable=bool(v.get("persistable")))
            if kind in ("LOD_TENSOR", "LOD_TENSOR_ARRAY"):
                kw["lod_level"] = int(v.get("lod_level") or 0)
            pvars[v["name"]] = block.create_var(**kw)
        kinds[v["name"]] = kind
    _describe_readers(spec, pvars, kinds)
    for op in spec.get("ops") or []:
        block = prog.block(int(op.get("block", 0)))

        def var_for(name: str, block: Any = block) -> Any:
            if name not in pvars:
                pvars[name] = block.create_var(name=name, dtype="float32", shape=[-1])
                kinds[name] = "LOD_TENSOR"
            return pvars[name]

        attrs = {k: (prog.block(a["block"]) if isinstance(a, dict) and "block" in a else a)
                 for k, a in (op.get("attrs") or {}).items()}
        block.append_op(
            type=op["type"],
            inputs={s: [var_for(n) for n in names] for s, names in (op.get("inputs") or {}).items()},
            outputs={s: [var_for(n) for n in names]
                     for s, names in (op.get("outputs") or {}).items()},
            attrs=attrs,
        )
    return prog, pvars, kinds


def _describe_readers(spec: Mapping[str, Any], pvars: dict[str, Any], kinds: dict[str, str]
                      ) -> None:
    """Give each READER variable the dtypes, shapes and LoD levels of what its ``read`` ops
    output.  The abstract program has no such fields, and Paddle's ``read`` op refuses to be
    appended without them ("The number of input reader's dtypes do not match the output
    variable number")."""
    declared = {v["name"]: v for v in spec.get("vars") or []}
    for op in spec.get("ops") or []:
        if op.get("type") != "read":
            continue
        readers = (op.get("inputs") or {}).get("Reader") or []
        outs = [declared.get(n, {}) for n in (op.get("outputs") or {}).get("Out") or []]
        for name in readers:
            if kinds.get(name) != "READER":
                continue
            desc = pvars[name].desc
            desc.set_dtypes([convert_np_dtype_to_dtype_(o.get("dtype") or "float32")
                             for o in outs])
            desc.set_shapes([[int(d) for d in (o.get("shape") or [-1])] for o in outs])
            desc.set_lod_levels([int(o.get("lod_level") or 0) for o in outs])


def program_to_json(program: Any) -> dict[str, Any]:
    blocks, vars_, ops = [], [], []
    for bi, block in enumerate(program.blocks):
        blocks.append({"parent": int(block.parent_idx)})
        for v in block.vars.values():
            kind = kind_name(v.type)
            entry: dict[str, Any] = {"name": v.name, "block": bi, "kind": kind, "dtype": None,
                                     "shape": None, "lod_level": 0,
                                     "persistable": bool(v.persistable),
                                     "is_parameter": isinstance(v, paddle.base.framework.Parameter)}
            if kind in ("LOD_TENSOR", "SELECTED_ROWS", "LOD_TENSOR_ARRAY"):
                entry["dtype"] = _ELEMENT_NAMES.get(v.dtype.name, v.dtype.name)
                entry["shape"] = [int(d) for d in v.shape]
                if kind != "SELECTED_ROWS":
                    entry["lod_level"] = int(v.lod_level)
            vars_.append(entry)
        for op in block.ops:
            ops.append({"block": bi, "type": op.type,
                        "inputs": {s: list(op.input(s)) for s in op.input_names},
                        "outputs": {s: list(op.output(s)) for s in op.output_names},
                        "attrs": {"col": int(op.attr("col"))} if op.has_attr("col") else {}})
    return {"blocks": blocks, "vars": vars_, "ops": ops}


# ------------------------------------------------------------------------------------------
# Calls (PROTO-RUN-002/003)


def _predicate(spec: Any) -> Callable[[Any], bool] | None:
    if spec is None:
        return None
    if spec == "all":
        return lambda v: True
    if spec == "is_parameter":
        return kit.io.is_parameter
    if spec == "is_persistable":
        return kit.io.is_persistable
    if isinstance(spec, Mapping) and "names" in spec:
        wanted = set(spec["names"])
        return lambda v: v.name in wanted
    raise Unsupported(f"unknown predicate {spec!r}")


def _b64(call: Mapping[str, Any], key: str) -> bytes | None:
    value = call.get(key)
    return None if value is None else base64.b64decode(value)


def call_api(exe: Any, prog: Any, pvars: dict[str, Any], call: Mapping[str, Any]
             ) -> tuple[dict[str, Any], Any]:
    """Run one API; returns the protocol result and, for loaded models, the loaded Program."""
    api = call.get("api")
    dirname = call.get("dirname")
    filename = call.get("filename")
    if api in ("load_vars", "load_params", "load_persistables") and dirname is None:
        filename = _b64(call, "memory")
    if api in ("save_vars", "load_vars"):
        names = call.get("vars")
        chosen = None if names is None else [pvars[n] for n in names]
        fn = kit.io.save_vars if api == "save_vars" else kit.io.load_vars
        out = fn(exe, dirname, main_program=prog, vars=chosen,
                 predicate=_predicate(call.get("predicate")), filename=filename)
    elif api in ("save_params", "load_params"):
        fn = kit.io.save_vars if api == "save_params" else kit.io.load_vars
        out = fn(exe, dirname, main_program=prog, predicate=kit.io.is_parameter,
                 filename=filename)
    elif api in ("save_persistables", "load_persistables"):
        fn = getattr(kit.dist_io, api)
        out = fn(exe, dirname, main_program=prog, filename=filename)
    elif api == "save_inference_model":
        return save_inference_model(exe, prog, pvars, call), None
    elif api == "load_inference_model":
        if dirname is None:
            program, feeds, fetches = paddle.static.load_inference_model(
                None, exe, model_filename=_b64(call, "model_memory"),
                params_filename=_b64(call, "params_memory"))
        else:
            # Paddle 2.6.2's dirname loader ("old way" of paddle.static.load_inference_model,
            # chosen by passing the keyword arguments) given Fluid's basenames: it is
            # load_inference_model_distributed plus the <name>.pdmodel / <name>.pdiparams
            # preference INF-LOAD-002 describes.
            model, params = call.get("model_filename"), call.get("params_filename")
            program, feeds, fetches = paddle.static.load_inference_model(
                dirname, exe, model_filename=os.path.basename(model) if model else None,
                params_filename=os.path.basename(params) if params else None)
        return {"program": program_to_json(program), "feed_target_names": list(feeds),
                "fetch_target_names": [v.name for v in fetches]}, program
    else:
        raise Unsupported(f"unknown api {api!r}")
    if api.startswith("save") and out is not None:
        return {"memory": base64.b64encode(bytes(out)).decode("ascii")}, None
    return {}, None


def save_inference_model(exe: Any, prog: Any, pvars: dict[str, Any], call: Mapping[str, Any]
                         ) -> dict[str, Any]:
    """Fluid's dirname ``save_inference_model`` rebuilt from Paddle 2.6.2's parts."""
    dirname = call.get("dirname")
    if dirname is None:
        raise Unsupported("save_inference_model needs a dirname")
    if not call.get("export_for_deployment", True):
        raise Unsupported("export_for_deployment=False has no Paddle 2.6.2 equivalent")
    block = prog.global_block()
    feeds = [block.var(n) for n in call.get("feeded_var_names") or []]
    targets = [pvars[n] if n in pvars else block.var(n) for n in call.get("target_vars") or []]
    pruned = kit.io.normalize_program(prog, feeds, targets)
    model = pruned._remove_training_info(clip_extra=True).desc.serialize_to_string()
    os.makedirs(dirname, exist_ok=True)
    model_name = os.path.basename(call.get("model_filename") or "__model__")
    kit.io.save_to_file(os.path.join(dirname, model_name), model)
    if not call.get("program_only", False):
        params = call.get("params_filename")
        kit.dist_io.save_persistables(exe, dirname, pruned,
                                      os.path.basename(params) if params else None)
    fetch_ops = sorted((op for op in pruned.global_block().ops if op.type == "fetch"),
                       key=lambda op: op.attr("col"))
    return {"fetch_names": [op.input("X")[0] for op in fetch_ops]}


def run(request: Mapping[str, Any]) -> dict[str, Any]:
    """PROTO-RUN-001: fresh program and scope, set values, one call, report the scope."""
    initial = request.get("scope") or {}
    kinds: dict[str, str] = {}
    loaded = None
    result: dict[str, Any] = {}
    error: dict[str, Any] | None = None
    with kit.fresh() as (_main, _startup, scope, exe), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            prog, pvars, kinds = build_program(request.get("program") or {})
            for name, value in initial.items():
                set_value(scope, name, value)
            result, loaded = call_api(exe, prog, pvars, request.get("call") or {})
        except Exception as exc:  # every failure is reported, never raised (PROTO-ERR-001)
            error = error_of(exc)
        names = list(dict.fromkeys([*initial, *kinds]))
        if loaded is not None:
            for v in loaded.list_vars():
                kinds.setdefault(v.name, kind_name(v.type))
                names.append(v.name)
        after = {}
        for name in dict.fromkeys(names):
            kind = kinds.get(name)
            if name in initial and initial[name].get("kind") == "SELECTED_ROWS":
                kind = "SELECTED_ROWS"
            try:
                value = get_value(scope, name, kind)
            except Exception:  # a holder of another kind
                value = None
            if value is not None:
                after[name] = value
        warned = [str(w.message) for w in caught]
    if error is not None:
        return {"ok": False, "error": error, "scope": after}
    return {"ok": True, "result": result, "warnings": warned, "scope": after}


def handle(request: Mapping[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "hello":  # PROTO-HELLO-001
        if request.get("protocol") != PROTOCOL:
            return {"ok": False, "error": {"error": "UNSUPPORTED_PROTOCOL",
                                           "message": f"this server speaks {PROTOCOL}",
                                           "found": request.get("protocol")}}
        return {"ok": True, "protocol": PROTOCOL,
                "implementation": {"name": "paddle", "version": paddle.__version__},
                "apis": list(APIS),
                # Paddle 2.x dropped save_inference_model's Fluid 1.x options
                # (export_for_deployment=False, program_only=True): not claimed.
                "capabilities": ["selected_rows"]}
    if op == "run":
        return run(request)
    raise Unsupported(f"unknown op {op!r}")


def serve(stdin: IO[str], stdout: IO[str]) -> int:
    """Answer requests until end of input or ``shutdown`` (PROTO-TRANSPORT-001/002)."""
    for line in stdin:
        if not line.strip():
            continue
        rid: Any = None
        try:
            request = json.loads(line)
            rid = request.get("id")
            if request.get("op") == "shutdown":
                stdout.write(json.dumps({"id": rid, "ok": True}) + "\n")
                stdout.flush()
                return 0
            reply = handle(request)
        except Exception as exc:  # a request we cannot parse or serve (PROTO-ERR-002)
            reply = {"ok": False, "error": {**error_of(exc), "error": "UNSUPPORTED_REQUEST"}}
        stdout.write(json.dumps({"id": rid, **reply}, ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(serve(sys.stdin, _PROTOCOL_OUT))
