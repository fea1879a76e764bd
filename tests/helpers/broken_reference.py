"""Broken in-process implementations of the inference APIs, for testing the suite itself.

Each class wraps the reference (``fluidspec.reference``) behind a small io object with one rule
changed, the kind of slip a real reader or writer makes; ``BROKEN`` maps it to the MUST clause the
suite must fail it on (tests/conformance/test_conformance_broken.py).  The var/param toys that
need no Fluid objects live in ``conformance.toys``.  These live with the tests, not in the
package: they reach into the reference's private modules to change one rule, which nothing
shipped may do (``.importlinter``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from types import SimpleNamespace
from typing import Any

from fluidspec.conformance._adapter import FluidAdapter
from fluidspec.conformance._case import Call, Outcome, ProgramSpec, Value

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


# --------------------------------------------------------------------------------------------
# Rules changed inside the reference: a module attribute replaced while a call runs.

_PATCH_LOCK = threading.Lock()
_PATCHED: dict[tuple[int, str], list[Any]] = {}


@contextlib.contextmanager
def _patched(owner: Any, attr: str, value: Any) -> Iterator[None]:
    """``owner.attr = value`` while some call is inside.  The SAFE-CONC-001 check runs one adapter
    from several threads at once, so the first call in patches and the last one out restores."""
    key = (id(owner), attr)
    with _PATCH_LOCK:
        entry = _PATCHED.get(key)
        if entry is None:
            _PATCHED[key] = [getattr(owner, attr), 1]
            setattr(owner, attr, value)
        else:
            entry[1] += 1
    try:
        yield
    finally:
        with _PATCH_LOCK:
            entry = _PATCHED[key]
            entry[1] -= 1
            if entry[1] == 0:
                setattr(owner, attr, entry[0])
                del _PATCHED[key]


class PatchedReference(BrokenFluid):
    """The reference with ``patches(call)`` in force while it runs ``call``."""

    def patches(self, call: Call) -> list[tuple[Any, str, Any]]:
        return []

    def run(self, program: ProgramSpec, scope: Mapping[str, Value], call: Call) -> Outcome:
        with contextlib.ExitStack() as stack:
            for owner, attr, value in self.patches(call):
                stack.enter_context(_patched(owner, attr, value))
            return super().run(program, scope, call)


class BrokenKeepsIsParameter(PatchedReference):
    """Prunes an inference program but keeps the Parameter flag of its variables
    (breaks INF-SAVE-006)."""

    name = "broken-keeps-is-parameter"

    def patches(self, call: Call) -> list[tuple[Any, str, Any]]:
        from fluidspec.reference import _inference

        prune = _inference.prune_for_inference

        def keeping(program: Any, feeds: Any, targets: Any) -> Any:
            pruned = prune(program, feeds, targets)
            params = {p.name for p in program.all_parameters()}
            for var in pruned.global_block().vars.values():
                if var.name in params:
                    var._proto.is_parameter = True
            return pruned

        return [(_inference, "prune_for_inference", keeping)]


class BrokenFetchVarNotPersistable(PatchedReference):
    """Adds the fetch holder as a plain, non-persistable variable (breaks INF-SAVE-005)."""

    name = "broken-fetch-var-not-persistable"

    def patches(self, call: Call) -> list[tuple[Any, str, Any]]:
        from fluidspec.reference import _inference

        add = _inference._add_feed_fetch

        def adding(glob: Any, feeds: Any, targets: Any) -> None:
            add(glob, feeds, targets)
            glob.var("fetch")._proto.persistable = False

        return [(_inference, "_add_feed_fetch", adding)]


class BrokenProgramVersion(PatchedReference):
    """Writes ProgramDesc.version 2.6.2 as 262, digits run together (breaks PROG-VER-001)."""

    name = "broken-program-version"

    def patches(self, call: Call) -> list[tuple[Any, str, Any]]:
        from fluidspec.reference import _inference

        return [(_inference, "PADDLE_2_6_2_PROGRAM_VERSION", 262)]


class BrokenGuardIgnoresStartup(BrokenFluid):
    """program_guard switches the main program only; its startup_program argument is silently
    ignored (breaks API-MODEL-001)."""

    name = "broken-guard-ignores-startup"

    def _load(self) -> None:
        if self._io is not None:
            return
        super()._load()
        fluid = self._fluid
        real = fluid.program_guard

        @contextlib.contextmanager
        def program_guard(main_program: Any, startup_program: Any = None) -> Iterator[None]:
            with real(main_program):
                yield

        own = {n: getattr(fluid, n) for n in dir(fluid) if not n.startswith("__")}
        self._fluid = SimpleNamespace(**{**own, "program_guard": program_guard})


class BrokenCopiesInputStream(BrokenFluid):
    """Copies a combined stream given as bytes into a bytearray and back before decoding it
    (breaks SAFE-MEM-001: a load allocates for the bytes it has once, plus the values)."""

    name = "broken-copies-input-stream"

    def wrap(self, io: Any) -> dict[str, Callable[..., Any]]:
        def load_vars(executor: Any, dirname: Any, *args: Any, filename: Any = None,
                      **kw: Any) -> Any:
            if dirname is None and isinstance(filename, (bytes, bytearray, memoryview)):
                scratch = bytearray(filename)
                filename = bytes(scratch)
            return io.load_vars(executor, dirname, *args, filename=filename, **kw)

        return {"load_vars": load_vars}


class BrokenPruneIgnoresSubBlocks(PatchedReference):
    """Prunes by the ops' own inputs, not what their sub-blocks read (breaks INF-SAVE-002)."""

    name = "broken-prune-ignores-sub-blocks"

    def patches(self, call: Call) -> list[tuple[Any, str, Any]]:
        from fluidspec.reference import _inference

        return [(_inference, "_reads", lambda program, op: set(op.input_arg_names))]


