"""The client side of the subprocess protocol (spec/chapters/protocol.md): ``--impl "cmd:COMMAND"``.

``SubprocessAdapter`` starts the server on first use, says ``hello``, and sends one ``run`` per
call.  A server that dies, hangs, or answers garbage costs only the request that caused it: the
outcome is ``CRASHED`` / ``TIMEOUT`` / ``BAD_RESPONSE`` and the next request starts a new server
(PROTO-ERR-003).

Every response is checked against ``spec/protocol.schema.json`` (PROTO-SCHEMA-001) before any check
reads it (``conformance._protocol_validation``): a response that breaks the schema raises
``ProtocolViolation``, the failure of the PROTO clause governing the part that is wrong, instead of
a TypeError charged to whatever check was running.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from typing import Any

from fluidspec.conformance._adapter import AdapterUnavailable
from fluidspec.conformance._case import PROTOCOL, Call, Outcome, ProgramSpec, Value, value_to_json
from fluidspec.conformance._protocol_validation import (
    ProtocolViolation,
    response_definition,
    validate_response,
)

__all__ = ["SubprocessAdapter", "ProtocolError", "ProtocolViolation"]


#: Error ids this client makes up when a server gives no usable answer.
_MADE_UP = frozenset({"CRASHED", "TIMEOUT", "BAD_RESPONSE"})


class ProtocolError(Exception):
    """The server broke the protocol in a way that is not one request's failure."""


class SubprocessAdapter:
    """An implementation behind a protocol server, started with ``command`` (a shell-like string)."""

    def __init__(self, command: str, *, name: str | None = None, timeout: float = 120.0,
                 env: Mapping[str, str] | None = None, cwd: str | None = None) -> None:
        self.command = command
        self.name = name or f"cmd:{command}"
        self.timeout = timeout
        self._env = None if env is None else {**os.environ, **env}
        self._cwd = cwd
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._next_id = 0
        self._hello: dict[str, Any] | None = None
        # A hello that breaks the schema is still returned by ``hello()`` (so the suite runs and
        # the protocol checks can judge it); every request made through it fails on it.
        self._hello_violation: ProtocolViolation | None = None
        self._spill = tempfile.mkdtemp(prefix="fluidspec-proto-")
        #: How many times a server was (re)started; tests of PROTO-ERR-003 read it.
        self.starts = 0
        #: Called after every answer to a ``run`` that is the server's own (not CRASHED /
        #: TIMEOUT / BAD_RESPONSE made up by this client): a check that starts a server of the
        #: implementation under test counts its answers as reaching that implementation.
        self.on_answer: Callable[[], None] | None = None
        #: How many answers to a ``run`` were the server's own, over this adapter's life (the
        #: runner compares it before and after a check that drives this adapter directly).
        self.answers = 0

    def another(self, name: str) -> SubprocessAdapter:
        """A fresh adapter for the same server (same command, environment and directory), which
        starts its own process: what a check of several writers at once needs."""
        twin = SubprocessAdapter(self.command, name=name, timeout=self.timeout, cwd=self._cwd)
        twin._env = self._env
        return twin

    # -- process handling ------------------------------------------------------------------

    def _start(self) -> None:
        argv = shlex.split(self.command)
        try:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, encoding="utf-8", bufsize=1, env=self._env, cwd=self._cwd,
            )
        except OSError as exc:
            raise AdapterUnavailable(f"cannot start {self.command!r}: {exc}") from None
        self.starts += 1
        self._lines = queue.Queue()
        self._stderr = []
        proc = self._proc
        lines = self._lines

        def pump_out() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        def pump_err() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                self._stderr.append(line)
                del self._stderr[:-200]

        threading.Thread(target=pump_out, daemon=True).start()
        threading.Thread(target=pump_err, daemon=True).start()
        reply = self._request({"op": "hello", "protocol": PROTOCOL}, validate=False)
        if not reply.get("ok") or reply.get("protocol") != PROTOCOL:
            self._kill()
            raise AdapterUnavailable(
                f"{self.name}: server does not speak {PROTOCOL} (hello answered {reply!r})"
            )
        self._hello = reply
        try:
            validate_response(reply, "hello_response")
            self._hello_violation = None
        except ProtocolViolation as exc:
            self._hello_violation = exc

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=3)
        except Exception:
            proc.kill()
            proc.wait()

    def _request(self, obj: dict[str, Any], *, validate: bool = True) -> dict[str, Any]:
        """Send one request and read its response; ``{"ok": False, "error": CRASHED…}`` on trouble.

        A response that arrives but breaks the schema raises ``ProtocolViolation`` (unless
        ``validate`` is false); the server stays up, as the stream is still in step."""
        assert self._proc is not None and self._proc.stdin is not None
        self._next_id += 1
        rid = self._next_id
        line = json.dumps({"id": rid, **obj}, ensure_ascii=False)
        try:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return self._fail("CRASHED", "the server's stdin is closed (it exited)")
        try:
            answer = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            return self._fail("TIMEOUT", f"no answer within {self.timeout} s")
        if answer is None:
            return self._fail("CRASHED", f"the server exited (status {self._proc.poll()})")
        try:
            reply = json.loads(answer)
        except json.JSONDecodeError:
            return self._fail("BAD_RESPONSE", f"not a JSON line: {answer[:200]!r}")
        if not isinstance(reply, dict) or reply.get("id") != rid:
            # Out of step with the requests: only a restart can recover (PROTO-ERR-003).
            return self._fail("BAD_RESPONSE", f"response does not echo id {rid}: {answer[:200]!r}")
        if validate:
            validate_response(reply, response_definition(obj.get("op")))
        return reply

    def _fail(self, error: str, message: str) -> dict[str, Any]:
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        stderr = "".join(self._stderr[-20:])
        status = None if proc is None else proc.poll()
        self._kill()  # PROTO-ERR-003: the next request starts a fresh server
        return {"ok": False, "error": {"error": error, "message": message, "status": status,
                                       "stderr": stderr}}

    # -- the Adapter protocol --------------------------------------------------------------

    def hello(self) -> dict[str, Any]:
        # A server that died since the last answer is found by the next request, which is then
        # reported CRASHED (PROTO-ERR-003); only after that is a new one started.
        if self._proc is None:
            self._start()
        assert self._hello is not None
        return self._hello

    def _greeted(self) -> None:
        self.hello()
        if self._hello_violation is not None:
            v = self._hello_violation
            raise ProtocolViolation(v.clause, v.reason, self._hello)

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        self._greeted()
        reply = self._request({
            "op": "run",
            "program": program.to_json(),
            "scope": {k: value_to_json(v, self._spill) for k, v in scope.items()},
            "call": call.to_json(),
        })
        if (reply.get("error") or {}).get("error") not in _MADE_UP:
            self.answers += 1
            if self.on_answer is not None:
                self.on_answer()
        return Outcome.from_json(reply)

    def raw(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Send any request (protocol tests use it)."""
        self._greeted()
        return self._request(obj)

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._request({"op": "shutdown"}, validate=False)  # closing must not raise
        self._kill()
