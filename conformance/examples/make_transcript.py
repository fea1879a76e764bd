"""Record ``transcript.jsonl``: a complete session with ``python -m fluidspec.conformance.server``.

    python conformance/examples/make_transcript.py   # rewrites transcript.jsonl beside it

Lines starting with ``→`` are requests, ``←`` responses; ``tests/conformance/test_conformance_protocol.py``
replays the requests and checks the server still answers exactly the recorded responses;
``tests/conformance/test_protocol_schema.py`` checks every line against ``spec/protocol.schema.json``.
A recording whose responses break that schema is refused here rather than written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

W = {"name": "w", "block": 0, "kind": "LOD_TENSOR", "dtype": "float32", "shape": [2],
     "lod_level": 0, "persistable": True, "is_parameter": True}
PROGRAM = {"blocks": [{"parent": -1}], "vars": [W], "ops": []}
SAVED = "AAAAAAAAAAAAAAAAAAAAAAQAAAAIBRACAACAPwAAAEA="  # the record of float32 [1, 2]
REQUESTS = [
    {"id": 1, "op": "hello", "protocol": "fluidspec-conformance/1"},
    {"id": 2, "op": "run", "program": PROGRAM,
     "scope": {"w": {"kind": "LOD_TENSOR", "dtype": "float32", "shape": [2], "lod": [],
                     "data": "AACAPwAAAEA="}},
     "call": {"api": "save_params", "dirname": None, "filename": None}},
    {"id": 3, "op": "run", "program": PROGRAM, "scope": {},
     "call": {"api": "load_params", "dirname": None, "filename": None, "memory": SAVED}},
    {"id": 4, "op": "run", "program": PROGRAM, "scope": {},
     "call": {"api": "load_params", "dirname": None, "filename": None,
              "memory": "AQAA" + SAVED[4:]}},
    {"id": 5, "op": "run", "program": PROGRAM, "scope": {},
     "call": {"api": "load_params", "dirname": None, "filename": None,
              "memory": "AAAAAAAAAAAAAAAAAAAAAAQAAAAIBRACAACAPw=="}},
    {"id": 6, "op": "frobnicate"},
    {"id": 7, "op": "shutdown"},
]


def exchange(requests: list[dict], impl: str = "reference") -> list[str]:
    """Send ``requests`` to a fresh server; the responses, one JSON line each."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests)
    proc = subprocess.run([sys.executable, "-m", "fluidspec.conformance.server", "--impl", impl],
                          input=text, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          check=True)
    return proc.stdout.splitlines()


def main() -> int:
    from fluidspec.conformance._protocol_validation import response_definition, validate_response

    lines = []
    for req, resp in zip(REQUESTS, exchange(REQUESTS), strict=True):
        validate_response(json.loads(resp), response_definition(req["op"]))
        lines += ["→ " + json.dumps(req, ensure_ascii=False), "← " + resp]
    (HERE / "transcript.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} lines to {HERE / 'transcript.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
