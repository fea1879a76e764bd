"""The bench's handle on the Paddle 2.6.2 worker (``_bench_paddle.py`` in ``.venv-paddle``).

One worker process for the whole run.  ``timer(what)`` gives the bench a callable for its
rounds: each call asks the worker for one timing and returns it as ``Elapsed`` (the seconds
Paddle's call took, measured in the worker: the pipe's round trip is not Paddle's time).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv-paddle" / "bin" / "python"
IMPL = "paddle-2.6.2"


@dataclass(frozen=True)
class Elapsed:
    """A time measured elsewhere: the bench records it instead of its own clock's."""

    seconds: float


class PaddlePeer:
    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.proc: subprocess.Popen[str] | None = None
        self.why_not = ""
        if not PYTHON.exists():
            self.why_not = ("no Paddle environment at .venv-paddle (create it with "
                            "scripts/_paddle_env.sh)")
            return
        # stderr passes through: Paddle's warnings and progress stay visible
        self.proc = subprocess.Popen([str(PYTHON), str(REPO / "fluidspec" / "_bench_paddle.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    @property
    def present(self) -> bool:
        return self.proc is not None

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Paddle worker exited (status {self.proc.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def prepare(self, case: str, n: int, elems: int, separate: bool) -> bool:
        """Build the case in the worker; False (and ``why_not`` says why) when it cannot."""
        if self.proc is None:
            return False
        try:
            self._ask({"op": "prepare", "case": case, "n": n, "elems": elems,
                       "separate": separate, "tmp": self.tmp})
        except (RuntimeError, OSError, ValueError) as exc:
            self.why_not = f"{case}: {exc}"
            return False
        return True

    def timer(self, what: str) -> Callable[[], Elapsed]:
        return lambda: Elapsed(float(self._ask({"op": "time", "what": what})["s"]))

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            assert self.proc.stdin
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.proc = None
