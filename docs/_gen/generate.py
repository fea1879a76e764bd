"""Everything the docs site generates instead of copying: spec pages, the Paddle-departures page,
the performance page and plot, and the outputs of ``fluidspec`` commands shown in pages.

Used by the MkDocs hook (``docs/_gen/hooks.py``) at build time and by ``tests/docs/test_docs.py``.
Nothing here fetches anything: the inputs are ``spec.clauses()``, the chapter files, the
known-failures file, the bench JSON and files this module writes itself.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from performance import (  # noqa: F401  (re-exported: the hook and tests/docs call them here)
    BENCH_JSON,
    load_bench,
    load_bench_document,
    performance_images,
    performance_page,
    performance_png,
)

ROOT = Path(__file__).resolve().parents[2]
KNOWN_FAILURES = ROOT / "conformance" / "known-failures" / "paddle-2.6.2.txt"

# A directive line in a hand-written page: replaced by the command and its real output.
# ``=> N`` states the exit status the page expects (default 0); any other status fails the build.
DIRECTIVE = re.compile(r"^<!-- fluidspec: (?P<args>.+?)(?: => (?P<code>\d+))? -->$", re.MULTILINE)
_CLAUSE_HEADING = re.compile(r"^### (?P<id>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+) · ")
_CLAUSE_REF = re.compile(r"\b([A-Z]{2,}(?:-[A-Z0-9]+)*-\d{3})\b")


# --------------------------------------------------------------------------------------------
# The spec, one page per chapter, one anchor per clause


def chapter_pages() -> dict[str, str]:
    """``spec/<chapter>.md`` -> Markdown: the chapter text with ``{#clause-id}`` on every
    clause heading, a tier badge, and every clause id in the text linked to its anchor."""
    from fluidspec import spec
    from fluidspec.spec._clauses import CHAPTERS_DIR

    where = {c.id: c.chapter for c in spec.clauses()}
    pages: dict[str, str] = {}
    for path in sorted(CHAPTERS_DIR.glob("*.md")):
        out = []
        in_fence = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                in_fence = not in_fence
            match = None if in_fence else _CLAUSE_HEADING.match(line)
            if match:
                clause = spec.clause(match["id"])
                out.append(f"### {clause.id} · {clause.tier} · {clause.title} {{#{clause.anchor}}}")
                continue
            if not in_fence and not line.startswith("#"):
                line = _link_clause_ids(line, path.stem, where)
            out.append(line)
        pages[f"spec/{path.stem}.md"] = _paddle_notes_as_admonitions("\n".join(out)) + "\n"
    pages["spec/index.md"] = clause_index()
    return pages


_NOTE_START = re.compile(r"^> \*\*(?P<title>Paddle[^*]* observed):\*\*\s*(?P<rest>.*)$")


def _paddle_notes_as_admonitions(text: str) -> str:
    """``> **Paddle … observed:** …`` quotes become "Paddle observed" admonitions."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _NOTE_START.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        out.append(f'!!! note "{m["title"]}"')
        body = [m["rest"]]
        i += 1
        while i < len(lines) and lines[i].startswith(">"):
            body.append(lines[i][1:].removeprefix(" "))
            i += 1
        out.extend(f"    {b}" if b else "" for b in body)
    return "\n".join(out)


def _link_clause_ids(line: str, chapter: str, where: dict[str, str]) -> str:
    """Turn bare clause ids into links, leaving code spans alone."""
    parts = re.split(r"(`[^`]*`)", line)
    for i, part in enumerate(parts):
        if part.startswith("`"):
            continue

        def link(m: re.Match[str]) -> str:
            cid = m.group(1)
            if cid not in where:
                return cid
            target = "" if where[cid] == chapter else f"{where[cid]}.md"
            return f"[{cid}]({target}#{cid.lower()})"

        parts[i] = _CLAUSE_REF.sub(link, part)
    return "".join(parts)


def clause_index() -> str:
    from fluidspec import spec

    lines = [
        "# All clauses",
        "",
        "Every normative rule of the spec, generated from `spec.clauses()`.  Each id links to its",
        "anchor in its chapter (`spec/<chapter>.md#<id, lower-cased>`); the anchors are stable.",
        "",
        f"{len(spec.clauses())} clauses: "
        + ", ".join(f"{len(spec.clauses(tier=t))} {t}" for t in spec.TIERS) + ".",
        "",
        "| id | tier | chapter | rule |",
        "|---|---|---|---|",
    ]
    for c in spec.clauses():
        title = c.title.replace("|", "\\|")
        lines.append(f"| [{c.id}]({c.chapter}.md#{c.anchor}) | {c.tier} | {c.chapter} | {title} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Where Paddle departs from the spec


def parse_known_failures(text: str) -> list[tuple[str, str]]:
    """(clause-or-case id, reason) per non-comment line of a known-failures file.

    The first whitespace-separated token is the id; the rest of the line (after an optional
    ``#`` or ``:``) is the reason.
    """
    entries = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        token, _, rest = line.partition(" ")
        entries.append((token.rstrip(":"), rest.strip().lstrip("#:").strip()))
    return entries


def departures_page() -> str:
    from fluidspec import spec

    known = {c.id: c for c in spec.clauses()}
    lines = [
        "# Where Paddle departs from the spec",
        "",
        "Generated at build time.  MUST clauses describe what Paddle 2.6.2 does; the departures are",
        "where the spec asks for more (SHOULD clauses: safety Paddle lacks) or where Paddle's",
        "behaviour is observed to differ.  Each entry links to its clause.",
        "",
    ]
    if KNOWN_FAILURES.is_file():
        entries = parse_known_failures(KNOWN_FAILURES.read_text(encoding="utf-8"))
        lines += [
            f"## Known failures of the Paddle 2.6.2 adapter ({len(entries)})",
            "",
            "From `conformance/known-failures/paddle-2.6.2.txt`: the clauses real Paddle 2.6.2 fails,",
            "each demonstrated on Paddle by the test suite, with the reason recorded there.",
            "",
            "| clause | tier | rule | how Paddle 2.6.2 departs |",
            "|---|---|---|---|",
        ]
        for ident, reason in entries:
            reason = reason.replace("|", "\\|")
            c = known.get(ident)
            if c is None:  # an entry that names a case rather than a clause
                lines.append(f"| `{ident}` | | | {reason} |")
                continue
            title = c.title.replace("|", "\\|")
            lines.append(f"| [{c.id}](spec/{c.chapter}.md#{c.anchor}) | {c.tier} | {title} | "
                         f"{reason} |")
        lines.append("")
    noted = [c for c in spec.clauses() if c.paddle_note]
    lines += [
        f"## Observed behaviour recorded in the spec ({len(noted)} clauses)",
        "",
        "The *Paddle observed* notes of the clauses, measured by running Paddle 2.6.2 (and 3.3.1).",
        "",
    ]
    for c in noted:
        lines += [
            f"### [{c.id}](spec/{c.chapter}.md#{c.anchor}) · {c.tier} · {c.title}",
            "",
            c.paddle_note.strip(),
            "",
        ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Performance: the page and its charts live in ``performance.py`` (imported above, for the hook)


# --------------------------------------------------------------------------------------------
# Sample files and live command output for pages


def write_samples(root: Path) -> None:
    """The files the pages' ``<!-- fluidspec: ... -->`` directives run commands on."""
    import numpy as np

    from fluidspec.reference.codec import encode_lod_tensor
    from fluidspec.spec.framework_pb2 import AttrType, ProgramDesc, VarType

    run_fluidspec(["sample", "."], root)
    # A minimal inference model, the smallest program Paddle 2.6.2 loads (INF-SAVE-007): y = x + w.
    program = ProgramDesc()
    block = program.blocks.add(idx=0, parent_idx=-1)
    for name, kind, dims, flags in [
        ("x", VarType.LOD_TENSOR, [-1, 3], {"need_check_feed": True}),
        ("w", VarType.LOD_TENSOR, [3], {"persistable": True}),
        ("y", VarType.LOD_TENSOR, [-1, 3], {}),
        ("feed", VarType.FEED_MINIBATCH, None, {"persistable": True}),
        ("fetch", VarType.FETCH_LIST, None, {"persistable": True}),
    ]:
        v = block.vars.add(name=name, **flags)
        v.type.type = kind
        if dims is not None:
            v.type.lod_tensor.tensor.data_type = VarType.FP32
            v.type.lod_tensor.tensor.dims.extend(dims)
    for op_type, ins, outs, col in [
        ("feed", {"X": ["feed"]}, {"Out": ["x"]}, 0),
        ("elementwise_add", {"X": ["x"], "Y": ["w"]}, {"Out": ["y"]}, None),
        ("fetch", {"X": ["y"]}, {"Out": ["fetch"]}, 0),
    ]:
        op = block.ops.add(type=op_type)
        for slot, args in ins.items():
            op.inputs.add(parameter=slot, arguments=args)
        for slot, args in outs.items():
            op.outputs.add(parameter=slot, arguments=args)
        if col is not None:
            op.attrs.add(name="col", type=AttrType.INT, i=col)
    (root / "model").mkdir()
    (root / "model" / "__model__").write_bytes(program.SerializeToString())
    (root / "model" / "w").write_bytes(encode_lod_tensor(np.array([1, 2, 3], np.float32)))
    # Real Paddle 2.6.2 inference models (the vectors the Paddle adapter generated).
    vectors = ROOT / "conformance" / "vectors" / "paddle-2.6.2"
    for name, target in (("inference-dir", "paddle-inference"),
                         ("inference-combined", "paddle-inference-combined")):
        if (vectors / name).is_dir():
            shutil.copytree(vectors / name, root / target)
    # What users hit (troubleshooting page).
    (root / "broken").mkdir()
    (root / "broken" / "conv2d_0.w_0").write_bytes(
        b"version https://git-lfs.github.com/spec/v1\n"
        b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        b"size 3456\n"
    )
    good = encode_lod_tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    (root / "broken" / "fc_0.w_0").write_bytes(good[:-4])
    # Two saves that differ (the diff page).
    for side, w, extra in [("before", 0.0, "old_var"), ("after", 0.25, "new_var")]:
        d = root / side
        d.mkdir()
        (d / "fc_0.w_0").write_bytes(
            encode_lod_tensor(np.arange(6, dtype=np.float32).reshape(2, 3) + np.float32(w)))
        (d / "fc_0.b_0").write_bytes(encode_lod_tensor(np.zeros(3 if side == "before" else 4,
                                                               np.float32)))
        (d / extra).write_bytes(encode_lod_tensor(np.ones(2, np.float32)))


def run_fluidspec(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run the real command line (a subprocess), returning its exit status and output."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "fluidspec", *argv], cwd=cwd, capture_output=True, text=True,
        env=env, timeout=120, check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def render_directive(args: str, cwd: Path, expected: int = 0) -> str:
    """The Markdown that replaces ``<!-- fluidspec: ARGS -->``: the command and its output.

    Raises when the command's exit status is not ``expected``, so a page can never show an
    error where it means to show a result (or the other way round).
    """
    code, output = run_fluidspec(shlex.split(args), cwd)
    if code != expected:
        raise RuntimeError(f"`fluidspec {args}` exited {code}, the page expects {expected}:\n"
                           f"{output}")
    status = "" if code == 0 else f"\n(exit status {code})"
    return f"```text\n$ fluidspec {args}\n{output.rstrip()}{status}\n```"


def expand_directives(markdown: str, cwd: Path) -> str:
    return DIRECTIVE.sub(
        lambda m: render_directive(m["args"], cwd, int(m["code"] or 0)), markdown)


# --------------------------------------------------------------------------------------------
# Pages whose shell blocks run: the tutorial and the command pages

# A fenced block: info string and body (the same shape tests/docs/test_docs.py extracts).
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
# Placed right after a ```sh block: replaced by that block's real output.  ``=> N`` states the
# exit status the page expects (default 0); any other status fails the build.
OUTPUT_MARK = re.compile(r"^<!-- output(?: => (?P<code>\d+))? -->$", re.MULTILINE)
#: Pages whose ``sh`` blocks are executed, in order with their ``python`` blocks.
RUN_PAGES = ("tutorial.md", "cli/")


def is_run_page(uri: str) -> bool:
    return any(uri == p or (p.endswith("/") and uri.startswith(p)) for p in RUN_PAGES)


def shell_env() -> dict[str, str]:
    """``fluidspec`` of this interpreter's environment first on PATH, the checkout importable."""
    bindir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                COLUMNS="100")


def run_shell(script: str, cwd: Path) -> tuple[int, str]:
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, capture_output=True, text=True,
                          env=shell_env(), timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def run_page(markdown: str, cwd: Path, name: str = "page") -> list[tuple[int, str, int]]:
    """Execute a page's ``python`` and ``sh`` blocks in order in ``cwd``.

    Python blocks share one namespace; a failing one raises.  Returns, for each ``sh`` block,
    (offset of the block's end in ``markdown``, output, exit status); a status other than the
    one its ``<!-- output => N -->`` mark expects (0 without a mark) raises.
    """
    namespace: dict[str, object] = {"__name__": f"docs_{name}"}
    outputs: list[tuple[int, str, int]] = []
    old = Path.cwd()
    os.chdir(cwd)
    try:
        for m in FENCE.finditer(markdown):
            lang = m["info"].strip().split(" ")[0]
            line = markdown[: m.start()].count("\n") + 2
            if lang == "python":
                exec(compile(m["body"], f"{name}:{line}", "exec"), namespace)
            elif lang == "sh":
                mark = OUTPUT_MARK.match(markdown, m.end() + 1)
                expected = int(mark["code"] or 0) if mark else 0
                code, output = run_shell(m["body"], cwd)
                if code != expected:
                    raise RuntimeError(f"{name}:{line}: the sh block exited {code}, the page "
                                       f"expects {expected}:\n{m['body']}\n{output}")
                outputs.append((m.end(), output, code))
    finally:
        os.chdir(old)
    return outputs


def expand_run_page(markdown: str, cwd: Path, name: str = "page") -> str:
    """The page with each ``<!-- output -->`` mark replaced by its sh block's real output."""
    pieces: list[str] = []
    last = 0
    for end, output, code in run_page(markdown, cwd, name):
        mark = OUTPUT_MARK.match(markdown, end + 1)
        if mark is None:
            continue
        status = "" if code == 0 else f"\n(exit status {code})"
        pieces += [markdown[last:end + 1], f"```text\n{output.rstrip()}{status}\n```"]
        last = mark.end()
    pieces.append(markdown[last:])
    return "".join(pieces)
