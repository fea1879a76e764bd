"""``fluidspec matrix``: the compatibility matrix of every implementation, and the grid of what
each one's files load as in the others.

    fluidspec matrix --out compatibility.json --page compatibility.md
    fluidspec matrix --impl reference --impl paddle-2.6.2 --out m.json

Runs the conformance suite on each implementation (default: every built-in, those that cannot
start here shown as unavailable) and the interoperability grid between them (writer × reader ×
layout), then writes the JSON document (``--out``) and the page's Markdown (``--page``); the
published page is docs/compatibility.md, from docs/data/compatibility.json.

Exit status: 0 when the matrix was made (failures are its content: ``fluidspec conformance`` is
the gate); 2 for bad usage; 3 when an implementation named with ``--impl`` cannot start.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fluidspec._usage import UsageError, writable_file

#: The exit status when an implementation named on the command line cannot start.
EXIT_UNAVAILABLE = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--impl", action="append", default=[], metavar="IMPL",
                        help="implementation (repeatable; as for `fluidspec conformance --impl`); "
                             "default: every built-in, those that cannot start shown as "
                             "unavailable")
    parser.add_argument("--out", metavar="FILE.json", help="write the JSON document here")
    parser.add_argument("--page", metavar="FILE.md",
                        help="write the compatibility page's tables (Markdown with HTML) here")
    parser.add_argument("--profile", choices=("ci", "thorough"), default="ci",
                        help="Hypothesis effort of the suite: ci (derandomized: the same "
                             "document every run) or thorough")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _cannot_start(names: list[str]) -> str | None:
    """Why the first of ``names`` cannot start, or None; a name nothing knows is a usage error."""
    from fluidspec.conformance import resolve

    for name in names:
        try:
            adapter = resolve(name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        try:
            adapter.hello()
        except Exception as exc:  # any failure to say hello is "cannot start"
            return f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        finally:
            adapter.close()
    return None


def _summary_lines(doc: dict[str, Any]) -> list[str]:
    lines = []
    for impl in doc["implementations"]:
        if not impl["available"]:
            lines.append(f"{impl['name']}: unavailable ({impl['unavailable_reason']})")
            continue
        totals: dict[str, int] = {}
        for part in doc["results"][impl["name"]].values():
            for status, n in part["counts"].items():
                totals[status] = totals.get(status, 0) + n
        lines.append(f"{impl['name']}: " + ", ".join(f"{n} {s}" for s, n in totals.items() if n))
    cells = doc["interop"]["cells"]
    by_status: dict[str, int] = {}
    for c in cells:
        by_status[c["status"]] = by_status.get(c["status"], 0) + 1
    lines.append("interop: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())))
    lines += [f"  {c['layout']}: {c['writer']} -> {c['reader']}: {c.get('clause')} "
              f"({c.get('at_fault')}) {c.get('detail', '')}" for c in cells if c["status"] == "fail"]
    return lines


def main(args: argparse.Namespace) -> int:
    from fluidspec.conformance.matrix import (
        DEFAULT_IMPLEMENTATIONS,
        compatibility_document,
        render_markdown,
    )

    for option, path in (("--out", args.out), ("--page", args.page)):
        if path:
            writable_file(path, option)
    if len(set(args.impl)) != len(args.impl):
        raise UsageError("--impl names an implementation twice")
    why = _cannot_start(args.impl)
    if why is not None:
        print(f"fluidspec matrix: cannot start {why}", file=sys.stderr)
        return EXIT_UNAVAILABLE

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    doc = compatibility_document(args.impl or list(DEFAULT_IMPLEMENTATIONS), profile=args.profile,
                                 progress=progress)
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
    if args.page:
        Path(args.page).write_text(render_markdown(doc), encoding="utf-8")
    print("\n".join(_summary_lines(doc)))
    return 0
