"""spec/protocol.schema.json (PROTO-SCHEMA-001): the schema is valid, the reference server and the
recorded transcript satisfy it, broken responses are refused on the right PROTO clause, and a
server that breaks it fails PROTO clauses only."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from fluidspec.conformance._case import PROTOCOL
from fluidspec.conformance._protocol_validation import ProtocolViolation, validate_response
from fluidspec.conformance._runner import run_suite
from fluidspec.conformance._subprocess import SubprocessAdapter
from fluidspec.conformance._verdict import ClauseFailure
from fluidspec.spec import protocol_schema

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPT = ROOT / "conformance" / "examples" / "transcript.jsonl"
BROKEN_SERVER = Path(__file__).resolve().parent / "broken_protocol_server.py"
DEFINITION = {"hello": "hello_response", "run": "run_response", "shutdown": "shutdown_response"}


def _request_validator() -> Draft202012Validator:
    schema = protocol_schema()
    schema.pop("anyOf")
    schema["$ref"] = "#/$defs/request"
    return Draft202012Validator(schema)


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = protocol_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_ships_in_the_package():
    from importlib.resources import files

    shipped = json.loads((files("fluidspec.spec") / "protocol.schema.json").read_text("utf-8"))
    assert shipped == protocol_schema()
    assert 'protocol.schema.json"' in (ROOT / "pyproject.toml").read_text()


def _transcript() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    lines = [line for line in TRANSCRIPT.read_text("utf-8").splitlines() if line.strip()]
    requests = [json.loads(line[1:]) for line in lines if line.startswith("→")]
    responses = [json.loads(line[1:]) for line in lines if line.startswith("←")]
    assert len(requests) == len(responses) == len(lines) // 2
    return list(zip(requests, responses, strict=True))


def test_every_transcript_line_validates():
    requests = _request_validator()
    whole = Draft202012Validator(protocol_schema())
    for request, response in _transcript():
        assert not list(requests.iter_errors(request)), request
        validate_response(response, DEFINITION.get(request["op"], "response"))
        assert whole.is_valid(request) and whole.is_valid(response)


# -- the reference server's own responses ------------------------------------------------------

_F32_1_2 = base64.b64encode(b"\x00\x00\x80?\x00\x00\x00@").decode()
_W = {"name": "w", "block": 0, "kind": "LOD_TENSOR", "dtype": "float32", "shape": [2],
      "lod_level": 0, "persistable": True, "is_parameter": True}
_PROGRAM = {"blocks": [{"parent": -1}], "vars": [_W], "ops": []}
_SCOPE = {"w": {"kind": "LOD_TENSOR", "dtype": "float32", "shape": [2], "lod": [[0, 1, 2]],
                "data": _F32_1_2}}
_MODEL = {
    "blocks": [{"parent": -1}],
    "vars": [{**_W, "shape": [2, 2]},
             {"name": "x", "block": 0, "kind": "LOD_TENSOR", "dtype": "float32", "shape": [-1, 2],
              "lod_level": 0, "persistable": False, "is_parameter": False},
             {"name": "y", "block": 0, "kind": "LOD_TENSOR", "dtype": "float32", "shape": [-1, 2],
              "lod_level": 0, "persistable": False, "is_parameter": False}],
    "ops": [{"block": 0, "type": "mul", "inputs": {"X": ["x"], "Y": ["w"]},
             "outputs": {"Out": ["y"]}, "attrs": {}}],
}
_SR_SCOPE = {"sr": {"kind": "SELECTED_ROWS", "dtype": "float32", "shape": [1, 2], "rows": [3],
                    "height": 5, "data": _F32_1_2}}
_SR_PROGRAM = {"blocks": [{"parent": -1}], "vars": [
    {"name": "sr", "block": 0, "kind": "SELECTED_ROWS", "dtype": "float32", "shape": [5, 2],
     "lod_level": 0, "persistable": True, "is_parameter": False}], "ops": []}


def _requests(tmp: Path) -> list[tuple[dict[str, Any], bool]]:
    """Requests covering every response form, each with whether it must succeed."""
    model_scope = {"w": {"kind": "LOD_TENSOR", "dtype": "float32", "shape": [2, 2], "lod": [],
                         "data": base64.b64encode(bytes(16)).decode()}}
    return [
        ({"op": "hello", "protocol": PROTOCOL}, True),
        ({"op": "hello", "protocol": "fluidspec-conformance/999"}, False),
        ({"op": "run", "program": _PROGRAM, "scope": _SCOPE,
          "call": {"api": "save_params", "dirname": None, "filename": None}}, True),
        ({"op": "run", "program": _PROGRAM, "scope": {},
          "call": {"api": "load_params", "dirname": None, "filename": None,
                   "memory": base64.b64encode(b"\x00" * 7).decode()}}, False),
        ({"op": "run", "program": _SR_PROGRAM, "scope": _SR_SCOPE,
          "call": {"api": "save_vars", "dirname": str(tmp / "sr"), "filename": None,
                   "vars": None, "predicate": "all"}}, True),
        ({"op": "run", "program": _MODEL, "scope": model_scope,
          "call": {"api": "save_inference_model", "dirname": str(tmp / "m"),
                   "feeded_var_names": ["x"], "target_vars": ["y"], "model_filename": None,
                   "params_filename": None}}, True),
        ({"op": "run", "program": {"blocks": [{"parent": -1}], "vars": [], "ops": []},
          "scope": {}, "call": {"api": "load_inference_model", "dirname": str(tmp / "m"),
                                "model_filename": None, "params_filename": None}}, True),
        ({"op": "run", "program": _PROGRAM, "scope": {}, "call": {"api": "no_such_api"}}, False),
        ({"op": "frobnicate"}, False),
        ({"op": "shutdown"}, True),
    ]


def test_reference_server_responses_validate(tmp_path):
    requests = _requests(tmp_path)
    lines = [json.dumps({"id": i, **r}) for i, (r, _) in enumerate(requests, 1)]
    lines.insert(1, "this line is not JSON")  # answered with id null (PROTO-ERR-002)
    proc = subprocess.run(
        [sys.executable, "-m", "fluidspec.conformance.server", "--impl", "reference"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120, check=True)
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == len(lines), proc.stderr
    validate_response(answers.pop(1), "response")
    for (request, must_succeed), answer in zip(requests, answers, strict=True):
        validate_response(answer, DEFINITION.get(request["op"], "response"))
        assert answer["ok"] is must_succeed, (request, answer)
    loaded = answers[6]["result"]
    assert loaded["feed_target_names"] == ["x"] and loaded["fetch_target_names"] == ["y"]


# -- broken responses are refused on the right clause ------------------------------------------

def _base(kind: str) -> dict[str, Any]:
    pairs = _transcript()
    by_kind = {
        "hello": pairs[0][1],
        "run_ok": pairs[1][1],
        "run_error": pairs[4][1],
    }
    response = copy.deepcopy(by_kind[kind])
    if kind == "run_ok":  # one SelectedRows value besides the dense one
        response["scope"]["sr"] = copy.deepcopy(_SR_SCOPE["sr"])
    return response


_DEFINITION_OF = {"hello": "hello_response", "run_ok": "run_response",
                  "run_error": "run_response"}

REQUIRED = [  # (response, path of the field removed, clause it breaks)
    ("hello", ("id",), "PROTO-TRANSPORT-003"),
    ("hello", ("ok",), "PROTO-TRANSPORT-003"),
    ("hello", ("protocol",), "PROTO-HELLO-001"),
    ("hello", ("implementation",), "PROTO-HELLO-001"),
    ("hello", ("implementation", "name"), "PROTO-HELLO-001"),
    ("hello", ("implementation", "version"), "PROTO-HELLO-001"),
    ("hello", ("apis",), "PROTO-HELLO-001"),
    ("run_ok", ("id",), "PROTO-TRANSPORT-003"),
    ("run_ok", ("ok",), "PROTO-TRANSPORT-003"),
    ("run_ok", ("result",), "PROTO-RUN-001"),
    ("run_ok", ("warnings",), "PROTO-RUN-001"),
    ("run_ok", ("scope",), "PROTO-RUN-001"),
    ("run_ok", ("scope", "w", "kind"), "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "dtype"), "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "shape"), "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "lod"), "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "data"), "PROTO-VALUE-001"),
    ("run_ok", ("scope", "sr", "rows"), "PROTO-VALUE-002"),
    ("run_ok", ("scope", "sr", "height"), "PROTO-VALUE-002"),
    ("run_ok", ("scope", "sr", "dtype"), "PROTO-VALUE-002"),
    ("run_ok", ("scope", "sr", "data"), "PROTO-VALUE-002"),
    ("run_error", ("id",), "PROTO-TRANSPORT-003"),
    ("run_error", ("error",), "PROTO-TRANSPORT-003"),
    ("run_error", ("error", "error"), "PROTO-ERR-001"),
    ("run_error", ("error", "message"), "PROTO-ERR-001"),
    ("run_error", ("scope",), "PROTO-RUN-001"),
]

WRONG_TYPE = [  # (response, path, wrong value, clause it breaks)
    ("hello", ("id",), "1", "PROTO-TRANSPORT-003"),
    ("hello", ("ok",), "yes", "PROTO-TRANSPORT-003"),
    ("hello", ("protocol",), 1, "PROTO-HELLO-001"),
    ("hello", ("implementation",), "reference", "PROTO-HELLO-001"),
    ("hello", ("implementation", "version"), 1, "PROTO-HELLO-001"),
    ("hello", ("apis",), "save_vars", "PROTO-HELLO-001"),
    ("hello", ("apis",), ["save_everything"], "PROTO-HELLO-001"),
    ("run_ok", ("result",), [], "PROTO-RUN-003"),
    ("run_ok", ("result", "memory"), 5, "PROTO-VALUE-003"),
    ("run_ok", ("result", "memory"), "not base64!", "PROTO-VALUE-003"),
    ("run_ok", ("result", "fetch_names"), "y", "PROTO-RUN-003"),
    ("run_ok", ("result", "program"), {"blocks": [], "vars": [], "ops": []}, "PROTO-PROG-002"),
    ("run_ok", ("result", "program"), {"blocks": [{"parent": -1}], "vars": [{"name": "v"}],
                                       "ops": []}, "PROTO-PROG-002"),
    ("run_ok", ("warnings",), "none", "PROTO-RUN-003"),
    ("run_ok", ("warnings",), [1], "PROTO-RUN-003"),
    ("run_ok", ("scope",), [], "PROTO-RUN-001"),
    ("run_ok", ("scope", "w"), "AAAA", "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "kind"), "TENSOR", "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "dtype"), "float33", "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "shape"), "abc", "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "shape"), [2.5], "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "lod"), ["0,1"], "PROTO-VALUE-001"),
    ("run_ok", ("scope", "w", "data"), 5, "PROTO-VALUE-003"),
    ("run_ok", ("scope", "w", "file"), "/tmp/x.raw", "PROTO-VALUE-001"),  # data and file both
    ("run_ok", ("scope", "sr", "rows"), "3", "PROTO-VALUE-002"),
    ("run_ok", ("scope", "sr", "height"), "5", "PROTO-VALUE-002"),
    ("run_ok", ("scope", "sr", "lod"), [[0, 1]], "PROTO-VALUE-002"),
    ("run_error", ("ok",), 0, "PROTO-TRANSPORT-003"),
    ("run_error", ("error",), "TRUNCATED", "PROTO-ERR-001"),
    ("run_error", ("error", "error"), 3, "PROTO-ERR-001"),
    ("run_error", ("error", "offset"), "24", "PROTO-ERR-001"),
    ("run_error", ("error", "message"), None, "PROTO-ERR-001"),
]


def _parent(obj: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path[:-1]:
        obj = obj[key]
    return obj


def _refused_on(response: dict[str, Any], kind: str) -> str:
    with pytest.raises(ProtocolViolation) as info:
        validate_response(response, _DEFINITION_OF[kind])
    return info.value.clause


@pytest.mark.parametrize("kind", ["hello", "run_ok", "run_error"])
def test_unbroken_bases_validate(kind):
    validate_response(_base(kind), _DEFINITION_OF[kind])


@pytest.mark.parametrize(("kind", "path", "clause"), REQUIRED,
                         ids=[f"{k}-{'.'.join(p)}" for k, p, _ in REQUIRED])
def test_a_missing_required_field_is_refused_on_its_clause(kind, path, clause):
    response = _base(kind)
    del _parent(response, path)[path[-1]]
    assert _refused_on(response, kind) == clause


@pytest.mark.parametrize(("kind", "path", "wrong", "clause"), WRONG_TYPE,
                         ids=[f"{k}-{'.'.join(p)}-{w!r}" for k, p, w, _ in WRONG_TYPE])
def test_a_field_of_the_wrong_type_is_refused_on_its_clause(kind, path, wrong, clause):
    response = _base(kind)
    _parent(response, path)[path[-1]] = wrong
    assert _refused_on(response, kind) == clause


def test_a_violation_is_a_clause_failure_quoting_a_bounded_response():
    response = _base("run_ok")
    response["scope"]["w"]["shape"] = "abc"
    response["scope"]["w"]["data"] = "AAAA" * 10_000
    with pytest.raises(ClauseFailure) as info:
        validate_response(response, "run_response")
    exc = info.value
    assert isinstance(exc, ProtocolViolation) and exc.clause == "PROTO-VALUE-001"
    assert "scope/w/shape" in exc.message and len(exc.offending_message) < 1000


# -- a server that breaks the schema, end to end -----------------------------------------------

def test_a_broken_hello_fails_every_request_on_the_hello_clause(tmp_path):
    script = tmp_path / "srv.py"
    script.write_text(
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    r = json.loads(line)\n"
        f"    print(json.dumps({{'id': r['id'], 'ok': True, 'protocol': '{PROTOCOL}',\n"
        "                      'implementation': {'name': 'x'}, 'apis': []}), flush=True)\n")
    adapter = SubprocessAdapter(f"{sys.executable} {script}")
    try:
        assert adapter.hello()["implementation"] == {"name": "x"}  # the suite still runs
        with pytest.raises(ProtocolViolation) as info:
            adapter.raw({"op": "frobnicate"})
        assert info.value.clause == "PROTO-HELLO-001"
    finally:
        adapter.close()


CHECKS = ["save_memory_with_filename", "mutations_give_taxonomy_errors", "write_separate_bytes",
          "selected_rows_file", "read_oracle_records", "protocol_hello", "protocol_transport"]


@pytest.mark.parametrize(("damage", "clauses"), [
    ("shape-abc", {"PROTO-VALUE-001", "PROTO-VALUE-002"}),
    ("no-warnings", {"PROTO-RUN-001"}),
    ("lod-strings", {"PROTO-VALUE-001"}),
])
def test_a_schema_breaking_server_fails_only_proto_clauses(damage, clauses):
    report = run_suite([f"cmd:{sys.executable} {BROKEN_SERVER} {damage}"], only=CHECKS)
    failing = {s.clause for s in report.clause_statuses() if s.status == "fail"}
    assert failing == clauses
    for res in report.results:
        if res.status == "fail":
            assert "Traceback" not in res.example and "TypeError" not in res.message, res


def test_the_cli_reports_only_proto_failures():
    impl = f"cmd:{sys.executable} {BROKEN_SERVER} shape-abc"
    proc = subprocess.run(
        [sys.executable, "-m", "fluidspec", "conformance", "--impl", impl, "--quiet",
         "--check", "write_separate_bytes", "--check", "save_memory_with_filename"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    failures = proc.stdout.split("\nFailures\n", 1)[1]
    charged = {line.split()[1] for line in failures.splitlines() if line.startswith("MUST ")}
    assert charged == {"PROTO-VALUE-001"}, failures
