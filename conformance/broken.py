"""Broken in-process implementations of the inference APIs, for testing the suite itself.

Each class wraps the reference (``fluidspec.reference``) behind a small io object with one rule
changed, the kind of slip a real reader or writer makes; ``BROKEN`` maps it to the MUST clause the
suite must fail it on (tests/conformance/test_conformance_broken.py).  The var/param toys that
need no Fluid objects live in ``conformance.toys``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from fluidspec.conformance._adapter import FluidAdapter

__all__ = ["BrokenFluid", "BrokenFeedsInOpOrder", "BrokenFetchTargetsReversed", "BROKEN"]


class BrokenFluid(FluidAdapter):
    """The reference with the io functions ``wrap`` returns put in place of its own."""

    name = "broken-fluid"

    def __init__(self) -> None:
        super().__init__(self.name, "fluidspec.reference", "fluidspec.reference.io")

    def wrap(self, io: Any) -> dict[str, Callable[..., Any]]:
        return {}

    def _load(self) -> None:
        if self._io is not None:
            return
        super()._load()
        io = self._io
        own = {n: getattr(io, n) for n in dir(io) if not n.startswith("__")}
        self._io = SimpleNamespace(**{**own, **self.wrap(io)})


class BrokenFeedsInOpOrder(BrokenFluid):
    """Returns feed names in the order of the feed ops in the block, which are stored in
    reverse col order (breaks INF-LOAD-003)."""

    name = "broken-feeds-in-op-order"

    def wrap(self, io: Any) -> dict[str, Callable[..., Any]]:
        def load_inference_model(*args: Any, **kw: Any) -> Any:
            program, feeds, fetches = io.load_inference_model(*args, **kw)
            return [program, list(feeds)[::-1], fetches]

        return {"load_inference_model": load_inference_model}


class BrokenFetchTargetsReversed(BrokenFluid):
    """Returns fetch targets last-col first (breaks INF-LOAD-003)."""

    name = "broken-fetch-targets-reversed"

    def wrap(self, io: Any) -> dict[str, Callable[..., Any]]:
        def load_inference_model(*args: Any, **kw: Any) -> Any:
            program, feeds, fetches = io.load_inference_model(*args, **kw)
            return [program, feeds, list(fetches)[::-1]]

        return {"load_inference_model": load_inference_model}


#: Every broken implementation and the MUST clause the suite must fail it on.
BROKEN: dict[type[BrokenFluid], str] = {
    BrokenFeedsInOpOrder: "INF-LOAD-003",
    BrokenFetchTargetsReversed: "INF-LOAD-003",
}
