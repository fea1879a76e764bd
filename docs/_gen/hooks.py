"""MkDocs hooks (``hooks:`` in mkdocs.yml): add the generated pages and fill in command output.

Generated pages are added as in-memory files, so a build never writes into ``docs/``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import generate  # noqa: E402
from mkdocs.structure.files import File, Files  # noqa: E402

_samples: Path | None = None


def on_config(config: Any) -> Any:
    global _samples
    _samples = Path(tempfile.mkdtemp(prefix="fluidspec-docs-"))
    generate.write_samples(_samples)
    _fill_spec_nav(config)
    return config


def on_files(files: Files, config: Any) -> Files:
    pages = generate.chapter_pages()
    pages["paddle-departures.md"] = generate.departures_page()
    document = generate.load_bench_document()
    results = None if document is None else document["results"]
    pages["performance.md"] = generate.performance_page(results, document)
    for uri, text in pages.items():
        written = files.get_file_from_path(uri)
        if written is not None:
            # A hand-written page of the same name keeps its text; the generated part follows it
            # under the hand-written title.
            text = written.content_string.rstrip() + "\n\n" + text.partition("\n")[2].lstrip()
            files.remove(written)
        files.append(File.generated(config, uri, content=text))
    for name, png in generate.performance_images(document).items():
        files.append(File.generated(config, name, content=png))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    assert _samples is not None
    if generate.is_run_page(page.file.src_uri):
        # Each such page runs in its own empty directory, as its reader would.
        workdir = Path(tempfile.mkdtemp(prefix="fluidspec-page-"))
        try:
            markdown = generate.expand_run_page(markdown, workdir, page.file.src_uri)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return generate.expand_directives(markdown, _samples)


def on_post_build(config: Any) -> None:
    if _samples is not None:
        shutil.rmtree(_samples, ignore_errors=True)


def _fill_spec_nav(config: Any) -> None:
    """One nav entry per spec chapter, found at build time (chapters are added over time)."""
    from fluidspec.spec._clauses import CHAPTERS_DIR

    for entry in config["nav"] or []:
        if isinstance(entry, dict) and "Specification" in entry:
            chapters = sorted(CHAPTERS_DIR.glob("*.md"), key=_chapter_order)
            entry["Specification"] = ["spec/index.md"] + [
                {_chapter_title(p): f"spec/{p.stem}.md"} for p in chapters
            ]


def _chapter_title(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    return first.lstrip("# ").split("—")[-1].replace("`", "").strip() or path.stem


def _chapter_order(path: Path) -> tuple[int, str]:
    words = path.read_text(encoding="utf-8").splitlines()[0].split()
    number = words[2] if len(words) > 2 and words[1] == "Chapter" else ""
    return (int(number) if number.isdigit() else 99, path.stem)
