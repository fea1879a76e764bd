"""The docs site (docs/, mkdocs.yml, docs/_gen/): every example runs, the strict build passes,
generated content really is generated.

* Every fenced ``python`` block of every page is executed, page by page in order, in a fresh
  namespace and a temporary working directory.  Examples that show a failure assert it.
* ``mkdocs build --strict`` succeeds with no warning, offline, and every clause id of
  ``spec.clauses()`` has its anchor in the built spec (the docs' half of the clause registry).
* Hex views and command outputs are produced by ``fluidspec`` at build time: no hand-written page
  contains one, and the built pages contain what the command prints now.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_gen"))

import generate  # noqa: E402

_FENCE = generate.FENCE


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_gen" not in p.parts)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced block whose info string is ``python``."""
    out = []
    for m in _FENCE.finditer(text):
        if m["info"].strip().split(" ")[0] == "python":
            out.append((text[: m.start()].count("\n") + 2, m["body"]))
    return out


_PAGES_WITH_CODE = [p for p in _pages() if python_blocks(p.read_text(encoding="utf-8"))]


def test_the_extractor_finds_blocks_and_only_python_ones():
    text = "a\n```python\nx = 1\n```\n```sh\nls\n```\n```python title=\"t\"\ny = 2\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = 2\n")]
    assert _PAGES_WITH_CODE, "no page has a python example"


@pytest.mark.parametrize("page", _PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_python_example_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for line, code in python_blocks(page.read_text(encoding="utf-8")):
        compiled = compile(code, f"{page.relative_to(ROOT)}:{line}", "exec")
        try:
            exec(compiled, namespace)
        except Exception as exc:  # re-raised with the page and line that failed
            raise AssertionError(f"{page.relative_to(ROOT)}, block at line {line}: "
                                 f"{type(exc).__name__}: {exc}") from exc


_HEX_LINE = re.compile(r"^\s+[0-9a-f]{8}  (?:[0-9a-f]{2} )+", re.MULTILINE)


def test_no_hand_written_page_contains_an_inspect_hex_view():
    """Hex views come from ``<!-- fluidspec: inspect ... -->`` directives, run at build time."""
    copied = [str(p.relative_to(DOCS)) for p in _pages()
              if _HEX_LINE.search(p.read_text(encoding="utf-8"))]
    assert copied == []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="the docs extra is installed by scripts/_setup.sh")
    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    elapsed = time.perf_counter() - start
    return out, proc, elapsed


def test_docs_build_strict_without_warnings(site):
    out, proc, elapsed = site
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "WARNING" not in log, log
    assert (out / "index.html").is_file()
    print(f"mkdocs build --strict took {elapsed:.1f} s")


def test_every_clause_has_an_anchor_in_the_built_spec(site):
    from fluidspec import spec

    out, proc, _ = site
    assert proc.returncode == 0
    missing = []
    for c in spec.clauses():
        page = out / "spec" / c.chapter / "index.html"
        if not page.is_file() or f'id="{c.anchor}"' not in page.read_text(encoding="utf-8"):
            missing.append(c.id)
    assert missing == []
    index = (out / "spec" / "index.html").read_text(encoding="utf-8")
    assert all(c.id in index for c in spec.clauses())


def test_built_pages_hold_current_command_output(site, tmp_path):
    """The format page shows what ``fluidspec inspect`` prints for the sample today."""
    out, proc, _ = site
    assert proc.returncode == 0
    generate.write_samples(tmp_path)
    code, text = generate.run_fluidspec(["inspect", "separate/emb"], tmp_path)
    assert code == 0
    html = (out / "format" / "index.html").read_text(encoding="utf-8")
    plain = re.sub(r"<[^>]+>", "", html).replace("&gt;", ">").replace("&lt;", "<")
    plain = plain.replace("&amp;", "&").replace("&quot;", '"').replace("&#39;", "'")
    for line in text.strip().splitlines():
        assert line in plain, line
    assert "<!-- fluidspec:" not in html


def test_known_failures_parser():
    text = "# comment\n\nFMT-SAFE-001/truncated-data  loads garbage silently\nERR-002: no offset\n"
    assert generate.parse_known_failures(text) == [
        ("FMT-SAFE-001/truncated-data", "loads garbage silently"), ("ERR-002", "no offset"),
    ]


def test_departures_page_lists_every_paddle_note():
    from fluidspec import spec

    page = generate.departures_page()
    for c in spec.clauses():
        if c.paddle_note:
            assert f"[{c.id}](spec/{c.chapter}.md#{c.anchor})" in page


