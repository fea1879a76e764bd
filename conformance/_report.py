"""The suite's report: one ``CheckResult`` per check × implementation, folded into a status per
clause × implementation, and its text rendering:

* ``fail`` — some check charged this clause with a failure;
* ``pass`` — at least one check of this clause passed and none failed;
* ``skip`` — nothing ran (API not implemented, implementation unavailable, check stopped earlier);
* ``known`` — failed, and listed in ``conformance/known-failures/<impl>.txt``;
* ``stale`` — listed there, but passed: the entry should be removed.

Known failures excuse SHOULD and MAY clauses only: a MUST failure always fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fluidspec import spec
from fluidspec.conformance._registry import clause_ids
from fluidspec.conformance.checks import all_checks

__all__ = ["CheckResult", "ClauseStatus", "SuiteReport", "render_text"]


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
        registered = clause_ids(all_checks())
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


_MARK = {"pass": "pass", "fail": "FAIL", "skip": "skip", "known": "known", "stale": "STALE"}


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
        ids = [c for c in clause_ids if tiers[c] == tier]
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
    lines = [""]
    for impl, tiers_ in summary["per_implementation"].items():
        parts = [f"{t} " + " ".join(f"{k}={v}" for k, v in counts.items() if v)
                 for t, counts in tiers_.items()]
        lines.append(f"{impl}: " + "; ".join(parts))
    cov = summary["coverage"]
    lines.append(f"clause coverage: {cov['exercised']}/{cov['clauses']} exercised "
                 f"({cov['percent']}%), {cov['with_a_check']} with a check; "
                 f"{summary['checks']['pass']} checks passed, {summary['checks']['fail']} failed, "
                 f"{summary['checks']['skip']} skipped in {summary['seconds']} s")
    lines.append("RESULT: " + ("ok" if summary["ok"] else
                                f"FAILED ({summary['must_failures']} MUST clause failures)"))
    return lines
