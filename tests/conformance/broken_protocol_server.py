"""A protocol server that breaks the schema: the reference server with one kind of damage done to
every ``run`` response.  ``python broken_protocol_server.py shape-abc|no-warnings|id-string-lod``.

test_protocol_schema.py starts it with ``--impl "cmd:…"`` to show that such a server fails only
PROTO clauses.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fluidspec.conformance._discovery import resolve
from fluidspec.conformance.server import _handle


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
        if request.get("op") == "run":
            reply = _damage(reply, how)
        print(json.dumps({"id": request["id"], **reply}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
