"""Running checks: one check against one implementation (``run_check``), or the suite
(``run_suite``) against several, collecting a ``SuiteReport``."""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fluidspec.conformance._adapter import Adapter, AdapterUnavailable, FluidAdapter
from fluidspec.conformance._case import ProgramSpec, value_to_json
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._discovery import BUILTIN, resolve
from fluidspec.conformance._known_failures import KNOWN_FAILURES_DIR, load_known_failures
from fluidspec.conformance._registry import Check
from fluidspec.conformance._report import CheckResult, Claim, SuiteReport
from fluidspec.conformance._subprocess import SubprocessAdapter
from fluidspec.conformance._verdict import ClauseFailure, Skip
from fluidspec.conformance.checks import all_checks

__all__ = ["run_check", "run_suite", "select_checks", "claim_of"]


def _notes(exc: BaseException) -> str:
    notes = getattr(exc, "__notes__", None) or []
    return "\n".join(str(n) for n in notes)


def _case_json(case: dict[str, Any] | None) -> dict[str, Any] | None:
    if not case:
        return None
    out: dict[str, Any] = {"impl": case.get("impl"), "outcome": case.get("outcome")}
    prog = case.get("program")
    if isinstance(prog, ProgramSpec):
        out["program"] = prog.to_json()
    out["scope"] = {k: value_to_json(v) for k, v in (case.get("scope") or {}).items()}
    call = case.get("call")
    out["call"] = call.to_json() if call is not None else None
    return out


def _servable(adapter: Adapter, spec_str: str) -> bool:
    """Whether the protocol checks can start a server of this implementation."""
    if isinstance(adapter, SubprocessAdapter):
        return True
    spec_str = getattr(adapter, "serve_as", None) or spec_str
    return bool(spec_str) and not spec_str.startswith("cmd:") and (
        spec_str in BUILTIN or ":" in spec_str)


def claim_of(adapter: Adapter, spec_str: str, info: dict[str, Any],
             declared: dict[str, Any] | None = None) -> Claim:
    """What ``adapter`` claims: ``declared`` (the implementer's claim file) when given, else its
    hello's ``apis`` and ``capabilities``.

    A capability the adapter cannot have is dropped (``fluid_objects`` needs an in-process
    Fluid implementation, ``protocol_server`` a command or an importable name to serve); a
    server behind the protocol always claims ``protocol_server``: the protocol is how it is
    judged at all.  Without a ``capabilities`` list an implementation claims every capability
    it can have.
    """
    from fluidspec.spec import CAPABILITIES

    source = declared if declared is not None else info
    apis = _declared_apis(source)
    possible = {"selected_rows", "fluid_1_inference_options"}
    if isinstance(adapter, FluidAdapter):
        possible.add("fluid_objects")
    if _servable(adapter, spec_str):
        possible.add("protocol_server")
    listed = source.get("capabilities")
    if isinstance(listed, list):
        capabilities = {c for c in listed if isinstance(c, str) and c in CAPABILITIES} & possible
    else:
        capabilities = possible
    if isinstance(adapter, SubprocessAdapter):
        capabilities.add("protocol_server")
    return Claim(apis, frozenset(capabilities),
                 "claim file" if declared is not None else "hello")


def run_check(chk: Check, impl: Adapter, oracle: Adapter, claim: Claim, profile: str,
              spec_str: str, peers: Sequence[Adapter] = ()) -> CheckResult:
    """Run one check; every outcome becomes a CheckResult, nothing propagates.

    ``unclaimed``: the check needs an API or capability outside ``claim``; ``unreached``: it
    ran to the end without once reaching the implementation, so it verified nothing.
    """
    reproduce = f"fluidspec conformance --impl '{spec_str}' --check {chk.id} --profile {profile}"
    missing = [a for a in chk.apis if a not in claim.apis] + [
        n for n in chk.needs if n not in claim.capabilities]
    if missing:
        return CheckResult(chk.id, impl.name, "unclaimed", chk.clauses,
                           message=f"not claimed: {', '.join(missing)}")
    ctx = CheckContext(impl=impl, oracle=oracle, profile=profile, apis=claim.apis,
                       impl_spec=spec_str, peers=list(peers), claims=claim.capabilities)
    start = time.perf_counter()
    also: tuple[str, ...] = ()
    # Protocol checks drive a server adapter directly; its own answers count as reaching it.
    answers_before = getattr(impl, "answers", 0)
    try:
        chk.func(ctx)
        status, clause, message, example = "pass", None, "", ""
        if ctx.reached == 0 and getattr(impl, "answers", 0) == answers_before:
            status, message = "unreached", "ran without reaching the implementation once"
    except Skip as exc:
        status, clause, message, example = "skip", None, str(exc), ""
    except AdapterUnavailable as exc:
        status, clause, message, example = "skip", None, str(exc), ""
    except ClauseFailure as exc:
        status, clause, message, example = "fail", exc.clause, exc.message, _notes(exc)
        also = exc.also
    except AssertionError as exc:
        status, clause, message, example = "fail", chk.clauses[0], str(exc), _notes(exc)
    except Exception as exc:  # a check that crashes is a failure of the check's main clause
        status, clause = "fail", chk.clauses[0]
        message = f"{type(exc).__name__}: {exc}"
        example = _notes(exc) + "\n" + "".join(traceback.format_exception(exc)[-4:])
    finally:
        shutil.rmtree(ctx.workdir, ignore_errors=True)
    seconds = time.perf_counter() - start
    return CheckResult(chk.id, impl.name, status, chk.clauses, clause, message, example.strip(),
                       reproduce if status == "fail" else "", seconds,
                       _case_json(ctx.last_case) if status == "fail" else None, dict(ctx.extra),
                       also)


