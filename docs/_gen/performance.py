"""The performance page and its charts, from the bench JSON (``docs/data/bench.json``).

Written by ``fluidspec bench --json`` (``results``, ``notes``, ``targets``) and
``fluidspec bench --sweep --json`` (``sweep``) into the same file.  Every part may be absent —
an older JSON, or a sweep never run — and the page then says "not measured" for it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH_JSON = ROOT / "docs" / "data" / "bench.json"
RESULT_KEYS = frozenset({"case", "op", "impl", "median_s", "min_s", "max_s", "bytes", "count"})
# The limit each kind of workload is drawn against: a fresh numpy copy in memory, a plain
# Python write/read of the same bytes for files.
LIMITS = {"encode": "limit-memcpy-fresh", "decode-copy": "limit-memcpy-fresh",
          "save": "limit-python-files", "load": "limit-python-files"}
COMMAND = ".venv/bin/fluidspec bench --json docs/data/bench.json"
SWEEP_COMMAND = ".venv/bin/fluidspec bench --sweep --json docs/data/bench.json"


def load_bench(path: Path = BENCH_JSON) -> list[dict[str, Any]] | None:
    """The ``results`` of a bench JSON (None when there is none), checked against the schema."""
    document = load_bench_document(path)
    return None if document is None else document.get("results")


def load_bench_document(path: Path = BENCH_JSON) -> dict[str, Any] | None:
    """The whole bench JSON, every result row (the sweep's too) checked for its keys."""
    if not path.is_file():
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    rows = list(document.get("results") or [])
    rows += list((document.get("sweep") or {}).get("results") or [])
    for row in rows:
        missing = RESULT_KEYS - row.keys()
        if missing:
            raise ValueError(f"{path}: a result lacks {sorted(missing)}: {row}")
    return document


def _throughput(row: dict[str, Any]) -> float:
    """MB/s (10**6 bytes per second) at the median time."""
    return row["bytes"] / row["median_s"] / 1e6 if row["median_s"] > 0 else float("inf")


def _seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} µs"


def _cell(text: Any) -> str:
    return str(text).replace("|", "/")


# --------------------------------------------------------------------------------------------
# The page


