"""Read an inference model with OpenVINO's Paddle frontend and run it once on the CPU (used by
tests/live/test_openvino_live.py).

    .venv-openvino/bin/python conformance/openvino/run_inference.py DIRNAME FEEDS.npz OUT.json \
        [--model-filename NAME] [--params-filename NAME] [--memory]

Reads the model exactly as server.py's ``load_inference_model`` does (``--memory``: DIRNAME's
two files are handed over as bytes, Fluid's memory mode), feeds the arrays of FEEDS.npz by name
and writes OUT.json: ``{"ok": true, "feed_target_names", "fetch_target_names", "outputs": {name:
{"dtype", "shape", "data" (hex)}}}``, or ``{"ok": false, "error": <protocol error object>}``
when OpenVINO refuses the model.  Imports only openvino, numpy and the standard library.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openvino as ov  # noqa: E402
import server  # noqa: E402


def _call(args: argparse.Namespace) -> dict[str, Any]:
    if not args.memory:
        return {"api": "load_inference_model", "dirname": args.dirname,
                "model_filename": args.model_filename, "params_filename": args.params_filename}
    blobs = {}
    for key, name in (("model_memory", args.model_filename), ("params_memory",
                                                              args.params_filename)):
        with open(os.path.join(args.dirname, name), "rb") as fh:
            blobs[key] = base64.b64encode(fh.read()).decode("ascii")
    return {"api": "load_inference_model", "dirname": None, **blobs}


def infer(call: dict[str, Any], feeds: dict[str, np.ndarray]) -> dict[str, Any]:
    """Read, compile and run once; the JSON answer described in the module docstring."""
    try:
        with tempfile.TemporaryDirectory(prefix="fluidspec-openvino-") as scratch:
            model, _decoded = server.read_inference_model(call, scratch)
    except Exception as exc:  # OpenVINO's refusal is the observation
        return {"ok": False, "error": server.error_of(exc, *server._files_of(call))}
    # The model's own precision: on CPUs with AVX512-BF16 or AMX the CPU plugin's default
    # inference precision is bf16 (measured on OpenVINO 2026.4.1), which moves softmax outputs
    # by ~1e-3 and would judge the hardware's arithmetic rather than the reader.
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    results = compiled(feeds)
    outputs = {}
    for port in compiled.outputs:
        array = np.ascontiguousarray(results[port])
        outputs[port.get_any_name()] = {"dtype": array.dtype.name, "shape": list(array.shape),
                                        "data": array.tobytes().hex()}
    return {"ok": True, "feed_target_names": [p.get_any_name() for p in model.inputs],
            "fetch_target_names": [r.get_any_name() for r in model.outputs], "outputs": outputs}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("dirname")
    parser.add_argument("feeds")
    parser.add_argument("out")
    parser.add_argument("--model-filename")
    parser.add_argument("--params-filename")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    with np.load(args.feeds) as npz:
        feeds = {name: npz[name] for name in npz.files}
    answer = infer(_call(args), feeds)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(answer, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
