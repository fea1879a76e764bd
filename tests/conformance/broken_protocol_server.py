"""A protocol server that breaks the schema: the reference server with one kind of damage done to
every ``run`` response.  ``python broken_protocol_server.py DAMAGE`` with DAMAGE one of
``shape-abc``, ``no-warnings``, ``lod-strings``, ``stdout-noise``, ``hello-apis-as-text``,
``error-without-scope``, ``error-as-text``, ``program-without-ops`` (``DAMAGES``).

test_protocol_schema.py starts it with ``--impl "cmd:…"`` to show that such a server fails only
PROTO clauses.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fluidspec.conformance._discovery import resolve
from fluidspec.conformance.server import _handle

#: Each damage and the protocol clause the suite must catch it on.
DAMAGES = {
    "shape-abc": "PROTO-VALUE-001",
    "no-warnings": "PROTO-RUN-001",
    "lod-strings": "PROTO-VALUE-001",
    "stdout-noise": "PROTO-TRANSPORT-001",
    "hello-apis-as-text": "PROTO-HELLO-001",
    "error-without-scope": "PROTO-RUN-001",
    "error-as-text": "PROTO-ERR-001",
    "program-without-ops": "PROTO-PROG-002",
}


def _damage(reply: dict[str, Any], how: str) -> dict[str, Any]:
    if how == "shape-abc":
        for value in (reply.get("scope") or {}).values():
            value["shape"] = "abc"
    elif how == "no-warnings":
        reply.pop("warnings", None)
    elif how == "lod-strings":
        for value in (reply.get("scope") or {}).values():
            if value.get("kind") == "LOD_TENSOR":
                value["lod"] = ["0,1"]
    elif how in ("stdout-noise", "hello-apis-as-text"):
        pass  # done by main(): an extra line, or the hello answer
    elif how == "error-without-scope":
        if reply.get("ok") is False:
            reply.pop("scope", None)
    elif how == "error-as-text":
        if reply.get("ok") is False:
            reply["error"] = str((reply.get("error") or {}).get("message"))
    elif how == "program-without-ops":
        program = (reply.get("result") or {}).get("program")
        if isinstance(program, dict):
            program["ops"] = []
    else:
        raise SystemExit(f"unknown damage {how!r}")
    return reply


def main() -> int:
    how = sys.argv[1]
    adapter = resolve("reference")
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("op") == "shutdown":
            print(json.dumps({"id": request["id"], "ok": True}), flush=True)
            return 0
        reply = _handle(adapter, request)
        if request.get("op") == "hello" and how == "hello-apis-as-text":
            reply["apis"] = " ".join(reply.get("apis") or [])
        if request.get("op") == "run":
            reply = _damage(reply, how)
            if how == "stdout-noise":  # a log line on stdout, which belongs to the protocol
                print("saving variables ...", flush=True)
        print(json.dumps({"id": request["id"], **reply}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