def performance_page(results: list[dict[str, Any]] | None,
                     document: dict[str, Any] | None = None) -> str:
    lines = [
        "# Performance",
        "",
        "Generated at build time from `docs/data/bench.json`, the output of `fluidspec bench",
        "--json` (schema: `{\"results\": [{case, op, impl, median_s, min_s, max_s, bytes, count}],",
        "\"targets\": [...], \"machine\": {...}, \"sweep\": {..., \"machine\": {...}}}`;",
        "`count` is the number of tensors, `machine` what each part ran on).  Refresh it",
        "with the full run and the sweep, or `--quick` (smaller sizes, fewer repeats) to check",
        "that it works:",
        "",
        "```sh",
        COMMAND,
        SWEEP_COMMAND,
        "```",
        "",
    ]
    sweep = (document or {}).get("sweep")
    if not results and not sweep:
        lines += [
            "!!! warning \"No benchmark results recorded yet\"",
            "    `docs/data/bench.json` is absent, so there is no table and no plot.  Run the",
            "    commands above and rebuild the docs.",
            "",
        ]
        return "\n".join(lines)
    lines += [
        "Implementations are timed side by side in one run, round by round (each runs once per",
        "round), so that the machine's drift hits them alike; a ratio is taken of medians, with",
        "the ratio of the minima beside it.  The committed file was written on the project's",
        "2-core development machine, a VM whose ext4 file system has no journal: there the",
        "kernel avoids reusing an inode freed in the last minute (six while its inode table is",
        "not yet written back), and every create scans past the ones freed, so files created",
        "soon after many deletions cost ten times more.",
        "The bench therefore keeps the directories of its separate-file saves until it ends",
        "instead of removing each after its round.  The VM also hands the memory it frees",
        "back to its host after a few seconds, and the first touch of such memory costs a",
        "fault in the host (1 GiB into a fresh array: 150 ms, or 1.3-1.5 s in the rounds that",
        "got such memory, whichever implementation ran), so before each timed run of a",
        "megabyte or more the bench writes and frees a buffer of that size (for many small",
        "files, the page cache they take), untimed, and",
        "before each timed save it writes back whatever earlier runs left dirty (`os.sync`),",
        "so that no save shares the cores with the writeback of files another one kept.  Read",
        "the ratios, not the absolute times.",
        "",
        "Floors stand beside the limits.  `limit-read-views` is one plain read of the file",
        "(from 16 MiB on, one piece per core, as `numba_kernels` reads) plus one array per",
        "record, the least any loader returning arrays does;",
        "`limit-read-fresh` reads one big tensor's payload straight into a fresh array (one",
        "piece per core, a thread each), the",
        "least a loader does that returns new memory (Paddle's allocator refills memory it",
        "kept, and pays no page faults);",
        "`limit-read-pairs` adds the `(array, lod)` pair per record that the file layer",
        "returns; `limit-gather-write` is one look at every array's dtype and shape, the records",
        "gathered run by run and plainly written, with no lock, temporary or atomic replace;",
        "`limit-stream-write` is, for one big tensor, its header and the array itself in one",
        "`writev` into a new file reserved first (as numpy's `tofile` reserves), no staging of",
        "the payload that the 20-odd-byte header leaves misaligned with its file position",
        "(where staging wins, on two cores one thread staging while the other writes, it is no",
        "floor and proves nothing).",
        "`limit-fluid-objects` adds, per Variable, what any implementation of `save_params` /",
        "`load_params` must touch in the Fluid object model (name, declared dtype and shape, the",
        "scope tensor).  `limit-directory-ops` is, for one file per tensor, the directory's own",
        "calls of an atomic save into a new directory with nothing written: an unnamed file",
        "opened per file (on numba's threads) and linked under its name.",
        "`numba-api` and `reference-api` are those API calls themselves.  A",
        "target missed where its floor alone misses the bound is out of reach in that run.",
        "",
    ]
    lines += _machine_section(document or {})
    lines += _targets_section(document or {})
    if results:
        lines += ["## Each workload against its limit", "",
                  "Time as a multiple of the limit (a fresh numpy copy for encode and decode,",
                  "a plain Python write or read of the same bytes for files); the line at 1x is",
                  "the limit.  Shorter is faster.", "",
                  "![Each implementation as a multiple of its workload's limit](performance.png)",
                  ""]
    lines += _sweep_section(sweep)
    if results:
        lines += _results_table(results)
    notes = list((document or {}).get("notes") or [])
    notes += list((sweep or {}).get("notes") or [])
    if notes:
        lines += ["", "## Notes from the run", ""]
        lines += [f"* {_cell(n)}" for n in notes]
    return "\n".join(lines) + "\n"


# What a reader compares two machines by; the library versions may differ within one machine.
_SAME_MACHINE_KEYS = ("cpu", "logical_cpus", "usable_cpus", "memory_gib", "kernel", "huge_pages")


def _machine_section(document: dict[str, Any]) -> list[str]:
    from fluidspec._bench_machine import summary

    main, sweep = document.get("machine"), (document.get("sweep") or {})
    lines = ["## Machine", "", f"The main run: {_cell(summary(main))}.", ""]
    if sweep:
        swept = sweep.get("machine")
        lines += [f"The sweep: {_cell(summary(swept))}.", ""]
        if main and swept and any(main.get(k) != swept.get(k) for k in _SAME_MACHINE_KEYS):
            lines += ["!!! warning \"Two machines\"",
                      "    The main run and the sweep ran on different machines: read each",
                      "    part's ratios on their own, never one part's against the other's.",
                      ""]
    return lines


def _targets_section(document: dict[str, Any]) -> list[str]:
    targets = list(document.get("targets") or [])
    sweep_targets = list((document.get("sweep") or {}).get("targets") or [])
    lines = ["## Targets", ""]
    if not targets:
        lines += ["The targets are not measured: this JSON has no `targets` (run the first",
                  "command above).", ""]
    if document.get("schema", 1) < 2 and targets:
        lines += ["!!! note \"Recorded before the current targets\"",
                  "    This JSON predates the start-up and sweep targets: those are not "
                  "measured.", ""]
    if targets or sweep_targets:
        lines += ["Measured is the median figure (the minima's in brackets); a target whose",
                  "measurements are missing is not measured, never met.", "",
                  "| target | measured | needs | met |", "|---|---:|---|---|"]
        for t in targets + sweep_targets:
            lines.append(f"| {_cell(t.get('target'))} | {_measured(t)} | {_cell(t.get('need'))} "
                         f"| {_verdict(t)} |")
        lines.append("")
    if not sweep_targets:
        lines += ["The sweep's scaling targets are not measured: this JSON has no sweep (run",
                  "the second command above).", ""]
    return lines


