"""fluidspec's readable reference implementation, usable as ``from fluidspec import reference as fluid``.

The namespace mirrors Fluid 1.x: Programs and their defaults, the Executor and places, Scopes,
``fluid.core`` / ``fluid.framework`` and ``fluid.io`` with the eight save/load APIs.
"""

from fluidspec.reference import core, framework, io
from fluidspec.reference._executor import CPUPlace, CUDAPlace, Executor
from fluidspec.reference._framework import (
    Program,
    default_main_program,
    default_startup_program,
    program_guard,
)
from fluidspec.reference._scope import Scope, global_scope, scope_guard

__all__ = [
    "core",
    "framework",
    "io",
    "Program",
    "default_main_program",
    "default_startup_program",
    "program_guard",
    "Executor",
    "CPUPlace",
    "CUDAPlace",
    "Scope",
    "global_scope",
    "scope_guard",
]
