"""Checks: clause-tagged functions that judge one implementation, and the context they run in.

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

import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fluidspec.conformance._adapter import Adapter, AdapterUnavailable
from fluidspec.conformance._case import Call, Outcome, ProgramSpec, Value

__all__ = [
    "Check",
    "CheckContext",
    "ClauseFailure",
    "Skip",
    "PROFILES",
    "check",
    "checks",
    "fail",
    "require",
]

#: Hypothesis settings per profile: examples per property check.
PROFILES: dict[str, dict[str, Any]] = {
    "ci": {"max_examples": 12, "derandomize": True},
    # For the suite's own meta-tests, which run it against a dozen toy implementations.
    # (no shrinking: they need to know which clause fails, not the smallest example)
    "quick": {"max_examples": 4, "derandomize": True, "shrink": False},
    "thorough": {"max_examples": 300, "derandomize": False},
}


class ClauseFailure(AssertionError):
    """The implementation broke ``clause``."""

    def __init__(self, clause: str, message: str, also: tuple[str, ...] = ()) -> None:
        super().__init__(f"{clause}: {message}")
        self.clause = clause
        self.message = message
        #: Other clauses the same observation breaks (ERR-001 when the error was not a taxonomy
        #: error at all).
        self.also = also


class Skip(Exception):
    """The check does not apply to this implementation (missing API, unavailable, …)."""


def fail(clause: str, message: str) -> ClauseFailure:
    """``raise fail("FMT-COMB-001", "…")`` reads better at call sites."""
    return ClauseFailure(clause, message)


def require(condition: bool, clause: str, message: str) -> None:
    """Fail ``clause`` unless ``condition``."""
    if not condition:
        raise ClauseFailure(clause, message)


@dataclass(frozen=True)
class Check:
    """One registered check."""

    id: str
    clauses: tuple[str, ...]
    func: Callable[[CheckContext], None]
    apis: tuple[str, ...] = ()
    needs_oracle: bool = False
    doc: str = ""


_REGISTRY: dict[str, Check] = {}


def check(*clauses: str, apis: tuple[str, ...] = (), needs_oracle: bool = False
          ) -> Callable[[Callable[[CheckContext], None]], Callable[[CheckContext], None]]:
    """Register ``fn`` as a check of ``clauses`` (the first is the one plain asserts charge)."""

    def register(fn: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
        cid = fn.__name__.removeprefix("check_")
        if cid in _REGISTRY and _REGISTRY[cid].func is not fn:
            raise ValueError(f"check {cid} registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        _REGISTRY[cid] = Check(cid, tuple(clauses), fn, tuple(apis), needs_oracle, doc)
        return fn

    return register


def checks() -> list[Check]:
    """Every registered check (importing the check modules first)."""
    import fluidspec.conformance._checks_api  # noqa: F401
    import fluidspec.conformance._checks_bytes  # noqa: F401
    import fluidspec.conformance._checks_inference  # noqa: F401
    import fluidspec.conformance._checks_protocol  # noqa: F401
    import fluidspec.conformance._checks_pyapi  # noqa: F401
    import fluidspec.conformance._checks_stateful  # noqa: F401
    import fluidspec.conformance._checks_vectors  # noqa: F401

    return list(_REGISTRY.values())


@dataclass
class CheckContext:
    """What a check gets: the implementation, the oracle, a scratch directory, the profile."""

    impl: Adapter
    oracle: Adapter
    profile: str = "ci"
    apis: frozenset[str] = frozenset()
    #: The ``--impl`` string the implementation was named by (protocol checks serve it).
    impl_spec: str = ""
    #: The other implementations of the run (the cross-implementation matrix uses them).
    peers: list[Adapter] = field(default_factory=list)
    #: Anything a check reports beside pass/fail (the matrix cells), copied into the result.
    extra: dict[str, Any] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fluidspec-")))
    #: The last case the check ran, kept so a failure can show it and turn it into a vector.
    last_case: dict[str, Any] | None = None
    _counter: int = 0

    def fresh_dir(self, label: str = "d") -> str:
        """A new empty directory path (not created) under the scratch directory."""
        self._counter += 1
        return str(self.workdir / f"{label}{self._counter}")

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call,
            adapter: Adapter | None = None) -> Outcome:
        """Run one call on the implementation (or ``adapter``), remembering the case."""
        adapter = adapter or self.impl
        if adapter is self.impl and self.apis and call.api not in self.apis:
            raise Skip(f"{self.impl.name} does not implement {call.api}")
        self.last_case = {"impl": adapter.name, "program": program, "scope": dict(scope),
                          "call": call}
        try:
            outcome = adapter.run(program, scope, call)
        except AdapterUnavailable as exc:
            raise Skip(str(exc)) from None
        if outcome.error_id == "UNSUPPORTED_REQUEST":
            raise Skip(f"{adapter.name}: {outcome.error.get('message') if outcome.error else ''}")
        self.last_case["outcome"] = outcome.describe()
        return outcome

    def oracle_run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        return self.run(program, scope, call, adapter=self.oracle)

    def given(self, *strategies: st.SearchStrategy[Any], **kw: st.SearchStrategy[Any]
              ) -> Callable[[Callable[..., None]], Callable[[], None]]:
        """``hypothesis.given`` under this run's profile; the decorated function takes no args."""
        prof = PROFILES[self.profile]

        def wrap(fn: Callable[..., None]) -> Callable[[], None]:
            inner = settings(
                max_examples=prof["max_examples"], derandomize=prof["derandomize"],
                deadline=None, database=None, print_blob=True, report_multiple_bugs=False,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.reuse, Phase.generate]
                + ([Phase.shrink] if prof.get("shrink", True) else []),
            )(given(*strategies, **kw)(fn))
            return inner

        return wrap

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Annotate failures with the step that was running."""
        try:
            yield
        except ClauseFailure as exc:
            raise ClauseFailure(exc.clause, f"{exc.message} [during {what}]", exc.also) from None
