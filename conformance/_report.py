"""The human-readable report: a clause × implementation table per tier, then every failure."""

from __future__ import annotations

from fluidspec.conformance._runner import SuiteReport

__all__ = ["render_text"]

_MARK = {"pass": "pass", "fail": "FAIL", "skip": "skip", "known": "known", "stale": "STALE"}


def render_text(report: SuiteReport, *, verbose: bool = False) -> str:
    statuses = report.clause_statuses()
    impls = report.impls
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
            row = cid.ljust(width) + "  " + "  ".join(cells)
            if verbose or any(by_key[(cid, i)].status in ("fail", "stale") for i in impls):
                lines.append(row)
            elif not verbose:
                lines.append(row)
    failures = [s for s in statuses if s.status == "fail" and s.failure is not None]
    if failures:
        lines.append("")
        lines.append("Failures")
        lines.append("--------")
        for s in failures:
            f = s.failure
            assert f is not None
            lines.append(f"{s.tier} {s.clause} — {s.impl} — check {f.check}")
            lines.append(f"  {f.message}")
            if f.example:
                for ex in f.example.splitlines()[:25]:
                    lines.append(f"    {ex}")
            lines.append(f"  reproduce: {f.reproduce}")
    stale = [s for s in statuses if s.status == "stale"]
    if stale:
        lines.append("")
        lines.append("Stale known failures (they pass now; remove them from the file):")
        for s in stale:
            lines.append(f"  {s.impl}: {s.clause}  ({s.known_reason})")
    matrix = report.matrix()
    if matrix:
        names = sorted({r for row in matrix.values() for r in row} | set(matrix))
        lines.append("")
        lines.append("Cross-implementation matrix (row writes, column loads)")
        w = max(len(n) for n in names) + 2
        lines.append(" " * w + "".join(n.ljust(w) for n in names))
        for writer in names:
            cells = [("-" if writer == reader else matrix.get(writer, {}).get(reader, "")).ljust(w)
                     for reader in names]
            lines.append(writer.ljust(w) + "".join(cells))
    summary = report.summary()
    lines.append("")
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
    return "\n".join(lines)
