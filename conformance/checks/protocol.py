"""Checks of the subprocess protocol (spec/chapters/protocol.md, PROTO-*).

For a ``cmd:`` implementation they talk to its server.  An in-process implementation is served by
``python -m fluidspec.conformance.server --impl NAME`` and judged through it, so the protocol clauses are
checked for every implementation the suite can start as a server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fluidspec.conformance._case import (
    APIS,
    PROTOCOL,
    Call,
    OpSpec,
    Outcome,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    VarSpec,
    value_from_json,
    value_to_json,
)
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._helpers import (
    expect_ok,
    expect_values,
    files_under,
    var_for,
)
from fluidspec.conformance._oracle import record_bytes
from fluidspec.conformance._protocol_validation import response_definition, validate_response
from fluidspec.conformance._registry import check
from fluidspec.conformance._subprocess import SubprocessAdapter
from fluidspec.conformance._vector_replay import register_vectors
from fluidspec.conformance._verdict import Skip, fail, require

_ROOT = str(Path(__file__).resolve().parents[2])


def _command(ctx: CheckContext) -> str:
    """The command that starts a protocol server for the implementation under test."""
    if isinstance(ctx.impl, SubprocessAdapter):
        return ctx.impl.command
    spec = getattr(ctx.impl, "serve_as", None) or ctx.impl_spec
    from fluidspec.conformance._discovery import BUILTIN

    if not spec or spec.startswith("cmd:") or (spec not in BUILTIN and ":" not in spec):
        raise Skip("this implementation cannot be started as a protocol server "
                   "(name it as built-in, entry point or module:attr)")
    return f"{sys.executable} -m fluidspec.conformance.server --impl {spec}"


def _env(ctx: CheckContext) -> dict[str, str] | None:
    if isinstance(ctx.impl, SubprocessAdapter):
        return None
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": _ROOT + (os.pathsep + path if path else "")}


def _adapter(ctx: CheckContext) -> SubprocessAdapter:
    if isinstance(ctx.impl, SubprocessAdapter):
        return ctx.impl
    served = SubprocessAdapter(_command(ctx), name=f"served:{ctx.impl.name}", env=_env(ctx),
                               cwd=_ROOT, timeout=60)
    served.on_answer = ctx.count_reached  # its answers are the implementation's
    return served


class _Raw:
    """A server process driven line by line, to check the transport itself."""

    def __init__(self, ctx: CheckContext) -> None:
        import shlex

        self.ctx = ctx
        env = None
        extra = _env(ctx)
        if extra is not None:
            env = {**os.environ, **extra}
        cwd = None if isinstance(ctx.impl, SubprocessAdapter) else _ROOT
        self.proc = subprocess.Popen(shlex.split(_command(ctx)), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, encoding="utf-8", env=env, cwd=cwd)

    def send(self, *objs: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(json.dumps(o) + "\n" for o in objs))
        self.proc.stdin.flush()

    def read(self, clause: str) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise fail(clause, f"server closed stdout (status {self.proc.poll()})")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise fail("PROTO-TRANSPORT-001", f"stdout line is not JSON: {line[:200]!r}") from None
        if not isinstance(obj, dict):
            raise fail("PROTO-TRANSPORT-001", f"stdout line is not a JSON object: {line[:200]!r}")
        self.ctx.reached += 1
        return obj

    def finish(self, clause: str, close: bool = True) -> None:
        if close and self.proc.stdin:
            self.proc.stdin.close()
        try:
            status = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise fail(clause, "server did not exit within 30 s") from None
        require(status == 0, clause, f"server exited with status {status}")


@check("PROTO-HELLO-001", "PROTO-TRANSPORT-003", needs=("protocol_server",))
def check_protocol_hello(ctx: CheckContext) -> None:
    """hello names the protocol, the implementation and its APIs; another version is refused."""
    raw = _Raw(ctx)
    try:
        raw.send({"id": 1, "op": "hello", "protocol": PROTOCOL})
        hello = raw.read("PROTO-HELLO-001")
        require(hello.get("id") == 1 and hello.get("ok") is True, "PROTO-TRANSPORT-003",
                f"hello answer does not echo id 1 with ok true: {hello}")
        require(hello.get("protocol") == PROTOCOL, "PROTO-HELLO-001",
                f"protocol {hello.get('protocol')!r}, expected {PROTOCOL!r}")
        impl = hello.get("implementation") or {}
        require(isinstance(impl.get("name"), str) and isinstance(impl.get("version"), str),
                "PROTO-HELLO-001", f"implementation must have name and version strings: {impl}")
        apis = hello.get("apis")
        require(isinstance(apis, list) and set(apis) <= set(APIS), "PROTO-HELLO-001",
                f"apis must list API names: {apis}")
        raw.send({"id": 2, "op": "hello", "protocol": "fluidspec-conformance/999"})
        other = raw.read("PROTO-HELLO-001")
        require(other.get("id") == 2 and other.get("ok") is False and
                (other.get("error") or {}).get("error") == "UNSUPPORTED_PROTOCOL",
                "PROTO-HELLO-001", f"hello with protocol /999 answered {other}")
    finally:
        raw.finish("PROTO-TRANSPORT-002")


@check("PROTO-TRANSPORT-001", "PROTO-TRANSPORT-002", "PROTO-TRANSPORT-003", "PROTO-ERR-002",
       "PROTO-SCHEMA-001", needs=("protocol_server",))
def check_protocol_transport(ctx: CheckContext) -> None:
    """Pipelined requests are answered in order, one line each; bad requests keep it serving;
    every answer, the refusals included, matches the protocol schema."""
    raw = _Raw(ctx)
    requests = [{"id": 1, "op": "hello", "protocol": PROTOCOL},
                {"id": 2, "op": "no-such-op"},
                {"id": 3, "op": "run",
                 "program": {"blocks": [{"parent": -1}], "vars": [], "ops": []},
                 "scope": {}, "call": {"api": "no_such_api"}},
                {"id": 4, "op": "hello", "protocol": PROTOCOL}]
    raw.send(*requests)
    answers = [raw.read("PROTO-TRANSPORT-001") for _ in range(4)]
    for request, answer in zip(requests, answers, strict=True):
        validate_response(answer, response_definition(request["op"]))
    require([a.get("id") for a in answers] == [1, 2, 3, 4], "PROTO-TRANSPORT-003",
            f"ids answered {[a.get('id') for a in answers]}, expected [1, 2, 3, 4]")
    for a in answers[1:3]:
        require(a.get("ok") is False and (a.get("error") or {}).get("error") ==
                "UNSUPPORTED_REQUEST", "PROTO-ERR-002", f"a request it cannot serve answered {a}")
    require(answers[3].get("ok") is True, "PROTO-ERR-002", "server stopped serving after bad requests")
    raw.send({"id": 5, "op": "shutdown"})
    bye = raw.read("PROTO-TRANSPORT-002")
    validate_response(bye, response_definition("shutdown"))
    require(bye.get("id") == 5 and bye.get("ok") is True, "PROTO-TRANSPORT-002",
            f"shutdown answered {bye}")
    raw.finish("PROTO-TRANSPORT-002", close=False)
    eof = _Raw(ctx)
    eof.send({"id": 1, "op": "hello", "protocol": PROTOCOL})
    eof.read("PROTO-TRANSPORT-001")
    eof.finish("PROTO-TRANSPORT-002")  # end of input alone must end it with status 0


def _direct(ctx: CheckContext) -> Any:
    """The implementation in-process (to compare the served one with), or the oracle for cmd:."""
    return ctx.oracle if isinstance(ctx.impl, SubprocessAdapter) else ctx.impl


def _same(ctx: CheckContext, served: SubprocessAdapter, program: ProgramSpec, scope: dict,
          call: Call, clause: str, what: str) -> Outcome:
    """Run ``call`` served and directly; the protocol must not change anything.

    For an in-process implementation any difference is the protocol's fault (``clause``).  For a
    ``cmd:`` server the direct run is the reference, so a difference is diagnosed as the format
    clause it breaks instead.
    """
    direct = _direct(ctx)
    is_cmd = isinstance(ctx.impl, SubprocessAdapter)
    if is_cmd:  # nothing in-process to compare with: the format checks judge the semantics
        args = dict(call.args)
        if args.get("dirname") == "<dir>":
            args["dirname"] = ctx.fresh_dir("p")
        return served.run(program, scope, Call(call.api, args))
    dirs = []
    outs = []
    for adapter in (served, direct):
        args = dict(call.args)
        if args.get("dirname") == "<dir>":
            args["dirname"] = ctx.fresh_dir("p")
            dirs.append(args["dirname"])
        outs.append(adapter.run(program, scope, Call(call.api, args)))
    a, b = outs
    if a.ok != b.ok or a.error_id != b.error_id:
        raise fail(clause, f"{what}: served {a.describe()}, in-process {b.describe()}")
    if a.result.get("memory") != b.result.get("memory"):
        raise fail(clause, f"{what}: memory bytes differ served vs in-process")
    if dirs:
        fa, fb = files_under(dirs[0]), files_under(dirs[1])
        require(fa == fb, clause, f"{what}: served wrote {sorted(fa)}, in-process {sorted(fb)}")
        for rel in fa:
            ra, rb = Path(dirs[0], rel).read_bytes(), Path(dirs[1], rel).read_bytes()
            require(ra == rb, clause, f"{what}: file {rel!r} differs")
    require(set(a.scope) == set(b.scope), clause,
            f"{what}: scope names {sorted(a.scope)} vs {sorted(b.scope)}")
    expect_values(b.scope, a.scope, clause, f"{what} (scope)", written=False)
    return a


@check("PROTO-VALUE-001", "PROTO-VALUE-003", "PROTO-RUN-001", "PROTO-RUN-002", "PROTO-RUN-003",
       apis=("save_vars", "load_vars", "save_params"), needs=("protocol_server",))
def check_protocol_values_and_runs(ctx: CheckContext) -> None:
    """Values, bytes and results cross the protocol unchanged (a 1.2 MB value travels as a file)."""
    adapter = _adapter(ctx)
    try:
        values = {
            "seq": TensorValue(np.arange(10, dtype=np.float16).reshape(5, 2), [[0, 2, 5]]),
            "big": TensorValue(np.arange(300_000, dtype=np.float32)),
            "z": TensorValue(np.array(-0.0, dtype=np.float64)),
            "bf": TensorValue(np.array([1, 2], dtype=np.uint16)),
        }
        program = ProgramSpec(vars=tuple(var_for(n, v) for n, v in values.items()))
        out = _same(ctx, adapter, program, values, Call("save_vars", {
            "dirname": None, "filename": None, "vars": list(values), "predicate": None}),
            "PROTO-VALUE-001", "memory save")
        require(isinstance(out.result.get("memory"), bytes), "PROTO-RUN-003",
                f"a memory save's result has no bytes: {sorted(out.result)}")
        _same(ctx, adapter, program, {}, Call("load_vars", {
            "dirname": None, "filename": None, "vars": list(values), "predicate": None,
            "memory": out.memory}), "PROTO-VALUE-003", "memory load")
        _same(ctx, adapter, program, values, Call("save_params", {
            "dirname": "<dir>", "filename": None}), "PROTO-RUN-002", "save_params")
        _same(ctx, adapter, program, values, Call("save_vars", {
            "dirname": "<dir>", "filename": "all.bin", "vars": None, "predicate": "all"}),
            "PROTO-RUN-002", "save_vars(predicate='all')")
    finally:
        if adapter is not ctx.impl:
            adapter.close()


@check("PROTO-VALUE-002", "PROTO-PROG-001", apis=("save_persistables", "load_vars"),
       needs=("protocol_server", "selected_rows"))
def check_protocol_programs_and_selected_rows(ctx: CheckContext) -> None:
    """A program with blocks, kinds and ops is built as described; SelectedRows travel whole."""
    adapter = _adapter(ctx)
    try:
        sr = SelectedRowsValue(np.arange(6, dtype=np.float32).reshape(3, 2), [1, 7, 3], 10)
        w = TensorValue(np.ones((2, 2), np.float32))
        inner = TensorValue(np.arange(3, dtype=np.int64))
        program = ProgramSpec(
            blocks=(-1, 0),
            vars=(var_for("sr", sr), var_for("w", w, param=True),
                  VarSpec("feed", kind="FEED_MINIBATCH", dtype=None, shape=None, persistable=True),
                  VarSpec("raw", kind="RAW", dtype=None, shape=None, persistable=True),
                  var_for("sub/inner", inner, block=1),
                  VarSpec("tmp", shape=(-1, 2))),
            ops=(OpSpec("scale", {"X": ("w",)}, {"Out": ("tmp",)}, {"scale": 2.0}),))
        values = {"sr": sr, "w": w, "sub/inner": inner}
        _same(ctx, adapter, program, values, Call("save_persistables", {
            "dirname": "<dir>", "filename": None}), "PROTO-PROG-001", "save_persistables")
        d = ctx.fresh_dir("p")
        saved = _direct(ctx).run(program, values, Call("save_persistables", {"dirname": d,
                                                                             "filename": None}))
        expect_ok(saved, "PROTO-PROG-001", "save_persistables in-process")
        _same(ctx, adapter, program, {}, Call("load_vars", {
            "dirname": d, "filename": None, "vars": ["sr", "sub/inner"], "predicate": None}),
            "PROTO-VALUE-002", "loading a SelectedRows")
        js = value_to_json(sr)
        require(isinstance(value_from_json(js), SelectedRowsValue) and js["kind"] == "SELECTED_ROWS",
                "PROTO-VALUE-002", "the suite's own SelectedRows encoding does not round-trip")
    finally:
        if adapter is not ctx.impl:
            adapter.close()


@check("PROTO-ERR-001", apis=("load_vars",), needs=("protocol_server",))
def check_protocol_errors(ctx: CheckContext) -> None:
    """A taxonomy error arrives with its id, message, and the scope as it was."""
    adapter = _adapter(ctx)
    try:
        raw = record_bytes(np.arange(6, dtype=np.float32))
        keep = {"t": TensorValue(np.full(6, 7, np.float32))}
        program = ProgramSpec(vars=(var_for("t", keep["t"]),))
        errors = []
        for what, content in (("a truncated file", raw[:-3]), ("version 1", b"\1" + raw[1:]),
                              ("a missing file", None)):
            d = ctx.fresh_dir("p")
            os.makedirs(d)
            if content is not None:
                Path(d, "t").write_bytes(content)
            out = _same(ctx, adapter, program, keep, Call("load_vars", {
                "dirname": d, "filename": None, "vars": ["t"], "predicate": None}),
                "PROTO-ERR-001", what)
            if out.ok:
                continue
            errors.append(out.error_id)
            err = out.error or {}
            require(isinstance(err.get("error"), str) and isinstance(err.get("message"), str),
                    "PROTO-ERR-001", f"{what}: error object lacks id or message: {err}")
            require("t" in out.scope, "PROTO-ERR-001", f"{what}: the error response has no scope")
        require(bool(errors), "PROTO-ERR-001", "none of three bad loads was reported as an error")
    finally:
        if adapter is not ctx.impl:
            adapter.close()


@check("PROTO-ERR-003", apis=("save_vars",), needs=("protocol_server",))
def check_protocol_crash_restart(ctx: CheckContext) -> None:
    """A server killed mid-session costs one request (CRASHED); the next one runs on a new server."""
    adapter = _adapter(ctx)
    owned = adapter is not ctx.impl
    try:
        t = TensorValue(np.ones(2, np.float32))
        program = ProgramSpec(vars=(var_for("t", t),))
        call = Call("save_vars", {"dirname": None, "filename": None, "vars": ["t"], "predicate": None})
        expect_ok(adapter.run(program, {"t": t}, call), "PROTO-ERR-003", "first run")
        proc = adapter._proc
        assert proc is not None
        starts = adapter.starts
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        crashed = adapter.run(program, {"t": t}, call)
        require(not crashed.ok and crashed.error_id == "CRASHED", "PROTO-ERR-003",
                f"a run on a killed server gave {crashed.describe()}, expected CRASHED")
        again = adapter.run(program, {"t": t}, call)
        expect_ok(again, "PROTO-ERR-003", "the run after a crash")
        require(adapter.starts == starts + 1, "PROTO-ERR-003",
                f"expected one restart, the client started {adapter.starts - starts}")
        require(again.memory == record_bytes(t.array), "PROTO-ERR-003",
                "the restarted server wrote other bytes")
    finally:
        if owned:
            adapter.close()


@check("PROTO-PROG-002", apis=("save_inference_model", "load_inference_model"),
       needs=("protocol_server",))
def check_protocol_loaded_program(ctx: CheckContext) -> None:
    """load_inference_model returns the program: vars with kind/flags and ops with slots."""
    adapter = _adapter(ctx)
    try:
        from fluidspec.conformance._helpers import tiny_inference_case

        program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
        saved = adapter.run(program, values, call)
        expect_ok(saved, "PROTO-PROG-002", "save_inference_model through the protocol")
        out = adapter.run(ProgramSpec(), {}, Call("load_inference_model", {
            "dirname": call.get("dirname"), "model_filename": None, "params_filename": None}))
        expect_ok(out, "PROTO-PROG-002", "load_inference_model through the protocol")
        prog = out.result.get("program")
        require(isinstance(prog, ProgramSpec), "PROTO-PROG-002", "result has no program")
        names = {v.name for v in prog.vars}
        require({"feed", "fetch", "w"} <= names, "PROTO-PROG-002",
                f"program vars {sorted(names)} lack feed/fetch/w")
        kinds = {v.name: v.kind for v in prog.vars}
        require(kinds.get("feed") == "FEED_MINIBATCH" and kinds.get("fetch") == "FETCH_LIST",
                "PROTO-PROG-002", f"feed/fetch kinds {kinds.get('feed')}/{kinds.get('fetch')}")
        types = [o.type for o in prog.ops]
        require("feed" in types and "fetch" in types, "PROTO-PROG-002", f"op types {types}")
    finally:
        if adapter is not ctx.impl:
            adapter.close()


register_vectors("PROTO")