def test_departures_page_has_a_row_per_known_failure():
    from fluidspec import spec

    if not generate.KNOWN_FAILURES.is_file():
        pytest.skip("no known-failures file for Paddle 2.6.2")
    entries = generate.parse_known_failures(generate.KNOWN_FAILURES.read_text(encoding="utf-8"))
    page = generate.departures_page()
    assert entries
    for ident, reason in entries:
        c = spec.clause(ident)  # every entry names a clause of the spec
        assert f"| [{c.id}](spec/{c.chapter}.md#{c.anchor}) | {c.tier} |" in page
        assert reason.replace("|", "\\|") in page


def test_performance_page_and_plot_from_bench_json(tmp_path):
    pytest.importorskip("matplotlib", reason="the docs extra is installed by scripts/_setup.sh")
    rows = [
        {"case": "fp32-1MiB", "op": "encode", "impl": impl, "median_s": m, "min_s": m * 0.9,
         "max_s": m * 1.2, "bytes": 1 << 20, "count": 5}
        for impl, m in (("reference", 0.002), ("numba", 0.0005))
    ]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"results": rows}))
    results = generate.load_bench(path)
    page = generate.performance_page(results)
    # 2**20 bytes / 0.002 s = 524.288 MB/s; / 0.0005 s = 2097.152 MB/s.
    assert "| fp32-1MiB | encode | numba | 500.0 µs | 450.0 µs | 600.0 µs | 1,048,576 | 5 | 2,097.2 |" in page
    assert "| 524.3 |" in page
    png = generate.performance_png(results)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert "No benchmark results" in generate.performance_page(None)
    document = {"results": rows, "notes": ["--quick: smaller"],
                "targets": [{"target": "encode speed", "value": 0.4, "need": ">= 0.9", "met": False}]}
    page = generate.performance_page(rows, document)
    assert "| encode speed | 0.4 | >= 0.9 | **no** |" in page and "* --quick: smaller" in page
    # Warm-start rows time a first call, not bytes moved: in the table, not in the plot.
    warm = dict(rows[0], op="warm-start", bytes=24)
    assert generate.performance_png(rows + [warm]) == png
    path.write_text(json.dumps({"results": [{"case": "x"}]}))
    with pytest.raises(ValueError, match="lacks"):
        generate.load_bench(path)


def test_the_sample_is_what_the_format_page_describes():
    """docs/format.md explains the sample's hex views in prose; this pins what the prose says."""
    import numpy as np

    from fluidspec._cmd_sample import sample_values

    values = sample_values()
    w, w_lod = values["fc_0.w_0"]
    assert np.asarray(w).dtype == np.float32 and np.asarray(w).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert w_lod == []
    emb, emb_lod = values["emb"]
    assert np.asarray(emb).dtype == np.float16 and np.asarray(emb).shape == (5, 2)
    assert emb_lod == [[0, 2, 5]]
    lr, _ = values["learning_rate_0"]
    assert np.asarray(lr).shape == () and np.asarray(lr).dtype == np.float32
    empty, _ = values["empty"]
    assert np.asarray(empty).shape == (0, 4) and np.asarray(empty).dtype == np.int64
    assert sorted(values) == ["emb", "empty", "fc_0.b_0", "fc_0.w_0", "learning_rate_0"]


def test_the_sample_selected_rows_is_what_the_format_page_describes(tmp_path):
    from fluidspec.reference.codec import read_records

    code, output = generate.run_fluidspec(["sample", "."], tmp_path)
    assert code == 0, output
    (header,) = read_records((tmp_path / "separate" / "sparse_table").read_bytes())
    assert (header.kind, header.rows, header.height) == ("SelectedRows", [1, 7, 3], 10)
    assert (header.data_type_name, header.dims) == ("FP32", [3, 2])


def test_paddle_notes_become_admonitions_and_clause_ids_become_links():
    text = "intro\n\n> **Paddle 2.6.2 observed:** loads\n> silently.\n\nafter"
    assert generate._paddle_notes_as_admonitions(text) == (
        'intro\n\n!!! note "Paddle 2.6.2 observed"\n    loads\n    silently.\n\nafter')
    where = {"FMT-REC-001": "format", "SEL-LOAD-002": "selection"}
    line = "see FMT-REC-001 and SEL-LOAD-002, not `FMT-REC-001` in code"
    assert generate._link_clause_ids(line, "format", where) == (
        "see [FMT-REC-001](#fmt-rec-001) and [SEL-LOAD-002](selection.md#sel-load-002), "
        "not `FMT-REC-001` in code")


