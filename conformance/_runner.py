"""Running every check against implementations and folding the results into clauses.

``run_suite`` returns a ``SuiteReport``: one ``CheckResult`` per check × implementation, and from
them a status per clause × implementation:

* ``fail`` — some check charged this clause with a failure;
* ``pass`` — at least one check of this clause passed and none failed;
* ``skip`` — nothing ran (API not implemented, implementation unavailable, check stopped earlier);
* ``known`` — failed, and listed in ``conformance/known-failures/<impl>.txt``;
* ``stale`` — listed there, but passed: the entry should be removed.

Known failures excuse SHOULD and MAY clauses only: a MUST failure always fails the run.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluidspec import spec
from fluidspec.conformance._adapter import Adapter, AdapterUnavailable
from fluidspec.conformance._case import ProgramSpec, value_to_json
from fluidspec.conformance._discovery import resolve
from fluidspec.conformance._registry import Check, CheckContext, ClauseFailure, Skip, checks

__all__ = ["CheckResult", "ClauseStatus", "SuiteReport", "run_suite", "load_known_failures",
           "KNOWN_FAILURES_DIR"]

KNOWN_FAILURES_DIR = Path(__file__).resolve().parent / "known-failures"


@dataclass
class CheckResult:
    check: str
    impl: str
    status: str  # pass | fail | skip
    clauses: tuple[str, ...]
    clause: str | None = None  # the clause charged with a failure
    message: str = ""
    example: str = ""
    reproduce: str = ""
    seconds: float = 0.0
    case: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    also: tuple[str, ...] = ()  # further clauses the failure breaks (ERR-001)

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("check", "impl", "status", "clause", "message",
                                              "example", "reproduce")}
        out["clauses"] = list(self.clauses)
        out["also"] = list(self.also)
        out["seconds"] = round(self.seconds, 3)
        if self.case is not None:
            out["case"] = self.case
        if self.extra:
            out["extra"] = self.extra  # what ``make_vectors promote`` turns into a vector
        return out


@dataclass
class ClauseStatus:
    clause: str
    tier: str
    impl: str
    status: str
    checks: list[str] = field(default_factory=list)
    failure: CheckResult | None = None
    known_reason: str | None = None


@dataclass
class SuiteReport:
    impls: list[str]
    profile: str
    hello: dict[str, Any]
    results: list[CheckResult]
    known: dict[str, dict[str, str]]
    seconds: float = 0.0

    def matrix(self) -> dict[str, dict[str, str]]:
        """writer -> reader -> pass | fail, from the cross-implementation check."""
        out: dict[str, dict[str, str]] = {}
        for r in self.results:
            for pair, status in (r.extra.get("matrix") or {}).items():
                writer, _, reader = pair.partition(" -> ")
                cell = out.setdefault(writer, {})
                if cell.get(reader) != "fail":
                    cell[reader] = status
        return out

    def clause_statuses(self) -> list[ClauseStatus]:
        out = []
        for c in spec.clauses():
            for impl in self.impls:
                # r.clause too: a check may charge a clause it is not tagged with (the
                # clause the observation breaks); that failure must not vanish.
                mine = [r for r in self.results
                        if r.impl == impl and (c.id in r.clauses or c.id in r.also
                                               or r.clause == c.id)]
                failed = [r for r in mine if r.status == "fail" and (r.clause == c.id
                                                                     or c.id in r.also)]
                passed = [r for r in mine if r.status == "pass"]
                status = "fail" if failed else "pass" if passed else "skip"
                reason = self.known.get(impl, {}).get(c.id)
                if reason is not None and c.tier != "MUST":
                    if status == "fail":
                        status = "known"
                    elif status == "pass":
                        status = "stale"
                out.append(ClauseStatus(c.id, c.tier, impl, status, [r.check for r in mine],
                                        failed[0] if failed else None, reason))
        return out

    @property
    def must_failures(self) -> list[ClauseStatus]:
        return [s for s in self.clause_statuses() if s.tier == "MUST" and s.status == "fail"]

    @property
    def failed(self) -> bool:
        """Exit status rule: any MUST failure, or any unexcused failure."""
        return any(s.status == "fail" for s in self.clause_statuses()) or any(
            r.status == "fail" and r.clause not in {c.id for c in spec.clauses()}
            for r in self.results
        )

    def summary(self) -> dict[str, Any]:
        statuses = self.clause_statuses()
        per_impl: dict[str, Any] = {}
        for impl in self.impls:
            tiers: dict[str, dict[str, int]] = {}
            for s in statuses:
                if s.impl == impl:
                    tier = tiers.setdefault(s.tier, {k: 0 for k in
                                                     ("pass", "fail", "skip", "known", "stale")})
                    tier[s.status] += 1
            per_impl[impl] = tiers
        all_ids = [c.id for c in spec.clauses()]
        registered = {cid for ch in checks() for cid in ch.clauses}
        exercised = {s.clause for s in statuses if s.status != "skip"}
        return {
            "per_implementation": per_impl,
            "coverage": {
                "clauses": len(all_ids),
                "with_a_check": len([c for c in all_ids if c in registered]),
                "exercised": len([c for c in all_ids if c in exercised]),
                "percent": round(100.0 * len([c for c in all_ids if c in exercised])
                                 / max(len(all_ids), 1), 1),
                "without_a_check": [c for c in all_ids if c not in registered],
                "not_exercised": [c for c in all_ids if c not in exercised],
            },
            "checks": {st: len([r for r in self.results if r.status == st])
                       for st in ("pass", "fail", "skip")},
            "must_failures": len(self.must_failures),
            "stale_known_failures": [f"{s.impl}:{s.clause}" for s in statuses if s.status == "stale"],
            "ok": not self.failed,
            "seconds": round(self.seconds, 1),
        }

    def to_json(self) -> dict[str, Any]:
        clauses = []
        statuses = self.clause_statuses()
        for c in spec.clauses():
            row: dict[str, Any] = {"id": c.id, "tier": c.tier, "title": c.title,
                                   "chapter": c.chapter, "results": {}}
            for s in statuses:
                if s.clause == c.id:
                    row["results"][s.impl] = {
                        "status": s.status, "checks": s.checks,
                        "failure": None if s.failure is None else s.failure.to_json(),
                        "known_failure_reason": s.known_reason,
                    }
            clauses.append(row)
        return {
            "schema": "fluidspec-conformance-report/1",
            "profile": self.profile,
            "implementations": [{"name": i, "hello": self.hello.get(i)} for i in self.impls],
            "summary": self.summary(),
            "matrix": self.matrix(),
            "clauses": clauses,
            "checks": [r.to_json() for r in self.results],
        }


def known_failures_names(impl: str, hello: dict[str, Any] | None) -> list[str]:
    """Candidate file stems: ``<name>-<version>`` and ``<name>`` from hello, then the adapter name."""
    names = []
    info = (hello or {}).get("implementation") or {}
    if not isinstance(info, dict):  # a server that breaks PROTO-HELLO-001 is still reported
        info = {}
    if info.get("name"):
        if info.get("version"):
            names.append(f"{info['name']}-{info['version']}")
        names.append(str(info["name"]))
    names.append(impl)
    return [n.replace("/", "_").replace(":", "_").replace(" ", "_") for n in names]


def load_known_failures(impl: str, directory: Path = KNOWN_FAILURES_DIR,
                        hello: dict[str, Any] | None = None) -> dict[str, str]:
    """``<clause id> <one-line reason>`` per line; ``#`` starts a comment.

    The file is ``<dir>/<name>-<version>.txt`` or ``<dir>/<name>.txt`` with the name and version
    the implementation gives in hello (so ``paddle-2.6.2.txt``), else ``<adapter name>.txt``.
    """
    out: dict[str, str] = {}
    path = next((directory / f"{n}.txt" for n in known_failures_names(impl, hello)
                 if (directory / f"{n}.txt").exists()), None)
    if path is None:
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not line:
            continue
        clause, _, reason = line.partition(" ")
        out[clause] = reason.strip()
    return out


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


def run_check(chk: Check, impl: Adapter, oracle: Adapter, apis: frozenset[str], profile: str,
              spec_str: str, peers: Sequence[Adapter] = ()) -> CheckResult:
    """Run one check; every outcome becomes a CheckResult, nothing propagates."""
    reproduce = f"fluidspec conformance --impl '{spec_str}' --check {chk.id} --profile {profile}"
    missing = [a for a in chk.apis if a not in apis]
    if missing:
        return CheckResult(chk.id, impl.name, "skip", chk.clauses,
                           message=f"API not implemented: {', '.join(missing)}")
    ctx = CheckContext(impl=impl, oracle=oracle, profile=profile, apis=apis, impl_spec=spec_str,
                       peers=list(peers))
    start = time.perf_counter()
    also: tuple[str, ...] = ()
    try:
        chk.func(ctx)
        status, clause, message, example = "pass", None, "", ""
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


def run_suite(
    impl_specs: Sequence[str | Adapter],
    *,
    profile: str = "ci",
    only: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    known_failures_dir: Path = KNOWN_FAILURES_DIR,
    oracle: str | Adapter = "reference",
) -> SuiteReport:
    """Run every check (or ``only`` those ids) against each implementation."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    oracle_adapter = resolve(oracle) if isinstance(oracle, str) else oracle
    adapters: list[tuple[str, Adapter]] = []
    for item in impl_specs:
        adapters.append((item, resolve(item)) if isinstance(item, str) else (item.name, item))
    selected = [c for c in checks() if only is None or c.id in only]
    results: list[CheckResult] = []
    hello: dict[str, Any] = {}
    known: dict[str, dict[str, str]] = {}
    total = len(selected) * len(adapters)
    done = 0
    try:
        available: list[Adapter] = []
        for _, adapter in adapters:
            try:
                info = adapter.hello()
                hello[adapter.name] = info
                available.append(adapter)
            except AdapterUnavailable as exc:
                hello[adapter.name] = {"unavailable": str(exc)}
            except Exception as exc:  # a broken adapter is reported, it does not stop the run
                hello[adapter.name] = {"unavailable": f"hello raised {type(exc).__name__}: {exc}"}
            if not isinstance(hello[adapter.name], dict):
                hello[adapter.name] = {"unavailable": f"hello returned {hello[adapter.name]!r}"}
            known[adapter.name] = load_known_failures(adapter.name, known_failures_dir,
                                                      hello.get(adapter.name))
        for spec_str, adapter in adapters:
            info = hello[adapter.name]
            unavailable = info.get("unavailable")
            raw_apis = info.get("apis")
            apis = frozenset(a for a in raw_apis if isinstance(a, str)) if isinstance(
                raw_apis, list) else frozenset()
            peers = [a for a in available if a is not adapter]
            say(f"== {adapter.name}: {info}")
            for chk in selected:
                done += 1
                if unavailable is not None:
                    res = CheckResult(chk.id, adapter.name, "skip", chk.clauses,
                                      message=f"unavailable: {unavailable}")
                else:
                    res = run_check(chk, adapter, oracle_adapter, apis, profile, spec_str, peers)
                results.append(res)
                tail = f" {res.clause}: {res.message[:100]}" if res.status == "fail" else (
                    f" ({res.message[:80]})" if res.status == "skip" else "")
                say(f"[{done}/{total}] {adapter.name} {chk.id} … {res.status} "
                    f"({res.seconds:.1f}s){tail}")
    finally:
        for _, adapter in adapters:
            adapter.close()
        if all(oracle_adapter is not a for _, a in adapters):
            oracle_adapter.close()
    return SuiteReport([a.name for _, a in adapters], profile, hello, results, known,
                       time.perf_counter() - started)