def select_checks(only: Sequence[str] | None = None, clauses: Sequence[str] | None = None
                  ) -> list[Check]:
    """The registered checks, narrowed to the ids in ``only`` and to those tagged with a clause
    of ``clauses`` (each filter applies only when given)."""
    wanted = set(clauses) if clauses is not None else None
    return [c for c in all_checks()
            if (only is None or c.id in only) and (wanted is None or wanted & set(c.clauses))]


def _greet(adapter: Adapter) -> tuple[dict[str, Any], bool]:
    """The adapter's hello (or ``{"unavailable": why}``), and whether hello answered at all (such
    an adapter still serves as a peer).  A broken adapter does not stop the run."""
    try:
        info = adapter.hello()
    except AdapterUnavailable as exc:
        return {"unavailable": str(exc)}, False
    except Exception as exc:
        return {"unavailable": f"hello raised {type(exc).__name__}: {exc}"}, False
    if not isinstance(info, dict):
        return {"unavailable": f"hello returned {info!r}"}, True
    return info, True


def _declared_apis(info: dict[str, Any]) -> frozenset[str]:
    raw_apis = info.get("apis")
    if not isinstance(raw_apis, list):
        return frozenset()
    return frozenset(a for a in raw_apis if isinstance(a, str))


def _progress_line(res: CheckResult, done: int, total: int) -> str:
    tail = f" {res.clause}: {res.message[:100]}" if res.status == "fail" else (
        f" ({res.message[:80]})" if res.status in ("skip", "unclaimed", "unreached") else "")
    return f"[{done}/{total}] {res.impl} {res.check} … {res.status} ({res.seconds:.1f}s){tail}"


def run_suite(
    impl_specs: Sequence[str | Adapter],
    *,
    profile: str = "ci",
    only: Sequence[str] | None = None,
    clauses: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    known_failures_dir: Path = KNOWN_FAILURES_DIR,
    known_failures_file: Path | None = None,
    claim: dict[str, Any] | None = None,
    min_coverage: float = 100.0,
    oracle: str | Adapter = "reference",
) -> SuiteReport:
    """Run every check (or ``only`` those ids, or those tagged with one of ``clauses``) against
    each implementation.

    ``claim`` (the implementer's claim file, ``{"apis": [...], "capabilities": [...]}``) and
    ``known_failures_file`` apply to every implementation of the run, in place of what hello
    says and of the file found in ``known_failures_dir``.  ``min_coverage``: the percentage of
    its claimed clauses an implementation must have exercised for the run to count.
    """
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    oracle_adapter = resolve(oracle) if isinstance(oracle, str) else oracle
    adapters: list[tuple[str, Adapter]] = []
    for item in impl_specs:
        adapters.append((item, resolve(item)) if isinstance(item, str) else (item.name, item))
    selected = select_checks(only, clauses)
    results: list[CheckResult] = []
    hello: dict[str, Any] = {}
    known: dict[str, dict[str, str]] = {}
    claims: dict[str, Claim] = {}
    total = len(selected) * len(adapters)
    try:
        available: list[Adapter] = []
        for _, adapter in adapters:
            hello[adapter.name], answered = _greet(adapter)
            if answered:
                available.append(adapter)
            known[adapter.name] = load_known_failures(adapter.name, known_failures_dir,
                                                      hello[adapter.name], known_failures_file)
        for spec_str, adapter in adapters:
            info = hello[adapter.name]
            say(f"== {adapter.name}: {info}")
            peers = [a for a in available if a is not adapter]
            claims[adapter.name] = claim_of(adapter, spec_str, info, claim)
            for chk in selected:
                if info.get("unavailable") is not None:
                    res = CheckResult(chk.id, adapter.name, "skip", chk.clauses,
                                      message=f"unavailable: {info['unavailable']}")
                else:
                    res = run_check(chk, adapter, oracle_adapter, claims[adapter.name], profile,
                                    spec_str, peers)
                results.append(res)
                say(_progress_line(res, len(results), total))
    finally:
        for _, adapter in adapters:
            adapter.close()
        if all(oracle_adapter is not a for _, a in adapters):
            oracle_adapter.close()
    return SuiteReport([a.name for _, a in adapters], profile, hello, results, known,
                       time.perf_counter() - started, claims=claims, min_coverage=min_coverage)