def _measured(t: dict[str, Any]) -> str:
    if t.get("value") is None:
        return "-"
    low = t.get("value_min")
    return f"{t['value']:g}" + ("" if low is None else f" ({low:g})")


def _verdict(t: dict[str, Any]) -> str:
    if t.get("met") is True:
        return "yes"
    if t.get("met") is False:
        if t.get("out_of_reach") and "needs_floor_multiple" in t:
            return (f"**no**: out of reach in this run, `{t['floor']}` grows "
                    f"{t['floor_scaling']:g}x and numba beyond it {t['beyond_floor_scaling']:g}x"
                    f" (the bound needs numba {t['needs_floor_multiple']:g}x the floor at the "
                    f"lower point; it is {t['takes_floor_multiple']:g}x)")
        if t.get("out_of_reach"):
            return (f"**no**: out of reach in this run, `{t['floor']}` alone is "
                    f"{t['floor_value']:g} ({t['floor_value_min']:g})")
        return "**no**"
    return _cell(t.get("verdict") or "not measured")


def _sweep_rounds(sweep: dict[str, Any]) -> str:
    count = sweep.get("repeats", "?")
    size = sweep.get("size_repeats", count)
    combined = sweep.get("combined_count_repeats")
    if combined is None:  # data from before the combined count curve had its own
        return f"{size} rounds per size, {count} per count"
    return f"{size} rounds per size, {combined} per combined count, {count} per separate count"


def _sweep_section(sweep: dict[str, Any] | None) -> list[str]:
    lines = ["## Scaling with size and count", ""]
    if not sweep or not sweep.get("results"):
        return lines + ["Not measured: this JSON has no sweep (run the second command above).",
                        ""]
    lines += [f"Sizes {sweep['sizes'][0]:,} to {sweep['sizes'][-1]:,} bytes (largest: "
              f"{_cell(sweep.get('max_size_why', ''))}); counts {sweep['counts'][0]:,} to "
              f"{sweep['counts'][-1]:,} tensors of 1 KiB; "
              f"{_sweep_rounds(sweep)}.  Flat lines are linear scaling.", "",
              "![Throughput against size and against count](performance-sweep.png)", "",
              "Scaling: time per byte (or per tensor) at the top point over that at the point",
              "it is compared with; 1.0 is linear.", "",
              "| curve | op | impl | at | vs | ratio (median) | ratio (min) |",
              "|---|---|---|---:|---:|---:|---:|"]
    for s in sweep.get("scaling") or []:
        lines.append(f"| {s['case']} | {s['op']} | {s['impl']} | {s['at']:,} | {s['vs']:,} | "
                     f"{s['ratio']:g} | {s['ratio_min']:g} |")
    return lines + [""]


