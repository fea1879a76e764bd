"""The suite's report: one ``CheckResult`` per check × implementation, folded into a status per
clause × implementation, the verdict, and its text rendering.

A clause's status for one implementation:

* ``fail`` — some check charged this clause with a failure;
* ``pass`` — a check of this clause reached the implementation, judged it, and none failed;
* ``known`` — failed, and listed in the implementation's known-failures file (SHOULD/MAY only);
* ``stale`` — listed there, but passed: the entry should be removed;
* ``not-claimed`` — every check of it needs an API or capability the implementation does not
  claim (spec.CAPABILITIES);
* ``not-exercised`` — claimed, but no check of it got to judge the implementation (it could
  not be started, a check was skipped, or ran without reaching it);
* ``not-selected`` — no check of it was selected for this run (``--check`` / ``--clause``).

The verdict (``SuiteReport.verdict``): exit 1 when a clause failed (a MUST failure is never
excused); else 3 when the run verified less than it must — an implementation that could not be
started or reached, one that claims nothing, or fewer of its claimed clauses exercised than
``min_coverage`` percent; else 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fluidspec import spec
from fluidspec.conformance._registry import clause_ids
from fluidspec.conformance.checks import all_checks

__all__ = ["CheckResult", "Claim", "ClauseStatus", "SuiteReport", "render_text", "EXIT_FAILED",
           "EXIT_INCOMPLETE", "EXIT_OK"]

EXIT_OK = 0
#: A clause failed that no known-failures entry excuses.
EXIT_FAILED = 1
#: Nothing failed, but the run did not verify what it had to (see the module docstring).
EXIT_INCOMPLETE = 3
#: Statuses of a clause that was judged for the implementation.
_JUDGED = ("pass", "fail", "known", "stale")


@dataclass(frozen=True)
class Claim:
    """What an implementation claims: its APIs and capabilities, and where the claim came from."""

    apis: frozenset[str]
    capabilities: frozenset[str]
    source: str = "hello"

    def to_json(self) -> dict[str, Any]:
        return {"apis": sorted(self.apis), "capabilities": sorted(self.capabilities),
                "source": self.source}


@dataclass
class CheckResult:
    check: str
    impl: str
    status: str  # pass | fail | skip | unclaimed | unreached
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
    claims: dict[str, Claim] = field(default_factory=dict)
    #: Percentage of its claimed clauses each implementation must have exercised.
    min_coverage: float = 100.0

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
                if failed:
                    status = "fail"
                elif passed:
                    status = "pass"
                elif not mine:
                    status = "not-selected"
                elif all(r.status == "unclaimed" for r in mine):
                    status = "not-claimed"
                else:
                    status = "not-exercised"
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
        """Any MUST failure, or any unexcused failure."""
        return any(s.status == "fail" for s in self.clause_statuses()) or any(
            r.status == "fail" and r.clause not in {c.id for c in spec.clauses()}
            for r in self.results
        )

    def coverage_of(self, impl: str, statuses: list[ClauseStatus] | None = None
                    ) -> dict[str, Any]:
        """Claimed and exercised clauses of ``impl`` among those selected for the run."""
        mine = [s for s in (statuses or self.clause_statuses()) if s.impl == impl]
        claimed = [s.clause for s in mine if s.status in (*_JUDGED, "not-exercised")]
        exercised = [s.clause for s in mine if s.status in _JUDGED]
        return {"claimed": len(claimed), "exercised": len(exercised),
                "percent": round(100.0 * len(exercised) / len(claimed), 1) if claimed else 0.0,
                "not_exercised": [c for c in claimed if c not in set(exercised)]}

    def verdict(self) -> tuple[int, str]:
        """(exit status, one-line reason): see the module docstring."""
        statuses = self.clause_statuses()
        if self.failed:
            first = next((s for s in statuses if s.status == "fail"), None)
            where = f"; first: {first.impl} {first.clause}" if first else ""
            return EXIT_FAILED, (f"{len([s for s in statuses if s.status == 'fail'])} clause "
                                 f"failures, {len(self.must_failures)} of them MUST{where}")
        for impl in self.impls:
            why = (self.hello.get(impl) or {}).get("unavailable")
            if why is not None:
                return EXIT_INCOMPLETE, f"{impl} could not be started or reached: {why}"
        for impl in self.impls:
            cov = self.coverage_of(impl, statuses)
            if cov["claimed"] == 0:
                return EXIT_INCOMPLETE, (f"{impl} claims none of the selected clauses: nothing "
                                         f"was verified")
            if cov["percent"] < self.min_coverage:
                missing = cov["not_exercised"]
                shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more"
                                                  if len(missing) > 6 else "")
                return EXIT_INCOMPLETE, (
                    f"{impl}: {cov['exercised']} of {cov['claimed']} claimed clauses exercised "
                    f"({cov['percent']}%, {self.min_coverage:g}% required); not exercised: "
                    f"{shown}")
        return EXIT_OK, "ok"

    def summary(self) -> dict[str, Any]:
        statuses = self.clause_statuses()
        per_impl: dict[str, Any] = {}
        kinds = ("pass", "fail", "known", "stale", "not-claimed", "not-exercised",
                 "not-selected")
        for impl in self.impls:
            tiers: dict[str, dict[str, int]] = {}
            for s in statuses:
                if s.impl == impl:
                    tier = tiers.setdefault(s.tier, {k: 0 for k in kinds})
                    tier[s.status] += 1
            per_impl[impl] = tiers
        all_ids = [c.id for c in spec.clauses()]
        registered = clause_ids(all_checks())
        exercised = {s.clause for s in statuses if s.status in _JUDGED}
        code, reason = self.verdict()
        return {
            "per_implementation": per_impl,
            "claims": {impl: claim.to_json() for impl, claim in self.claims.items()},
            "implementation_coverage": {impl: self.coverage_of(impl, statuses)
                                        for impl in self.impls},
            "coverage": {
                "clauses": len(all_ids),
                "with_a_check": len([c for c in all_ids if c in registered]),
                "exercised": len([c for c in all_ids if c in exercised]),
                "percent": round(100.0 * len([c for c in all_ids if c in exercised])
                                 / max(len(all_ids), 1), 1),
                "without_a_check": [c for c in all_ids if c not in registered],
                "not_exercised": [c for c in all_ids if c not in exercised],
            },
            "min_coverage": self.min_coverage,
            "checks": {st: len([r for r in self.results if r.status == st])
                       for st in ("pass", "fail", "skip", "unclaimed", "unreached")},
            "must_failures": len(self.must_failures),
            "stale_known_failures": [f"{s.impl}:{s.clause}" for s in statuses if s.status == "stale"],
            "exit_status": code,
            "verdict": reason,
            "ok": code == EXIT_OK,
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


_MARK = {"pass": "pass", "fail": "FAIL", "known": "known", "stale": "STALE",
         "not-claimed": "-", "not-exercised": "UNRUN", "not-selected": ""}


def render_text(report: SuiteReport) -> str:
    """A clause × implementation table per tier, then failures, stale entries, matrix, summary."""
    statuses = report.clause_statuses()
    lines = _clause_table(statuses, report.impls)
    lines += _failure_lines(statuses)
    lines += _stale_lines(statuses)
    lines += _matrix_lines(report.matrix())
    lines += _summary_lines(report.summary())
    return "\n".join(lines)


def _clause_table(statuses: list[ClauseStatus], impls: list[str]) -> list[str]:
    by_key = {(s.clause, s.impl): s for s in statuses}
    clause_ids = list(dict.fromkeys(s.clause for s in statuses))
    tiers = {s.clause: s.tier for s in statuses}
    width = max([len(c) for c in clause_ids] + [10])
    cols = [max(len(i), 6) for i in impls]
    lines: list[str] = []
    for tier in ("MUST", "SHOULD", "MAY"):
        ids = [c for c in clause_ids if tiers[c] == tier and any(
            by_key[(c, i)].status != "not-selected" for i in impls)]
        if not ids:
            continue
        lines.append("")
        lines.append(f"{tier} clauses".ljust(width) + "  " + "  ".join(
            i.ljust(w) for i, w in zip(impls, cols, strict=True)))
        lines.append("-" * (width + 2 + sum(w + 2 for w in cols)))
        for cid in ids:
            cells = [_MARK[by_key[(cid, i)].status].ljust(w) for i, w in zip(impls, cols, strict=True)]
            lines.append(cid.ljust(width) + "  " + "  ".join(cells))
    return lines


def _failure_lines(statuses: list[ClauseStatus]) -> list[str]:
    failures = [s for s in statuses if s.status == "fail" and s.failure is not None]
    if not failures:
        return []
    lines = ["", "Failures", "--------"]
    for s in failures:
        f = s.failure
        assert f is not None
        lines.append(f"{s.tier} {s.clause} — {s.impl} — check {f.check}")
        lines.append(f"  {f.message}")
        if f.example:
            for ex in f.example.splitlines()[:25]:
                lines.append(f"    {ex}")
        lines.append(f"  reproduce: {f.reproduce}")
    return lines


def _stale_lines(statuses: list[ClauseStatus]) -> list[str]:
    stale = [s for s in statuses if s.status == "stale"]
    if not stale:
        return []
    return ["", "Stale known failures (they pass now; remove them from the file):",
            *(f"  {s.impl}: {s.clause}  ({s.known_reason})" for s in stale)]


def _matrix_lines(matrix: dict[str, dict[str, str]]) -> list[str]:
    if not matrix:
        return []
    names = sorted({r for row in matrix.values() for r in row} | set(matrix))
    lines = ["", "Cross-implementation matrix (row writes, column loads)"]
    w = max(len(n) for n in names) + 2
    lines.append(" " * w + "".join(n.ljust(w) for n in names))
    for writer in names:
        cells = [("-" if writer == reader else matrix.get(writer, {}).get(reader, "")).ljust(w)
                 for reader in names]
        lines.append(writer.ljust(w) + "".join(cells))
    return lines


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    lines = ["", "(-: not claimed by the implementation; UNRUN: claimed but not exercised)"]
    for impl, tiers_ in summary["per_implementation"].items():
        parts = [f"{t} " + " ".join(f"{k}={v}" for k, v in counts.items()
                                     if v and k != "not-selected")
                 for t, counts in tiers_.items()]
        cov = summary["implementation_coverage"][impl]
        lines.append(f"{impl}: " + "; ".join(p for p in parts if " " in p.strip())
                     + f" | {cov['exercised']}/{cov['claimed']} claimed clauses exercised")
    cov = summary["coverage"]
    lines.append(f"clause coverage: {cov['exercised']}/{cov['clauses']} exercised "
                 f"({cov['percent']}%), {cov['with_a_check']} with a check; "
                 f"{summary['checks']['pass']} checks passed, {summary['checks']['fail']} failed, "
                 f"{summary['checks']['skip']} skipped, {summary['checks']['unreached']} never "
                 f"reached the implementation in {summary['seconds']} s")
    code = summary["exit_status"]
    word = {EXIT_OK: "ok", EXIT_FAILED: "FAILED", EXIT_INCOMPLETE: "INCOMPLETE"}[code]
    lines.append("RESULT: " + ("ok" if code == EXIT_OK else f"{word}: {summary['verdict']}"))
    return lines
