"""A protocol server (spec/chapters/protocol.md, ``fluidspec-conformance/1``) for OpenVINO's Paddle
frontend, a reader of Fluid inference models.

    fluidspec conformance --impl openvino

Runs inside ``.venv-openvino`` (scripts/_openvino_env.sh) and imports only openvino, numpy and the
standard library.  It claims ``load_inference_model`` alone: OpenVINO writes no Fluid format.

How each layout of ``load_inference_model`` (PROTO-RUN-002) reaches OpenVINO 2026.4:

===========================  ====================================================================
Fluid call                   OpenVINO call made here
===========================  ====================================================================
dirname (``__model__`` and   Paddle frontend ``load(dirname)`` + ``convert`` (the frontend's
separate parameter files)    "old PaddlePaddle API" layout).  ``Core.read_model(dirname)`` is not
                             used: it hands a directory to the TensorFlow frontend (measured).
combined (model_filename     the two files linked as ``model.pdmodel`` / ``model.pdiparams`` in a
and params_filename)         scratch folder, then frontend ``load`` + ``convert``: the frontend
                             pairs a model with its weights by that naming only, and
                             ``Core.read_model(model, weights)`` refuses other names (measured)
memory (dirname null)        ``Core.read_model(model_bytes, Tensor(params_bytes))``
model_filename with          UNSUPPORTED_REQUEST: the frontend reads separate parameter files only
separate parameter files     beside a model named ``__model__``
===========================  ====================================================================

What a load returns (PROTO-RUN-003).  ``feed_target_names`` and ``fetch_target_names`` are the
converted model's inputs and outputs.  The scope holds, under their variable names, the values
OpenVINO holds for the persistable variables: the ``Constant`` nodes of the frontend's ``decode``
of the same files (decode keeps one named Constant per persistable; the converted graph may fold
them).  The program lists what OpenVINO exposes of the ProgramDesc: the feed, parameter and op
output variables of block 0; OpenVINO keeps no Paddle op types, LoD levels or sub-blocks, so
``ops`` is empty and every ``lod_level`` 0 (the protocol chapter's note on readers says how the
suite treats that).

Errors.  OpenVINO raises RuntimeError/GeneralFailure/OpConversionFailure with its own text;
``OPENVINO_ERRORS`` maps the messages whose meaning is unambiguous to taxonomy ids, anything else
is UNCLASSIFIED (PROTO-ERR-001).  An op type the frontend cannot convert ("No creator found for
mul node") has no taxonomy id and stays UNCLASSIFIED.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Mapping
from typing import IO, Any

# The protocol owns stdout (PROTO-TRANSPORT-001); OpenVINO's C++ logging writes to fd 1 and 2, so
# the protocol gets a private duplicate of fd 1 and fd 1 itself is pointed at stderr.
_PROTOCOL_OUT = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

import numpy as np  # noqa: E402
import openvino as ov  # noqa: E402
from openvino.frontend import FrontEndManager  # noqa: E402

PROTOCOL = "fluidspec-conformance/1"
APIS = ["load_inference_model"]

# OpenVINO element type names -> protocol (numpy / ml_dtypes) dtype names (PROTO-VALUE-001).
_DTYPES = {"f32": "float32", "f64": "float64", "f16": "float16", "bf16": "bfloat16",
           "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64", "u8": "uint8",
           "u16": "uint16", "u32": "uint32", "u64": "uint64", "boolean": "bool",
           "f8e4m3": "float8_e4m3fn", "f8e5m2": "float8_e5m2"}

# (pattern in OpenVINO's message, taxonomy id).  First match wins.
OPENVINO_ERRORS: list[tuple[str, str]] = [
    (r"Model file doesn't exist|Cannot open file for constant value|Could not open the file|"
     r"weight file doesn't exist", "MISSING_FILE"),
    (r"wasn't successfully read|Failed to read TensorDesc data", "TRUNCATED"),
    (r"TensorDesc size is invalid", "BAD_TENSOR_DESC"),
    (r"Cannot convert PDPD type", "UNSUPPORTED_DTYPE"),
    (r"var_desc\.type\(\)\.type\(\) == \S*LOD_TENSOR", "UNSUPPORTED_VAR_TYPE"),
    (r"Model can't be parsed|Unable to read the model|Only Support Paddle greater than",
     "BAD_PROGRAM"),
]


class Unsupported(Exception):
    """A request this server cannot serve (PROTO-ERR-002)."""


class Refused(Exception):
    """A load this server refuses before OpenVINO sees it, with its taxonomy id."""

    def __init__(self, error: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.error, self.path = error, path


def error_of(exc: BaseException, model_path: str | None = None,
             params_path: str | None = None) -> dict[str, Any]:
    """The protocol error object for an OpenVINO exception (PROTO-ERR-001)."""
    if isinstance(exc, Unsupported):
        return {"error": "UNSUPPORTED_REQUEST", "message": str(exc)}
    if isinstance(exc, Refused):
        return {"error": exc.error, "message": str(exc), "path": exc.path}
    text = str(exc)
    error = next((eid for pattern, eid in OPENVINO_ERRORS if re.search(pattern, text)),
                 "UNCLASSIFIED")
    # OpenVINO says "weight file doesn't exist" when the params stream ends before the next
    # record too: the file is there, so the stream was cut short.
    if (error == "MISSING_FILE" and "weight file doesn't exist" in text and params_path
            and os.path.isfile(params_path)):
        error = "TRUNCATED"
    # OpenVINO wraps its text in "Exception from <file>" and "FrontEnd API failed with" lines.
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not re.match(
        r"Exception from |FrontEnd API failed with \w+:?$", ln.strip())]
    out: dict[str, Any] = {"error": error, "type": type(exc).__name__,
                           "message": " ".join(lines)[:2000]}
    if error == "BAD_PROGRAM" and model_path:
        out["path"] = model_path
    elif error in ("TRUNCATED", "MISSING_FILE") and params_path:
        out["path"] = params_path
    if error == "UNCLASSIFIED":
        out["traceback"] = "".join(traceback.format_exception(exc)[-4:])[-4000:]
    return out


# ------------------------------------------------------------------------------------------
# Reading a model


def _frontend() -> Any:
    return FrontEndManager().load_by_framework("paddle")


def _linked_pair(scratch: str, model_path: str, params_path: str) -> str:
    """``scratch/model.pdmodel`` and ``.pdiparams`` pointing at the two files; the .pdmodel path."""
    link = os.path.join(scratch, "model.pdmodel")
    os.symlink(os.path.abspath(model_path), link)
    os.symlink(os.path.abspath(params_path), os.path.join(scratch, "model.pdiparams"))
    return link


def _require_file(path: str) -> None:
    if not os.path.isfile(path):
        raise Refused("MISSING_FILE", f"{path} does not exist", path)


def read_inference_model(call: Mapping[str, Any], scratch: str) -> tuple[Any, Any]:
    """(converted ov.Model, the frontend's decoded model) for one ``load_inference_model`` call;
    ``scratch`` is an empty folder the caller removes afterwards."""
    fe = _frontend()
    dirname = call.get("dirname")
    if dirname is None:
        model_b64, params_b64 = call.get("model_memory"), call.get("params_memory")
        if model_b64 is None or params_b64 is None:
            raise Refused("INVALID_ARGUMENT", "memory mode needs model_memory and params_memory")
        model_bytes, params_bytes = base64.b64decode(model_b64), base64.b64decode(params_b64)
        weights = ov.Tensor(np.frombuffer(params_bytes, np.uint8).copy())
        model = ov.Core().read_model(model_bytes, weights)
        # decode reads files only: the same bytes, written aside, give the Constants' values.
        for name, data in (("m.pdmodel", model_bytes), ("m.pdiparams", params_bytes)):
            with open(os.path.join(scratch, name), "wb") as fh:
                fh.write(data)
        return model, fe.decode(fe.load(os.path.join(scratch, "m.pdmodel")))
    model_name, params_name = call.get("model_filename"), call.get("params_filename")
    if not os.path.isdir(dirname):
        raise Refused("MISSING_FILE", f"{dirname} is not a directory", dirname)
    if params_name is None:
        if model_name not in (None, "__model__"):
            raise Unsupported("OpenVINO's Paddle frontend reads separate parameter files only "
                              "beside a model named __model__")
        _require_file(os.path.join(dirname, "__model__"))
        return fe.convert(fe.load(dirname)), fe.decode(fe.load(dirname))
    model_path = os.path.join(dirname, model_name or "__model__")
    params_path = os.path.join(dirname, params_name)
    # A missing params file is OpenVINO's to report: a model without persistables needs none
    # (a Fluid save of no persistables writes no file).
    _require_file(model_path)
    link = _linked_pair(scratch, model_path, params_path)
    return fe.convert(fe.load(link)), fe.decode(fe.load(link))


def _files_of(call: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The model and (combined) params paths a call names, for the error's ``path``."""
    dirname = call.get("dirname")
    if dirname is None:
        return None, None
    model = os.path.join(dirname, call.get("model_filename") or "__model__")
    params = call.get("params_filename")
    return model, os.path.join(dirname, params) if params else None


# ------------------------------------------------------------------------------------------
# What a load returns (PROTO-VALUE-001, PROTO-PROG-002, PROTO-RUN-003)


def _dtype_name(element_type: Any) -> str:
    name = element_type.get_type_name()
    return _DTYPES.get(name, name)


def constant_value(node: Any) -> dict[str, Any]:
    """A Constant's value as a protocol tensor; its bytes as OpenVINO holds them."""
    data = np.ascontiguousarray(node.get_tensor_view().data)
    return {"kind": "LOD_TENSOR", "dtype": _dtype_name(node.get_element_type()),
            "shape": [int(d) for d in node.get_output_shape(0)], "lod": [],
            "data": base64.b64encode(data.view(np.uint8).tobytes()).decode("ascii")}


def loaded_values(decoded: Any) -> dict[str, dict[str, Any]]:
    """The persistables' values: the named Constants of the decoded model."""
    return {node.get_friendly_name(): constant_value(node) for node in decoded.get_ordered_ops()
            if node.get_type_name() == "Constant"}


def _var(name: str, element_type: Any, shape: Any, persistable: bool) -> dict[str, Any]:
    dims = [d.get_length() if d.is_static else -1 for d in shape] if shape.rank.is_static else None
    return {"name": name, "block": 0, "kind": "LOD_TENSOR", "dtype": _dtype_name(element_type),
            "shape": dims, "lod_level": 0, "persistable": persistable, "is_parameter": False}


def program_of(decoded: Any) -> dict[str, Any]:
    """The variables OpenVINO exposes, in the protocol's program form; no ops (see the module
    docstring)."""
    seen: dict[str, dict[str, Any]] = {}
    for node in decoded.get_ordered_ops():
        kind = node.get_type_name()
        if kind == "Result":
            continue
        if kind == "Constant":
            seen.setdefault(node.get_friendly_name(), _var(
                node.get_friendly_name(), node.get_element_type(),
                node.get_output_partial_shape(0), True))
            continue
        for out in node.outputs():
            for name in sorted(out.get_names()):
                seen.setdefault(name, _var(name, out.get_element_type(),
                                           out.get_partial_shape(), False))
    return {"blocks": [{"parent": -1}], "vars": list(seen.values()), "ops": []}


def load_inference_model(call: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The protocol result and the loaded scope of one ``load_inference_model``."""
    with tempfile.TemporaryDirectory(prefix="fluidspec-openvino-") as scratch:
        model, decoded = read_inference_model(call, scratch)
        result = {"program": program_of(decoded),
                  "feed_target_names": [p.get_any_name() for p in model.inputs],
                  "fetch_target_names": [r.get_any_name() for r in model.outputs]}
        return result, loaded_values(decoded)


# ------------------------------------------------------------------------------------------
# The protocol


def run(request: Mapping[str, Any]) -> dict[str, Any]:
    """PROTO-RUN-001.  The request's program and scope do not reach OpenVINO (it reads files
    only), so the scope answered is the request's values plus what the load produced."""
    call = request.get("call") or {}
    if call.get("api") != "load_inference_model":
        raise Unsupported(f"OpenVINO implements load_inference_model only, not {call.get('api')!r}")
    before = dict(request.get("scope") or {})
    try:
        result, loaded = load_inference_model(call)
    except Unsupported:
        raise
    except Exception as exc:  # every failure is reported, never raised (PROTO-ERR-001)
        return {"ok": False, "error": error_of(exc, *_files_of(call)), "scope": before}
    return {"ok": True, "result": result, "warnings": [], "scope": {**before, **loaded}}


def handle(request: Mapping[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "hello":  # PROTO-HELLO-001
        if request.get("protocol") != PROTOCOL:
            return {"ok": False, "error": {"error": "UNSUPPORTED_PROTOCOL",
                                           "message": f"this server speaks {PROTOCOL}",
                                           "found": request.get("protocol")}}
        return {"ok": True, "protocol": PROTOCOL,
                "implementation": {"name": "openvino", "version": ov.__version__.split("-")[0]},
                "apis": list(APIS),
                # No SelectedRows (the frontend requires every persistable to be a LOD_TENSOR)
                # and no saving at all: nothing beyond the protocol itself is claimed.
                "capabilities": []}
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