def _results_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["## All measurements", "",
             f"{len(results)} measurements: medians, minima and maxima over the rounds; MB/s is",
             "the bytes of the case over the median time.", "",
             "| case | op | impl | median | min | max | bytes | tensors | MB/s (median) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(results, key=lambda r: (r["case"], r["op"], r["impl"])):
        lines.append(
            f"| {r['case']} | {r['op']} | {r['impl']} | {_seconds(r['median_s'])} | "
            f"{_seconds(r['min_s'])} | {_seconds(r['max_s'])} | {r['bytes']:,} | {r['count']} | "
            f"{_throughput(r):,.1f} |"
        )
    return lines


# --------------------------------------------------------------------------------------------
# Charts


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    # No timestamp in the PNG, so the same JSON gives the same bytes.
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    _pyplot().close(fig)
    return buf.getvalue()


def workloads(results: list[dict[str, Any]]) -> list[tuple[str, str, list[tuple[str, float]]]]:
    """(case, op, [(impl, median / limit's median)]) for every workload whose limit ran; only
    rows of the limit's own size (a Paddle run of a smaller case is left out)."""
    out = []
    for case, op in dict.fromkeys((r["case"], r["op"]) for r in results):
        limit_impl = LIMITS.get(op)
        limit = next((r for r in results if (r["case"], r["op"], r["impl"]) ==
                      (case, op, limit_impl)), None)
        if limit is None or limit["median_s"] <= 0:
            continue
        bars = [(r["impl"], r["median_s"] / limit["median_s"]) for r in results
                if (r["case"], r["op"]) == (case, op) and r["impl"] != limit_impl
                and (r["bytes"], r["count"]) == (limit["bytes"], limit["count"])]
        if bars:
            out.append((case, op, sorted(bars, key=lambda b: b[1])))
    return out


def _bar_colour(impl: str) -> str:
    if impl.startswith("numba"):  # numba, numba-api
        return "#1f77b4"
    if impl.startswith("paddle"):
        return "#d62728"
    if impl.startswith("reference"):
        return "#2ca02c"
    return "#9a9a9a"


def performance_png(results: list[dict[str, Any]]) -> bytes:
    """One panel per workload: each implementation's time as a multiple of the workload's
    limit, horizontal bars with their value, the limit a line at 1x (log axis: the multiples
    run from under 1 to over 100).  Start-up timings have no limit and stay in the table."""
    plt = _pyplot()
    panels = workloads(results)
    if not panels:
        fig, ax = plt.subplots(figsize=(6, 1.2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no workload has its limit measured: see the table", ha="center",
                va="center")
        return _png(fig)
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    tallest = max(len(bars) for *_, bars in panels)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 0.4 + rows * (0.5 + 0.22 * tallest)),
                             squeeze=False)
    for ax, (case, op, bars) in zip(axes.flat, panels, strict=False):
        _workload_panel(ax, case, op, bars)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle("time / limit (line at 1x = the limit; blue numba_kernels, green reference, "
                 "red Paddle 2.6.2, grey others)", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _workload_panel(ax: Any, case: str, op: str, bars: list[tuple[str, float]]) -> None:
    names = [b[0] for b in bars]
    values = [b[1] for b in bars]
    ys = range(len(bars))
    ax.barh(ys, values, color=[_bar_colour(n) for n in names], height=0.7)
    ax.set_yticks(list(ys))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    top = max(values + [1.0])
    ax.set_xlim(min(values + [1.0]) / 2, top * 4)
    for y, v in zip(ys, values, strict=True):
        ax.text(v * 1.08, y, f"{v:.2f}x", va="center", fontsize=7)
    ax.set_title(f"{case} · {op}\n(limit: {LIMITS[op]})", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def performance_sweep_png(sweep: dict[str, Any]) -> bytes:
    """Three panels, log-log: MB/s against the size of one tensor, and tensors per second
    against the count (combined file, one file each).  Colour: implementation; solid save,
    dashed load."""
    plt = _pyplot()
    rows = sweep.get("results") or []
    curves = (("sweep-size-combined", "bytes", "tensor size, bytes", "MB/s",
               "one tensor, combined file"),
              ("sweep-count-combined", "count", "tensors (1 KiB each)", "tensors/s",
               "many tensors, one combined file"),
              ("sweep-count-separate", "count", "tensors (1 KiB each)", "tensors/s",
               "many tensors, one file each"))
    colours = {"numba": "#1f77b4", "reference": "#2ca02c", "limit-python-files": "#7f7f7f"}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (case, per, xlabel, ylabel, title) in zip(axes, curves, strict=True):
        ax.set_title(f"{title}: save solid, load dashed", fontsize=8)
        for impl, colour in colours.items():
            for op, style in (("save", "-"), ("load", "--")):
                pts = sorted((r[per], r[per] / r["median_s"] / (1e6 if per == "bytes" else 1))
                             for r in rows if (r["case"], r["op"], r["impl"]) == (case, op, impl)
                             and r["median_s"] > 0)
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=colour,
                            marker="o", markersize=3, label=f"{impl} {op}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="major", linewidth=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=6)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return _png(fig)


def performance_images(document: dict[str, Any] | None) -> dict[str, bytes]:
    """The page's images by file name: those the document has data for."""
    images: dict[str, bytes] = {}
    if document and document.get("results"):
        images["performance.png"] = performance_png(document["results"])
    if document and (document.get("sweep") or {}).get("results"):
        images["performance-sweep.png"] = performance_sweep_png(document["sweep"])
    return images
