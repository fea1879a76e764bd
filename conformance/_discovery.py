"""Finding an implementation from a ``--impl`` string.

* ``reference``, ``numba``, ``numba-cuda-sim`` — the built-ins;
* a name registered in the entry-point group ``fluidspec.implementations`` (the entry point is
  an Adapter, or a callable returning one);
* ``package.module:attr`` — the same, by import path;
* ``cmd:COMMAND`` — a protocol server started with COMMAND (spec/chapters/protocol.md).
"""

from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import os
import shlex
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from fluidspec.conformance._adapter import Adapter, AdapterUnavailable, FluidAdapter
from fluidspec.conformance._subprocess import SubprocessAdapter

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "PADDLE_VERSIONS", "resolve", "builtin_names",
           "paddle_python", "paddle_venv_dir", "openvino_python"]

ENTRY_POINT_GROUP = "fluidspec.implementations"
BUILTIN = ("reference", "numba", "numba-cuda-sim", "paddle-2.6.2", "paddle-3.3.1", "openvino")


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
    if name.startswith("paddle-"):
        return _paddle(name)
    if name == "openvino":
        return _openvino()
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


def _import_path(spec: str) -> Any:
    """The object ``module:attr.attr`` names; a ValueError (a usage error to the CLI) when the
    module cannot be imported or lacks the attribute, since the path is the user's."""
    module, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"--impl {spec}: cannot import {module} ({exc})") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"--impl {spec}: {module} has no attribute {attr}") from None
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
        return _from_object(_import_path(spec), spec)
    known = ", ".join([*BUILTIN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))])
    raise ValueError(f"unknown implementation {spec!r} (known: {known}; or module:attr, cmd:COMMAND)")


PADDLE_VERSIONS = ("2.6.2", "3.3.1")  # what `fluidspec paddle setup` installs; 2.6.2 is the default
PADDLE_PYTHON_ENV = "FLUIDSPEC_PADDLE_PYTHON"
# The venvs scripts/_paddle_env.sh makes in a development checkout (CI's), by Paddle version.
CHECKOUT_PADDLE_VENVS = {"2.6.2": ".venv-paddle", "3.3.1": ".venv-paddle3"}
# The protocol server Paddle's interpreter runs, as package data: found in an installed wheel as
# in a checkout (the Paddle venv does not import fluidspec, it is handed this file's path).
PADDLE_SERVER = Path(str(importlib.resources.files("fluidspec.conformance.paddle") / "server.py"))


def paddle_venv_dir(version: str) -> Path:
    """The venv ``fluidspec paddle setup VERSION`` manages, in the user's cache directory."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("fluidspec")) / f"paddle-{version}"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def paddle_python(version: str, explicit: str | None = None) -> tuple[Path | None, str]:
    """The interpreter that runs Paddle ``version`` and where it came from, or (None, why not).

    Looked for in this order: ``explicit`` (``--paddle-python``), ``$FLUIDSPEC_PADDLE_PYTHON``,
    a development checkout's venv (``CHECKOUT_PADDLE_VENVS``, CI's), the managed venv in the
    user cache.  An
    explicit choice that does not exist is an answer, not a reason to fall through: running
    some other Paddle than the one asked for would judge the wrong implementation.
    """
    for given, source in ((explicit, "--paddle-python"),
                          (os.environ.get(PADDLE_PYTHON_ENV), f"${PADDLE_PYTHON_ENV}")):
        if given:
            path = Path(given)
            if path.is_file():
                return path, source
            return None, (f"{source} {given} does not exist (point it at a Python with "
                          f"paddlepaddle, or drop it and run `fluidspec paddle setup {version}`)")
    # The checkout's folder: conformance/ is the package directory in an editable install only.
    checkout = Path(__file__).resolve().parent.parent
    dev_venv = CHECKOUT_PADDLE_VENVS.get(version)
    if dev_venv and (checkout / "pyproject.toml").is_file():
        dev = _venv_python(checkout / dev_venv)
        if dev.is_file():
            return dev, dev_venv
    managed = _venv_python(paddle_venv_dir(version))
    if managed.is_file():
        return managed, "fluidspec paddle setup"
    return None, (f"no Paddle {version} interpreter found (run `fluidspec paddle setup {version}`, "
                  f"or give one with --paddle-python or ${PADDLE_PYTHON_ENV})")


def _paddle(name: str) -> Adapter:
    """Real PaddlePaddle behind conformance/paddle/server.py, in its own venv (``paddle_python``);
    its known failures are conformance/known-failures/<name>.txt."""
    version = name.removeprefix("paddle-")
    python, why = paddle_python(version)
    if python is None:
        return _Unavailable(name, why)
    return SubprocessAdapter(f"{shlex.quote(str(python))} {shlex.quote(str(PADDLE_SERVER))}",
                             name=name)


OPENVINO_PYTHON_ENV = "FLUIDSPEC_OPENVINO_PYTHON"
# OpenVINO's Paddle frontend, a reader only (conformance/openvino/server.py), in the venv
# scripts/_openvino_env.sh makes; its known failures are conformance/known-failures/openvino.txt.
OPENVINO_SERVER = Path(str(importlib.resources.files("fluidspec.conformance.openvino")
                           / "server.py"))


def openvino_python() -> tuple[Path | None, str]:
    """The interpreter with openvino: ``$FLUIDSPEC_OPENVINO_PYTHON``, else the checkout's
    ``.venv-openvino``; or (None, why not)."""
    given = os.environ.get(OPENVINO_PYTHON_ENV)
    if given:
        if Path(given).is_file():
            return Path(given), f"${OPENVINO_PYTHON_ENV}"
        return None, f"${OPENVINO_PYTHON_ENV} {given} does not exist"
    dev = _venv_python(Path(__file__).resolve().parent.parent / ".venv-openvino")
    if dev.is_file():
        return dev, ".venv-openvino"
    return None, ("no OpenVINO interpreter found (run `bash scripts/_openvino_env.sh` in the "
                  f"checkout, or give one with ${OPENVINO_PYTHON_ENV})")


def _openvino() -> Adapter:
    python, why = openvino_python()
    if python is None:
        return _Unavailable("openvino", why)
    return SubprocessAdapter(f"{shlex.quote(str(python))} {shlex.quote(str(OPENVINO_SERVER))}",
                             name="openvino")
