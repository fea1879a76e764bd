"""MkDocs hook (``hooks:`` in mkdocs.yml): fill in docs/compatibility.md's tables from the
committed docs/data/compatibility.json (``fluidspec matrix`` writes it), so the build runs no
implementation and the page shows what the committed document says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).resolve().parents[1] / "data" / "compatibility.json"
PAGE = "compatibility.md"
MARKER = "<!-- compatibility-tables -->"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lost its {MARKER} line: the tables have nowhere to go")
    from fluidspec.conformance.matrix import render_markdown

    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return markdown.replace(MARKER, render_markdown(document))
