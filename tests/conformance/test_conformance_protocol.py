"""The subprocess protocol itself (spec/chapters/protocol.md): the reference server replays the
recorded transcript, and the client survives servers that crash, hang, or answer garbage
(PROTO-ERR-003)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fluidspec.conformance import SubprocessAdapter, resolve
from fluidspec.conformance._case import PROTOCOL, Call, ProgramSpec, TensorValue, VarSpec

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPT = ROOT / "conformance" / "examples" / "transcript.jsonl"
PROGRAM = ProgramSpec(vars=(VarSpec("t", shape=(2,), persistable=True),))
SCOPE = {"t": TensorValue(np.array([1.0, 2.0], np.float32))}
SAVE = Call("save_vars", {"dirname": None, "filename": None, "vars": ["t"], "predicate": None})


def test_reference_server_replays_the_recorded_transcript():  # PROTO-TRANSPORT-001..003
    sys.path.insert(0, str(TRANSCRIPT.parent))
    try:
        import make_transcript
    finally:
        sys.path.pop(0)
    lines = TRANSCRIPT.read_text(encoding="utf-8").splitlines()
    requests = [json.loads(line[2:]) for line in lines if line.startswith("→ ")]
    recorded = [json.loads(line[2:]) for line in lines if line.startswith("← ")]
    assert requests == make_transcript.REQUESTS
    answered = [json.loads(line) for line in make_transcript.exchange(requests)]
    assert answered == recorded


def test_served_reference_equals_in_process_reference():
    served = SubprocessAdapter(f"{sys.executable} -m fluidspec.conformance.server --impl reference",
                               cwd=str(ROOT))
    try:
        a = served.run(PROGRAM, SCOPE, SAVE)
        b = resolve("reference").run(PROGRAM, SCOPE, SAVE)
        assert a.ok and b.ok and a.memory == b.memory and len(a.memory) == 32
    finally:
        served.close()


def _fake_server(tmp_path: Path, body: str) -> str:
    """A tiny protocol server that answers hello and then does ``body`` for each run."""
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys, os, time
        state = {{"runs": 0}}
        for line in sys.stdin:
            req = json.loads(line)
            if req["op"] == "hello":
                print(json.dumps({{"id": req["id"], "ok": True, "protocol": "{PROTOCOL}",
                                   "implementation": {{"name": "fake", "version": "0"}},
                                   "apis": ["save_vars"]}}), flush=True)
                continue
            state["runs"] += 1
        """) + textwrap.indent(textwrap.dedent(body), "    "))
    return f"{sys.executable} {script}"


def test_crashing_server_costs_one_request_then_restarts(tmp_path):  # PROTO-ERR-003
    cmd = _fake_server(tmp_path, """
        marker = os.path.join(os.path.dirname(__file__), "crashed")
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(139)
        print(json.dumps({"id": req["id"], "ok": True, "result": {}, "warnings": [],
                          "scope": {}}), flush=True)
    """)
    client = SubprocessAdapter(cmd)
    try:
        first = client.run(PROGRAM, SCOPE, SAVE)
        assert not first.ok and first.error_id == "CRASHED" and first.error["status"] == 139
        second = client.run(PROGRAM, SCOPE, SAVE)
        assert second.ok and client.starts == 2
    finally:
        client.close()


def test_garbage_and_wrong_ids_are_bad_responses(tmp_path):  # PROTO-TRANSPORT-001, -003
    cmd = _fake_server(tmp_path, """
        if state["runs"] == 1:
            print("this is not json", flush=True)
        else:
            print(json.dumps({"id": 999, "ok": True}), flush=True)
    """)
    client = SubprocessAdapter(cmd)
    try:
        assert client.run(PROGRAM, SCOPE, SAVE).error_id == "BAD_RESPONSE"
        # the first server was killed; on the new one run 1 prints garbage again
        assert client.run(PROGRAM, SCOPE, SAVE).error_id == "BAD_RESPONSE"
        assert client.starts == 2
    finally:
        client.close()


def test_hanging_server_times_out(tmp_path):  # PROTO-ERR-003
    cmd = _fake_server(tmp_path, """
        time.sleep(60)
    """)
    client = SubprocessAdapter(cmd, timeout=60.0)
    try:
        client.hello()  # a slow machine may take seconds to start Python: only the run is timed
        client.timeout = 1.0
        out = client.run(PROGRAM, SCOPE, SAVE)
        assert out.error_id == "TIMEOUT"
    finally:
        client.close()


def test_server_speaking_another_version_is_refused(tmp_path):  # PROTO-HELLO-001
    script = tmp_path / "old.py"
    script.write_text("import json,sys\nfor l in sys.stdin:\n    r=json.loads(l)\n"
                      "    print(json.dumps({'id': r['id'], 'ok': True, "
                      "'protocol': 'fluidspec-conformance/0'}), flush=True)\n")
    from fluidspec.conformance import AdapterUnavailable

    client = SubprocessAdapter(f"{sys.executable} {script}")
    with pytest.raises(AdapterUnavailable, match="does not speak"):
        client.hello()
    client.close()


def test_server_keeps_implementation_prints_off_the_protocol_channel(tmp_path):
    # PROTO-TRANSPORT-001: nothing but response lines on stdout, whatever the implementation prints
    (tmp_path / "noisy_impl.py").write_text(textwrap.dedent(f"""
        class Noisy:
            name = "noisy"
            def hello(self):
                print("chatter on stdout")
                return {{"protocol": "{PROTOCOL}", "implementation": {{"name": "n", "version": "0"}},
                        "apis": []}}
            def run(self, *a):
                raise AssertionError
            def close(self):
                pass
    """))
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    proc = subprocess.run(
        [sys.executable, "-m", "fluidspec.conformance.server", "--impl", "noisy_impl:Noisy"],
        input=json.dumps({"id": 1, "op": "hello", "protocol": PROTOCOL}) + "\n", env=env,
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0  # PROTO-TRANSPORT-002: end of input ends it with 0
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["ok"] is True
    assert "chatter on stdout" in proc.stderr
