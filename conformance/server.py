"""The worked example of a protocol server (spec/chapters/protocol.md).

    python -m fluidspec.conformance.server --impl reference      # serve the reference on stdin/stdout
    python -m fluidspec.conformance.server --impl numba --place cuda

It serves any in-process adapter (``--impl`` as in ``fluidspec conformance``), so it is also how
the suite runs an implementation in a separate process — e.g. numba's CUDA kernels under the
simulator, where ``NUMBA_ENABLE_CUDASIM`` must be set before numba is imported.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from fluidspec.conformance._adapter import Adapter, AdapterUnavailable, error_of
from fluidspec.conformance._case import PROTOCOL, Call, ProgramSpec, value_from_json

__all__ = ["serve", "main"]


def _handle(adapter: Adapter, request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "hello":  # PROTO-HELLO-001
        if request.get("protocol") != PROTOCOL:
            return {"ok": False, "error": {"error": "UNSUPPORTED_PROTOCOL",
                                           "message": f"this server speaks {PROTOCOL}",
                                           "found": request.get("protocol")}}
        hello = adapter.hello()
        if isinstance(hello.get("capabilities"), list):
            # Behind the protocol the in-process objects are out of reach (spec.CAPABILITIES).
            hello["capabilities"] = [c for c in hello["capabilities"] if c != "fluid_objects"]
        return {"ok": True, **hello}
    if op == "run":  # PROTO-RUN-001
        program = ProgramSpec.from_json(request["program"])
        scope = {k: value_from_json(v) for k, v in (request.get("scope") or {}).items()}
        call = Call.from_json(request["call"])
        return adapter.run(program, scope, call).to_json()
    return {"ok": False, "error": {"error": "UNSUPPORTED_REQUEST",
                                   "message": f"unknown op {op!r}"}}  # PROTO-ERR-002


def serve(adapter: Adapter, stdin: IO[str], stdout: IO[str]) -> int:
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
            reply = _handle(adapter, request)
        except AdapterUnavailable as exc:
            reply = {"ok": False, "error": {"error": "UNSUPPORTED_REQUEST", "message": str(exc)}}
        except Exception as exc:  # a malformed request must not end the server (PROTO-ERR-002)
            reply = {"ok": False, "error": {**error_of(exc), "error": "UNSUPPORTED_REQUEST"}}
        stdout.write(json.dumps({"id": rid, **reply}, ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fluidspec.conformance.server", description=__doc__)
    parser.add_argument("--impl", default="reference", help="in-process implementation to serve")
    parser.add_argument("--place", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args(argv)
    from fluidspec.conformance._discovery import resolve

    adapter = resolve(args.impl, place=args.place)
    # Implementation output (prints, numba logs) must never reach the protocol channel.
    protocol_out, sys.stdout = sys.stdout, sys.stderr
    try:
        return serve(adapter, sys.stdin, protocol_out)
    finally:
        sys.stdout = protocol_out


if __name__ == "__main__":
    sys.exit(main())
