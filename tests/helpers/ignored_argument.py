"""Implementations that silently ignore one argument of one API: the suite must notice each.

A reader or writer that forgets to honour an argument (saves every persistable although ``vars``
named two, writes one file per variable although ``filename`` asked for one, exports the pruned
program although ``export_for_deployment`` was false) passes every check that calls the API with
that argument left at its default.  ``ARGUMENTS`` lists, per API, the optional call fields of
PROTO-RUN-002 and the value Fluid uses when the caller gives none; ``IgnoresArgument`` wraps any
adapter and replaces that one field by its default before the call.  Used in-process and, through
``ignoring_argument_server.py``, as a protocol server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fluidspec.conformance._adapter import Adapter
from fluidspec.conformance._case import Call, Outcome, ProgramSpec, Value

__all__ = ["ARGUMENTS", "IgnoresArgument", "argument_pairs"]

#: API -> {call field: the value Fluid uses when the caller leaves it out}.  The required
#: arguments (``dirname`` outside memory mode, ``feeded_var_names``, ``target_vars``) have no
#: default to fall back to, and ``main_program`` is the request's program always
#: (PROTO-RUN-002); ignoring the program is ``BrokenDefaultProgramIsEmpty``'s bug.
ARGUMENTS: dict[str, dict[str, Any]] = {
    "save_vars": {"filename": None, "vars": None, "predicate": None},
    "load_vars": {"filename": None, "vars": None, "predicate": None, "memory": None},
    "save_params": {"filename": None},
    "load_params": {"filename": None, "memory": None},
    "save_persistables": {"filename": None},
    "load_persistables": {"filename": None, "memory": None},
    "save_inference_model": {"model_filename": None, "params_filename": None,
                             "export_for_deployment": True, "program_only": False},
    "load_inference_model": {"model_filename": None, "params_filename": None,
                             "model_memory": None, "params_memory": None},
}


def argument_pairs() -> list[tuple[str, str]]:
    """Every (api, field) an implementation could ignore."""
    return [(api, name) for api, fields in ARGUMENTS.items() for name in fields]


class IgnoresArgument:
    """``inner`` with ``api``'s ``field`` replaced by Fluid's default in every call."""

    def __init__(self, inner: Adapter, api: str, field: str) -> None:
        self._inner = inner
        self.api, self.field = api, field
        self.default = ARGUMENTS[api][field]
        self.name = f"ignores-{api}.{field}"

    def hello(self) -> dict[str, Any]:
        return self._inner.hello()

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        if call.api == self.api and self.field in call.args:
            call = Call(call.api, {**call.args, self.field: self.default})
        return self._inner.run(program, scope, call)

    def close(self) -> None:
        self._inner.close()
