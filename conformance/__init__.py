"""fluidspec's conformance suite: judge any implementation of Fluid save/load, clause by clause.

* ``conformance.Adapter`` — the interface an implementation is driven through (one ``run``);
  built-ins ``reference``, ``numba``, ``numba-cuda-sim``; ``cmd:COMMAND`` for protocol servers
  (spec/chapters/protocol.md); ``module:attr`` and the entry-point group
  ``fluidspec.implementations`` for everything else (``conformance.resolve``).
* ``conformance.strategies`` — public Hypothesis strategies for names, dtypes, shapes, LoD,
  programs and save cases.
* ``conformance.run_suite`` — run every check (``select_checks``) against implementations, giving
  a ``SuiteReport`` (``render_text`` for people, ``junit_xml`` for CI systems); ``fluidspec conformance`` is its command line,
  ``conformance.pytest_plugin`` its pytest face.  The checks live in ``conformance.checks``, one
  module per spec chapter.
"""

from fluidspec.conformance._adapter import Adapter, AdapterUnavailable, FluidAdapter
from fluidspec.conformance._case import (
    APIS,
    PROTOCOL,
    Call,
    OpSpec,
    Outcome,
    ProgramSpec,
    SelectedRowsValue,
    TensorValue,
    Value,
    VarSpec,
    values_equal,
)
from fluidspec.conformance._discovery import (
    PADDLE_VERSIONS,
    builtin_names,
    paddle_python,
    paddle_venv_dir,
    resolve,
)
from fluidspec.conformance._junit import junit_xml
from fluidspec.conformance._known_failures import KNOWN_FAILURES_DIR
from fluidspec.conformance._registry import Check
from fluidspec.conformance._report import CheckResult, SuiteReport, render_text
from fluidspec.conformance._runner import run_suite, select_checks
from fluidspec.conformance._subprocess import SubprocessAdapter
from fluidspec.conformance.checks import all_checks

__all__ = [
    "Adapter",
    "AdapterUnavailable",
    "FluidAdapter",
    "SubprocessAdapter",
    "APIS",
    "PROTOCOL",
    "Call",
    "OpSpec",
    "Outcome",
    "ProgramSpec",
    "SelectedRowsValue",
    "TensorValue",
    "Value",
    "VarSpec",
    "values_equal",
    "builtin_names",
    "resolve",
    "PADDLE_VERSIONS",
    "paddle_python",
    "paddle_venv_dir",
    "run_suite",
    "select_checks",
    "all_checks",
    "Check",
    "CheckResult",
    "SuiteReport",
    "render_text",
    "junit_xml",
    "KNOWN_FAILURES_DIR",
]
