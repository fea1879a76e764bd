"""Paddle 2.6.2 side of ``fluidspec bench``: a worker run inside ``.venv-paddle``.

Imports only paddle, numpy and the standard library (the Paddle environment has nothing else).
It answers one JSON request per line on stdin, one JSON reply per line, so that the bench can
time Paddle in the same rounds as every other implementation (interleaved, not one after the
other); each timing is taken here, around the Paddle call alone:

* ``{"op": "prepare", "case": str, "n": int, "elems": int, "separate": bool, "tmp": dir}``:
  build the program and scope (``n`` float32 variables of ``elems`` each, ``v00000`` ...,
  values ``arange + i``) and the files the loads read -> ``{"ok": true}``
* ``{"op": "time", "what": "encode" | "decode" | "save" | "load"}`` -> ``{"s": seconds}``;
  each save goes to a new directory, removed after the timing
* ``{"op": "quit"}``

Anything Paddle prints goes to stderr: the replies have the original stdout to themselves.
"""

import json
import os
import shutil
import sys
import time
from typing import Any

import numpy as np
import paddle

paddle.enable_static()


class Case:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.io = paddle.static.io
        place = paddle.CPUPlace()
        n, elems = spec["n"], spec["elems"]
        self.tmp, self.separate = spec["tmp"], spec["separate"]
        self.filename = None if self.separate else "combined"
        self.program = paddle.static.Program()
        scope = paddle.static.global_scope()
        self.exe = paddle.static.Executor(place)
        block = self.program.global_block()
        self.vars = []
        for i in range(n):
            name = f"v{i:05d}"
            shape = [elems] if n == 1 else [16, elems // 16]
            self.vars.append(block.create_var(name=name, shape=shape, dtype="float32",
                                              persistable=True))
            value = np.arange(elems, dtype=np.float32).reshape(shape) + i
            scope.var(name).get_tensor().set(value, place)
        self.counter = 0
        self.kept: list[str] = []
        self.saved = self.new_dir()
        self.save(self.saved)
        self.blob = None if self.separate else self.io.save_vars(
            self.exe, None, self.program, vars=self.vars)

    def new_dir(self) -> str:
        self.counter += 1
        return os.path.join(self.tmp, f"paddle-{os.getpid()}-{self.counter}")

    def save(self, dirname: str) -> None:
        self.io.save_vars(self.exe, dirname, self.program, vars=self.vars,
                          filename=self.filename)

    def timed(self, what: str) -> float:
        if what == "save":
            target = self.new_dir()
            t0 = time.perf_counter()
            self.save(target)
            elapsed = time.perf_counter() - t0
            if self.separate:  # many files: kept until close, as the bench's (fresh_dir)
                self.kept.append(target)
            else:
                shutil.rmtree(target, ignore_errors=True)
            return elapsed
        t0 = time.perf_counter()
        if what == "load":
            self.io.load_vars(self.exe, self.saved, self.program, vars=self.vars,
                              filename=self.filename)
        elif what == "encode" and not self.separate:
            self.io.save_vars(self.exe, None, self.program, vars=self.vars)
        elif what == "decode" and not self.separate:
            self.io.load_vars(self.exe, None, self.program, vars=self.vars, filename=self.blob)
        else:
            raise ValueError(f"no such timing: {what}")
        return time.perf_counter() - t0

    def close(self) -> None:
        for path in (self.saved, *self.kept):
            shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # Paddle's own prints land on stderr
    case = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "quit":
                break
            if request["op"] == "prepare":
                if case is not None:
                    case.close()
                case = None  # the same names: the next case's values replace these
                case = Case(request)
                reply: dict[str, Any] = {"ok": True}
            else:
                assert case is not None, "time before prepare"
                reply = {"s": case.timed(request["what"])}
        except Exception as exc:  # reported to the bench, which notes and skips Paddle
            reply = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    if case is not None:
        case.close()


if __name__ == "__main__":
    main()
