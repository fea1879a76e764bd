"""What an implementation can claim to implement, and which clauses only an in-process
implementation can reach (spec/chapters/conformance.md, "Claims").

A claim is the list of APIs an implementation implements (the protocol's ``apis``) plus the
capabilities below.  A clause is judged for an implementation only when a check of it fits the
claim; every other clause is reported "not claimed" for it, never "pass".
"""

from __future__ import annotations

__all__ = ["CAPABILITIES", "IN_PROCESS_CLAUSES"]

#: Capability name -> what claiming it means.
CAPABILITIES: dict[str, str] = {
    "selected_rows": "saves and loads SelectedRows variables (one file per variable)",
    "fluid_objects": "is a Python implementation in the judging process, with Fluid's Program, "
                     "Scope and Executor objects (the clauses of IN_PROCESS_CLAUSES need them)",
    "protocol_server": "can be started as a server of the subprocess protocol (PROTO-*)",
    "fluid_1_inference_options": "save_inference_model takes Fluid 1.x's export_for_deployment="
                                 "False and program_only=True (INF-SAVE-011, INF-SAVE-012); "
                                 "Paddle 2.x no longer has them",
}

#: Clauses only an in-process implementation with Fluid's objects can be judged on: they are
#: about those objects themselves (Program, Executor, Scope), or they measure the process (the
#: memory a hostile header makes a reader allocate).  The protocol reaches neither, so a server
#: behind it is never required to cover them.
IN_PROCESS_CLAUSES: frozenset[str] = frozenset({
    "API-EXEC-001", "API-EXEC-002", "API-EXEC-003",
    "API-MODEL-001", "API-MODEL-002", "API-MODEL-003", "API-MODEL-004", "API-MODEL-005",
    "API-MODEL-006", "API-MODEL-007",
    "API-SCOPE-001",
    "FMT-SAFE-003", "SAFE-MEM-001",
    "INF-SAVE-009", "INF-SAVE-010",
})
