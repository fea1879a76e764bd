"""The registry of checks: which clause-tagged functions exist (``@check``, ``checks()``).

A check is a plain function ``check_fn(ctx)`` registered with ``@check("FMT-COMB-001", …)``.  It
drives ``ctx.impl`` (an Adapter) and raises ``ClauseFailure(clause, message)`` when the
implementation breaks a clause — or a plain ``AssertionError``, charged to the check's first
clause.  Property checks run Hypothesis inside the function through ``ctx.given`` so the runner
controls the profile (examples, derandomization) and gets the shrunk counterexample back.

Why a runner of our own rather than pytest: a report is per clause and per implementation, has to
carry the shrunk example and a reproduce command, must survive a crashing server, and is used
from ``fluidspec conformance`` by people who never run our tests.  The same checks are exposed to
pytest by ``conformance.pytest_plugin`` (one test item per check × implementation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fluidspec.conformance._context import CheckContext

__all__ = ["Check", "check", "checks", "clause_ids"]


@dataclass(frozen=True)
class Check:
    """One registered check."""

    id: str
    clauses: tuple[str, ...]
    func: Callable[[CheckContext], None]
    apis: tuple[str, ...] = ()
    needs_oracle: bool = False
    doc: str = ""
    #: Capabilities (``spec.CAPABILITIES``) the implementation must claim for this check to
    #: judge it; with ``apis``, what decides whether the check's clauses are claimed.
    needs: tuple[str, ...] = ()


_REGISTRY: dict[str, Check] = {}


def check(*clauses: str, apis: tuple[str, ...] = (), needs_oracle: bool = False,
          needs: tuple[str, ...] = ()
          ) -> Callable[[Callable[[CheckContext], None]], Callable[[CheckContext], None]]:
    """Register ``fn`` as a check of ``clauses`` (the first is the one plain asserts charge),
    run only for an implementation that claims ``apis`` and the capabilities ``needs``."""
    from fluidspec.spec import CAPABILITIES

    unknown = set(needs) - set(CAPABILITIES)
    if unknown:
        raise ValueError(f"unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}")

    def register(fn: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
        cid = fn.__name__.removeprefix("check_")
        if cid in _REGISTRY and _REGISTRY[cid].func is not fn:
            raise ValueError(f"check {cid} registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        _REGISTRY[cid] = Check(cid, tuple(clauses), fn, tuple(apis), needs_oracle, doc,
                               tuple(needs))
        return fn

    return register


def checks() -> list[Check]:
    """Every check registered so far.

    The registry never imports the checks (that would be a cycle): whoever needs the full list
    imports ``fluidspec.conformance.checks``, whose modules register themselves.
    """
    return list(_REGISTRY.values())


def clause_ids(registered: list[Check]) -> set[str]:
    """Every clause id some check of ``registered`` is tagged with."""
    return {cid for chk in registered for cid in chk.clauses}
