"""The compatibility document: the suite run on every implementation, folded into
implementation × spec chapter × clause, beside the interoperability grid (``interop``).

``compatibility_document`` makes the JSON ``fluidspec matrix`` writes and docs/data/
compatibility.json holds; ``render_markdown`` turns it into the published page
(docs/compatibility.md).  The document is deterministic for a fixed profile: no timings, paths
or machine names, so a committed copy can be compared with a fresh one.
"""

from __future__ import annotations

import html
import importlib.resources
from collections.abc import Callable, Sequence
from typing import Any

from fluidspec import spec
from fluidspec.conformance._discovery import BUILTIN
from fluidspec.conformance._report import SuiteReport
from fluidspec.conformance._runner import run_suite
from fluidspec.conformance.interop import run_interop

__all__ = ["SCHEMA", "DEFAULT_IMPLEMENTATIONS", "STATUSES", "chapters", "compatibility_document", "suite_part",
           "render_markdown"]

SCHEMA = "fluidspec-compatibility/1"
#: What ``fluidspec matrix`` runs without ``--impl``: every built-in (unavailable ones shown so).
DEFAULT_IMPLEMENTATIONS = BUILTIN
#: Clause statuses in the order the page counts them.
STATUSES = ("pass", "fail", "known", "stale", "not-claimed", "not-exercised")


def _chapter_title(chapter: str) -> tuple[int, str]:
    """(number, title) from the chapter's first line, ``# Chapter N — Title``."""
    path = importlib.resources.files("fluidspec.spec") / "chapters" / f"{chapter}.md"
    first = path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    head, _, title = first.partition(" — ")
    words = head.split()
    number = int(words[1]) if len(words) == 2 and words[0] == "Chapter" and words[1].isdigit() else 99
    return number, (title or first).replace("`", "")


def chapters() -> list[dict[str, Any]]:
    """The spec's chapters in their order, each with its clauses (id, tier, title)."""
    by_chapter: dict[str, list[Any]] = {}
    for c in spec.clauses():
        by_chapter.setdefault(c.chapter, []).append(c)
    out = []
    for chapter, clauses in by_chapter.items():
        number, title = _chapter_title(chapter)
        out.append({"id": chapter, "number": number, "title": title,
                    "clauses": [{"id": c.id, "tier": c.tier, "title": c.title} for c in clauses]})
    return sorted(out, key=lambda ch: (ch["number"], ch["id"]))


def _implementation(report: SuiteReport, name: str) -> dict[str, Any]:
    hello = report.hello.get(name) or {}
    why = hello.get("unavailable")
    claim = report.claims.get(name)
    impl = hello.get("implementation") if isinstance(hello.get("implementation"), dict) else {}
    apis = sorted(claim.apis) if claim is not None else []
    return {"name": name, "available": why is None,
            "unavailable_reason": None if why is None else str(why).splitlines()[0],
            "version": impl.get("version") if why is None else None,
            "apis": apis,
            "reader_only": why is None and not any(a.startswith("save") for a in apis)}


def suite_part(report: SuiteReport) -> dict[str, Any]:
    """implementation → chapter → counts and clause statuses, from one suite run."""
    statuses = {(s.impl, s.clause): s for s in report.clause_statuses()}
    results: dict[str, Any] = {}
    for name in report.impls:
        per_chapter: dict[str, Any] = {}
        for chapter in chapters():
            counts = dict.fromkeys(STATUSES, 0)
            clauses: dict[str, Any] = {}
            for c in chapter["clauses"]:
                s = statuses[(name, c["id"])]
                counts[s.status] = counts.get(s.status, 0) + 1
                entry: dict[str, Any] = {"status": s.status}
                if s.status in ("fail", "known") and s.failure is not None:
                    entry["check"] = s.failure.check
                if s.known_reason is not None:
                    entry["known_failure_reason"] = s.known_reason
                clauses[c["id"]] = entry
            per_chapter[chapter["id"]] = {"counts": counts, "clauses": clauses}
        results[name] = per_chapter
    return {"implementations": [_implementation(report, n) for n in report.impls],
            "results": results}


