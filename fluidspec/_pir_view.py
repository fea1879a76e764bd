"""What ``fluidspec inspect`` shows for a Paddle 3 PIR program (the ``.json`` of
``save_inference_model`` and ``jit.save`` in Paddle 3.x).

The layout read here is the one Paddle 3.3.1 writes (paddle/fluid/pir/serialize_deserialize):
``{"base_code": {"magic": "pir", "version": N}, "program": {"regions": [{"blocks": [{"ops":
[...]}]}]}}``; an op is ``{"#": type, "A": attributes, "I": inputs, "O": outputs}``, and a
parameter op (``"#": "p"``) carries its variable name as the last element of ``"A"`` and its
type in ``"O"``.  The names of the parameters are what names the records of the
``.pdiparams`` beside the program.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fluidspec.spec.errors import BadProgramError

__all__ = ["pir_view", "render_pir", "parameter_names"]

_PARAMETER_OP = "p"


def _ops(region_holder: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every op of every block of every region, nested regions (control flow) included."""
    for region in region_holder.get("regions", []):
        for block in region.get("blocks", []):
            for op in block.get("ops", []):
                yield op
                yield from _ops(op)


def _tensor_type(out: Any) -> tuple[str | None, list[int] | None]:
    """(element type, dims) of an op result, e.g. ``("f32", [4, 3])``; Nones when not a tensor."""
    if isinstance(out, list):
        out = out[0] if out else {}
    tt = out.get("TT", {}) if isinstance(out, dict) else {}
    data = tt.get("D")
    if not isinstance(data, list) or len(data) < 2:
        return None, None
    dtype = data[0].get("#", "") if isinstance(data[0], dict) else ""
    return dtype.split(".t_")[-1] or None, list(data[1])


def _attrs(op: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for attr in op.get("A", []):
        if isinstance(attr, dict) and "N" in attr:
            out[attr["N"]] = attr.get("AT", {}).get("D")
    return out


def pir_view(buf: bytes, path: str | None = None) -> dict[str, Any]:
    """Everything inspect reports about a PIR program, as one JSON-able object."""
    try:
        doc = json.loads(buf)
        program = doc["program"]
        version = doc.get("base_code", {}).get("version")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadProgramError(f"not a readable PIR program ({type(exc).__name__}: {exc})",
                              path=path, expected="PIR JSON with a 'program'") from None
    op_types: dict[str, int] = {}
    inputs, outputs, parameters = [], [], []
    for op in _ops(program):
        kind = str(op.get("#"))
        op_types[kind] = op_types.get(kind, 0) + 1
        if kind == _PARAMETER_OP:
            names = [a for a in op.get("A", []) if isinstance(a, str)]
            dtype, dims = _tensor_type(op.get("O"))
            parameters.append({"name": names[-1] if names else None, "dtype": dtype, "dims": dims})
        elif kind.endswith(".data"):
            dtype, dims = _tensor_type(op.get("O"))
            inputs.append({"name": _attrs(op).get("name"), "dtype": dtype, "dims": dims})
        elif kind.endswith(".fetch"):
            attrs = _attrs(op)
            outputs.append({"name": attrs.get("name"), "col": attrs.get("col")})
    return {
        "path": path,
        "kind": "PIRProgram",
        "size": len(buf),
        "version": version,
        "ops": sum(op_types.values()),
        "op_types": op_types,
        "inputs": inputs,
        "outputs": outputs,
        "parameters": parameters,
    }


def parameter_names(view: dict[str, Any]) -> list[str]:
    """The parameters' names, as the records of the params file beside it are named."""
    return [p["name"] for p in view["parameters"] if p["name"] is not None]


def render_pir(view: dict[str, Any]) -> str:
    """The text ``fluidspec inspect`` prints for a PIR program."""
    def tensor(t: dict[str, Any]) -> str:
        return f"{t['name']} {t['dtype']} {t['dims']}"

    types = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in view["op_types"].items())
    return "\n".join([
        f"{view['path']}: PIR program (Paddle 3 JSON), {view['size']} bytes, "
        f"version {view['version']}, {view['ops']} op(s)",
        f"  ops: {types or 'none'}",
        f"  inputs: {', '.join(tensor(t) for t in view['inputs']) or 'none'}",
        "  outputs: " + (", ".join(f"col {t['col']}: {t['name']}" for t in view["outputs"])
                         or "none"),
        f"  parameters ({len(view['parameters'])}): "
        + (", ".join(tensor(t) for t in view["parameters"]) or "none"),
    ])