def test_every_clause_id_a_page_mentions_exists():
    """A renamed or removed clause must not leave a stale id in the prose (linked ids are also
    checked by the strict build's anchor validation)."""
    from fluidspec import spec

    known = {c.id for c in spec.clauses()}
    shaped = re.compile(r"\b((?:FMT|PROG|SEL|INF|API|ERR|SAFE|PROTO)(?:-[A-Z]+)*-\d{3})\b")
    stale = {(str(p.relative_to(DOCS)), cid) for p in _pages()
             for cid in shaped.findall(p.read_text(encoding="utf-8")) if cid not in known}
    assert stale == set()


# --------------------------------------------------------------------------------------------
# Pages whose shell blocks run (the tutorial, the command pages): see generate.run_page

_RUN_PAGES = [p for p in _pages() if generate.is_run_page(p.relative_to(DOCS).as_posix())]
_TIMING = re.compile(r"\d+(?:\.\d+)? ?(?:s|ms|µs)\b")


def _sh_blocks(text: str) -> list[str]:
    return [m["body"] for m in generate.FENCE.finditer(text)
            if m["info"].strip().split(" ")[0] == "sh"]


def test_the_run_pages_are_the_tutorial_and_one_per_command():
    names = {p.relative_to(DOCS).as_posix() for p in _RUN_PAGES}
    assert {"tutorial.md", "cli/index.md", "cli/sample.md", "cli/conformance.md",
            "cli/bench.md", "cli/paddle.md", "cli/matrix.md"} <= names
    for page in _RUN_PAGES:
        assert _sh_blocks(page.read_text(encoding="utf-8")), page


def test_run_page_shows_output_and_holds_the_page_to_its_exit_status(tmp_path):
    page = ("```python\nopen('f', 'w').write('hi')\n```\n"
            "```sh\ncat f\n```\n<!-- output -->\n"
            "```sh\necho gone >&2; exit 3\n```\n<!-- output => 3 -->\nend\n")
    expanded = generate.expand_run_page(page, tmp_path)
    assert "```sh\ncat f\n```\n```text\nhi\n```\n" in expanded
    assert "```text\ngone\n(exit status 3)\n```\nend\n" in expanded
    assert "<!-- output" not in expanded
    with pytest.raises(RuntimeError, match="exited 3, the page expects 0"):
        generate.run_page(page.replace(" => 3", ""), tmp_path)
    with pytest.raises(RuntimeError, match="exited 0, the page expects 1"):
        generate.run_page("```sh\ntrue\n```\n<!-- output => 1 -->\n", tmp_path)


@pytest.mark.parametrize("page", _RUN_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_block_of_a_run_page_runs(page, tmp_path):
    """Python and shell blocks in order, in an empty directory, `fluidspec` on PATH; each shell
    block exits with the status its page shows (run_page raises otherwise)."""
    text = page.read_text(encoding="utf-8")
    outputs = generate.run_page(text, tmp_path, str(page.relative_to(DOCS)))
    assert len(outputs) == len(_sh_blocks(text))
    assert all(output.strip() for _, output, _ in outputs), "a shell block printed nothing"


def test_built_run_pages_show_what_the_commands_print(site, tmp_path):
    """The outputs under the shell blocks of the built pages are what the blocks print now
    (timings aside, which differ from run to run)."""
    out, proc, _ = site
    assert proc.returncode == 0
    for page in _RUN_PAGES:
        rel = page.relative_to(DOCS)
        workdir = tmp_path / rel.stem
        workdir.mkdir()
        text = page.read_text(encoding="utf-8")
        built = rel.parent if rel.name == "index.md" else rel.with_suffix("")
        html = (out / built / "index.html").read_text(encoding="utf-8")
        plain = re.sub(r"<[^>]+>", "", html).replace("&gt;", ">").replace("&lt;", "<")
        plain = plain.replace("&amp;", "&").replace("&quot;", '"').replace("&#39;", "'")
        assert "<!-- output" not in html
        for end, output, _ in generate.run_page(text, workdir, str(rel)):
            if not generate.OUTPUT_MARK.match(text, end + 1):
                continue
            for line in output.strip().splitlines():
                if line.strip() and not _TIMING.search(line):
                    assert line in plain, (str(rel), line)
