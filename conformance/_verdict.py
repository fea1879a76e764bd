"""What a check concludes besides passing: a clause broken (``ClauseFailure``) or not applicable (``Skip``)."""

from __future__ import annotations

__all__ = ["ClauseFailure", "Skip", "fail", "require"]


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