class BrokenLoadJoinsNames(PatchedReference):
    """Loads join names to dirname unchecked, as saves do not (breaks SAFE-PATH-001)."""

    name = "broken-load-joins-names"

    def patches(self, call: Call) -> list[tuple[Any, str, Any]]:
        from fluidspec.reference import _files

        if not call.api.startswith("load"):
            return []
        return [(_files, "resolve", lambda root, name, **kw: root / name)]


class BrokenWritesInPlace(PatchedReference):
    """Writes every file in place, no temporary and rename (breaks SAFE-ATOMIC-001)."""

    name = "broken-writes-in-place"

    def patches(self, call: Call) -> list[tuple[Any, str, Any]]:
        from fluidspec.reference import _files

        def in_place(path: Any, data: Any) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.writelines([data] if isinstance(data, (bytes, bytearray, memoryview))
                                  else data)

        return [(_files, "atomic_write", in_place)]


class BrokenErrorsWithoutContext(BrokenFluid):
    """Raises the right error class but with its message only: no file, variable or offset
    (breaks ERR-002)."""

    name = "broken-errors-without-context"

    def wrap(self, io: Any) -> dict[str, Callable[..., Any]]:
        from fluidspec.spec.errors import FluidSpecError

        def bare(fn: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any, **kw: Any) -> Any:
                try:
                    return fn(*args, **kw)
                except FluidSpecError as exc:
                    raise type(exc)(exc.message) from None
            return call

        return {api: bare(getattr(io, api)) for api in ("load_vars", "load_params",
                                                        "load_persistables")}


class BrokenDefaultProgramIsEmpty(BrokenFluid):
    """Takes main_program=None as a new empty Program instead of default_main_program()
    (breaks SEL-CAND-001)."""

    name = "broken-default-program-empty"

    def wrap(self, io: Any) -> dict[str, Callable[..., Any]]:
        from fluidspec.reference import Program

        def empty_default(fn: Callable[..., Any]) -> Callable[..., Any]:
            def call(executor: Any, dirname: Any, main_program: Any = None, *args: Any,
                     **kw: Any) -> Any:
                return fn(executor, dirname, Program() if main_program is None else main_program,
                          *args, **kw)
            return call

        return {api: empty_default(getattr(io, api)) for api in (
            "save_vars", "load_vars", "save_params", "load_params", "save_persistables",
            "load_persistables")}


#: Broken implementations judged by the whole suite: the clause each must fail, and the other
#: clauses the same slip also breaks (charged there by checks of neighbouring rules).
BROKEN_ANYWHERE: dict[type[BrokenFluid], tuple[str, frozenset[str]]] = {
    BrokenKeepsIsParameter: ("INF-SAVE-006", frozenset({"INF-LOAD-004"})),
    BrokenPruneIgnoresSubBlocks: ("INF-SAVE-002", frozenset()),
    BrokenCopiesInputStream: ("SAFE-MEM-001", frozenset()),
    BrokenProgramVersion: ("PROG-VER-001", frozenset()),
    BrokenGuardIgnoresStartup: ("API-MODEL-001", frozenset()),
    BrokenFetchVarNotPersistable: ("INF-SAVE-005", frozenset()),
    BrokenLoadJoinsNames: ("SAFE-PATH-001", frozenset()),
    BrokenWritesInPlace: ("SAFE-ATOMIC-001", frozenset()),
    BrokenErrorsWithoutContext: ("ERR-002", frozenset()),
    BrokenDefaultProgramIsEmpty: ("SEL-CAND-001", frozenset()),
}
