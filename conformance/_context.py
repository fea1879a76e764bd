"""The context a check runs in: the implementation, the oracle, scratch space and the Hypothesis profile."""

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
from fluidspec.conformance._verdict import ClauseFailure, Skip

__all__ = ["CheckContext", "PROFILES"]

#: Hypothesis settings per profile: examples per property check.
PROFILES: dict[str, dict[str, Any]] = {
    "ci": {"max_examples": 12, "derandomize": True},
    # For the suite's own meta-tests, which run it against a dozen toy implementations.
    # (no shrinking: they need to know which clause fails, not the smallest example)
    "quick": {"max_examples": 4, "derandomize": True, "shrink": False},
    "thorough": {"max_examples": 300, "derandomize": False},
}


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
    #: The capabilities the implementation claims (``spec.CAPABILITIES``).
    claims: frozenset[str] = frozenset()
    #: How many times the check reached the implementation and got an answer to judge; a check
    #: that passes with 0 verified nothing, and the runner reports it so, never as a pass.
    reached: int = 0
    _counter: int = 0

    def count_reached(self) -> None:
        """One more answer of the implementation that the check gets to judge."""
        self.reached += 1

    @property
    def var_kinds(self) -> tuple[str, ...]:
        """The variable kinds property checks may draw for this implementation: SelectedRows
        only when it claims them."""
        from fluidspec.conformance.strategies import VAR_KINDS

        if "selected_rows" in self.claims:
            return tuple(VAR_KINDS)
        return tuple(k for k in VAR_KINDS if k != "SELECTED_ROWS")

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
        if adapter is self.impl:
            self.count_reached()
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
