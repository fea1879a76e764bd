"""Finding an implementation from a ``--impl`` string.

* ``reference``, ``numba``, ``numba-cuda-sim`` — the built-ins;
* a name registered in the entry-point group ``fluidspec.implementations`` (the entry point is
  an Adapter, or a callable returning one);
* ``package.module:attr`` — the same, by import path;
* ``cmd:COMMAND`` — a protocol server started with COMMAND (spec/chapters/protocol.md).
"""

from __future__ import annotations

import importlib
import importlib.util
import shlex
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from fluidspec.conformance._adapter import Adapter, AdapterUnavailable, FluidAdapter
from fluidspec.conformance._subprocess import SubprocessAdapter

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "resolve", "builtin_names"]

ENTRY_POINT_GROUP = "fluidspec.implementations"
BUILTIN = ("reference", "numba", "numba-cuda-sim", "paddle-2.6.2")


class _Unavailable:
    """Stands in for an implementation that cannot run here; every check skips with ``why``."""

    def __init__(self, name: str, why: str) -> None:
        self.name = name
        self.why = why

    def hello(self) -> dict[str, Any]:
        raise AdapterUnavailable(self.why)

    def run(self, *args: Any) -> Any:
        raise AdapterUnavailable(self.why)

    def close(self) -> None:
        pass


def builtin_names() -> list[str]:
    """The built-ins that can run on this machine (``numba-cuda-sim`` needs numba-cuda)."""
    names = ["reference", "numba"]
    if importlib.util.find_spec("numba_cuda") is not None:
        names.append("numba-cuda-sim")
    return names


def _builtin(name: str, place: str) -> Adapter:
    if name == "reference":
        return FluidAdapter("reference", "fluidspec.reference", "fluidspec.reference.io", place=place)
    if name == "numba":
        # numba_kernels runs on the reference's Program/Scope objects.
        return FluidAdapter("numba", "fluidspec.reference", "fluidspec.numba_kernels.io", place=place)
    if name == "paddle-2.6.2":
        return _paddle(name)
    # numba-cuda-sim: NUMBA_ENABLE_CUDASIM must be set before numba is imported, so the
    # kernels run in their own process behind the protocol.
    if importlib.util.find_spec("numba_cuda") is None:
        return _Unavailable(name, "numba-cuda is not installed (pip install 'fluidspec[cuda]')")
    return SubprocessAdapter(
        f"{sys.executable} -m fluidspec.conformance.server --impl numba --place cuda",
        name=name, env={"NUMBA_ENABLE_CUDASIM": "1"},
    )


def _from_object(obj: Any, spec: str) -> Adapter:
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "run")):
        obj = obj()
    if not isinstance(obj, Adapter):
        raise ValueError(f"--impl {spec}: {obj!r} is not an Adapter (needs name, hello, run, close)")
    return obj


def resolve(spec: str, *, place: str = "cpu") -> Adapter:
    """The adapter named by one ``--impl`` value."""
    if spec.startswith("cmd:"):
        return SubprocessAdapter(spec[4:].strip(), name=spec)
    if spec in BUILTIN:
        return _builtin(spec, place)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == spec:
            return _from_object(ep.load(), spec)
    if ":" in spec:
        module, _, attr = spec.partition(":")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return _from_object(obj, spec)
    known = ", ".join([*BUILTIN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))])
    raise ValueError(f"unknown implementation {spec!r} (known: {known}; or module:attr, cmd:COMMAND)")


def _paddle(name: str) -> Adapter:
    """Real PaddlePaddle 2.6.2 behind conformance/paddle/server.py, in its own venv;
    its known failures are conformance/known-failures/paddle-2.6.2.txt."""
    root = Path(__file__).resolve().parent.parent
    python = root / ".venv-paddle" / "bin" / "python"
    if not python.exists():
        return _Unavailable(name, ".venv-paddle is missing (create it: bash scripts/_paddle_env.sh)")
    server = root / "conformance" / "paddle" / "server.py"
    return SubprocessAdapter(f"{shlex.quote(str(python))} {shlex.quote(str(server))}", name=name)