def compatibility_document(impls: Sequence[str], *, profile: str = "ci",
                           progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the suite on ``impls`` and the interop grid between them; the JSON document."""
    report = run_suite(list(impls), profile=profile, progress=progress)
    if progress:
        progress("== interoperability grid")
    return {"schema": SCHEMA, "profile": profile,
            "chapters": [{k: ch[k] for k in ("id", "number", "title")} for ch in chapters()],
            **suite_part(report), "interop": run_interop(impls)}


# --------------------------------------------------------------------------------------------
# The page

_SYMBOL = {"pass": "✓ pass", "fail": "✗ FAIL", "known": "known failure", "stale": "stale entry",
           "not-claimed": "not claimed", "not-exercised": "not exercised",
           "unavailable": "unavailable", "not-selected": "not selected"}


def _counts_cell(counts: dict[str, int]) -> str:
    shown = [f"{counts[k]} {k}" for k in ("pass", "fail", "known", "not-claimed")
             if counts.get(k)]
    shown += [f"{counts[k]} {k}" for k in ("stale", "not-exercised") if counts.get(k)]
    return ", ".join(shown) or "—"


def _anchor(impl: str, chapter: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in f"{impl}-{chapter}").lower()


def _summary_table(doc: dict[str, Any]) -> list[str]:
    impls = doc["implementations"]
    head = "".join(f"<th scope=\"col\">{html.escape(i['name'])}</th>" for i in impls)
    rows = []
    for ch in doc["chapters"]:
        cells = []
        for impl in impls:
            if not impl["available"]:
                cells.append("<td class=\"compat-unavailable\">unavailable</td>")
                continue
            counts = doc["results"][impl["name"]][ch["id"]]["counts"]
            bad = counts.get("fail", 0) > 0
            cells.append(f"<td class=\"compat-{'fail' if bad else 'ok'}\"><a href=\"#"
                         f"{_anchor(impl['name'], ch['id'])}\">{_counts_cell(counts)}</a></td>")
        rows.append(f"<tr><th scope=\"row\">{html.escape(ch['title'])}</th>{''.join(cells)}</tr>")
    return ["<div class=\"compat-scroll\">",
            "<table class=\"compat-table\" id=\"compat-chapters\">",
            f"<thead><tr><th scope=\"col\">Chapter</th>{head}</tr></thead>",
            "<tbody>", *rows, "</tbody></table></div>"]


def _clause_lists(doc: dict[str, Any], clause_titles: dict[str, tuple[str, str]]) -> list[str]:
    out: list[str] = []
    for impl in doc["implementations"]:
        if not impl["available"]:
            continue
        for ch in doc["chapters"]:
            part = doc["results"][impl["name"]][ch["id"]]
            items = []
            for cid, entry in part["clauses"].items():
                tier, title = clause_titles.get(cid, ("", ""))
                reason = entry.get("known_failure_reason")
                items.append(f"<li><code>{cid}</code> <span class=\"compat-tier\">{tier}</span> "
                             f"<strong>{_SYMBOL.get(entry['status'], entry['status'])}</strong> "
                             f"— {html.escape(title)}"
                             + (f"<br><em>Known failure:</em> {html.escape(reason)}" if reason
                                else "") + "</li>")
            out += [f"<details class=\"compat-clauses\" id=\"{_anchor(impl['name'], ch['id'])}\">",
                    f"<summary>{html.escape(impl['name'])} — {html.escape(ch['title'])}: "
                    f"{_counts_cell(part['counts'])}</summary>",
                    "<ul>", *items, "</ul></details>", ""]
    return out


def _interop_tables(grid: dict[str, Any]) -> list[str]:
    cells = {(c["layout"], c["writer"], c["reader"]): c for c in grid["cells"]}
    out: list[str] = []
    for layout in grid["layouts"]:
        head = "".join(f"<th scope=\"col\">{html.escape(r)}</th>" for r in grid["readers"])
        rows = []
        for w in grid["writers"]:
            tds = []
            for r in grid["readers"]:
                c = cells[(layout["id"], w, r)]
                text = _SYMBOL.get(c["status"], c["status"])
                if c["status"] == "fail":
                    text += f" <code>{c.get('clause') or ''}</code> ({c.get('at_fault')})"
                title = html.escape(c.get("detail", ""), quote=True)
                tds.append(f"<td class=\"compat-{c['status']}\" title=\"{title}\">{text}</td>")
            rows.append(f"<tr><th scope=\"row\">{html.escape(w)}</th>{''.join(tds)}</tr>")
        out += [f"<h3 id=\"interop-{layout['id']}\">{layout['id']}: "
                f"<code>{layout['save']}</code> → <code>{layout['load']}</code></h3>", "",
                f"<p>{html.escape(layout['what'])}; rows write, columns read.</p>", "",
                "<div class=\"compat-scroll\">",
                f"<table class=\"compat-table compat-interop\" id=\"interop-grid-{layout['id']}\">",
                f"<thead><tr><th scope=\"col\">writer ↓ reader →</th>{head}</tr></thead>",
                "<tbody>", *rows, "</tbody></table></div>", ""]
    failures = [c for c in grid["cells"] if c["status"] == "fail"]
    if failures:
        out += ["<h3>Interoperability failures</h3>", "<ul>"]
        out += [f"<li>{html.escape(c['layout'])}: {html.escape(c['writer'])} → "
                f"{html.escape(c['reader'])}: <code>{c.get('clause')}</code> — "
                f"{html.escape(c.get('detail', ''))}</li>" for c in failures]
        out.append("</ul>")
    return out


_STYLE = """<style>
.compat-scroll { overflow-x: auto; max-width: 100%; margin-bottom: 1em; }
.compat-table { border-collapse: collapse; font-size: 0.75rem; }
.compat-table th, .compat-table td { border: 1px solid #ccc; padding: 0.3em 0.5em;
  vertical-align: top; min-width: 6em; }
.compat-table thead th { position: sticky; top: 0; background: var(--md-default-bg-color, #fff); }
.compat-fail { background: #fde2e2; }
.compat-table td a { text-decoration: underline dotted; }
.compat-pass { background: #e3f6e3; }
.compat-unavailable, .compat-not-claimed { color: #777; }
.compat-clauses { margin: 0.4em 0; }
.compat-clauses:target { outline: 2px solid #888; }
</style>
<script>
/* A chapter cell links to its clause list: open it when the address names it. */
function compatOpen() {
  var el = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (el && el.tagName === "DETAILS") { el.open = true; }
}
window.addEventListener("hashchange", compatOpen);
document.addEventListener("DOMContentLoaded", compatOpen);
</script>"""


def render_markdown(doc: dict[str, Any]) -> str:
    """The tables of the compatibility page (HTML inside Markdown: tables that scroll in their
    own box on a narrow screen, and clause lists that open from a chapter cell)."""
    clause_titles = {c.id: (c.tier, c.title) for c in spec.clauses()}
    impls = doc["implementations"]
    notes = [f"- **{i['name']}**" + (f" {i['version']}" if i.get("version") else "")
             + (": reader only (loads inference models)" if i.get("reader_only") else "")
             + ("" if i["available"] else f": unavailable ({i['unavailable_reason']})")
             for i in impls]
    return "\n".join([
        _STYLE, "", f"Profile `{doc['profile']}`; implementations:", "", *notes, "",
        "## Implementation × chapter", "",
        "Each cell counts the chapter's clauses by status; follow it to the clause list.", "",
        *_summary_table(doc), "", "## Clauses by implementation and chapter", "",
        *_clause_lists(doc, clause_titles), "", "## Interoperability", "",
        *_interop_tables(doc["interop"]), ""])

