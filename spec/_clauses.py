"""The clause registry: every normative rule of the spec, parsed from ``spec/chapters/*.md``.

The Markdown chapters are the single source: a clause is a level-3 heading of the form

    ### FMT-REC-001 · MUST · One-line statement of the rule

followed by its text up to the next heading.  A paragraph that starts with
``> **Paddle 2.6.2 observed:**`` records where real Paddle behaves differently.  Tiers:

* **MUST** — what real Paddle writes and accepts; every implementation has to agree.
* **SHOULD** — stricter safety fluidspec requires and Paddle lacks.
* **MAY** — implementation-defined; the clause says what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Clause", "clauses", "clause", "load_chapters", "CHAPTERS_DIR", "TIERS"]

CHAPTERS_DIR = Path(__file__).resolve().parent / "chapters"
TIERS = ("MUST", "SHOULD", "MAY")

_HEADING = re.compile(
    r"^### (?P<id>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+) · (?P<tier>MUST|SHOULD|MAY) · (?P<title>.+?)\s*$"
)
_ID_SHAPE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")
_NOTE = re.compile(r"^> \*\*Paddle[^*]* observed:\*\*")


@dataclass(frozen=True)
class Clause:
    """One normative rule."""

    id: str
    tier: str
    title: str
    chapter: str
    text: str
    paddle_note: str | None

    @property
    def anchor(self) -> str:
        """The HTML anchor the docs give this clause (its id, lower-cased)."""
        return self.id.lower()


def _parse_chapter(path: Path) -> list[Clause]:
    found: list[Clause] = []
    current: dict[str, str] | None = None
    body: list[str] = []

    def flush() -> None:
        if current is None:
            return
        text = "\n".join(body).strip()
        notes = [p for p in text.split("\n\n") if _NOTE.match(p)]
        note = "\n\n".join(n.replace("\n> ", "\n").removeprefix("> ") for n in notes) or None
        found.append(Clause(current["id"], current["tier"], current["title"], path.stem, text, note))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            flush()
            current, body = None, []
            match = _HEADING.match(line)
            if match:
                current = match.groupdict()
            elif line.startswith("### ") and _ID_SHAPE.match(line[4:].split(" ")[0]):
                raise ValueError(f"{path.name}: malformed clause heading: {line!r}")
        elif current is not None:
            body.append(line)
    flush()
    return found


def load_chapters(directory: Path) -> dict[str, Clause]:
    """Every clause of the ``*.md`` chapters in ``directory``; an id defined twice is an error."""
    registry: dict[str, Clause] = {}
    for path in sorted(directory.glob("*.md")):
        for item in _parse_chapter(path):
            if item.id in registry:
                raise ValueError(f"clause {item.id} defined twice ({path.name})")
            registry[item.id] = item
    return registry


@cache
def _registry() -> dict[str, Clause]:
    return load_chapters(CHAPTERS_DIR)


def clauses(tier: str | None = None, chapter: str | None = None) -> list[Clause]:
    """All clauses in id order, optionally only one tier or one chapter."""
    return [
        c
        for _, c in sorted(_registry().items())
        if (tier is None or c.tier == tier) and (chapter is None or c.chapter == chapter)
    ]


def clause(clause_id: str) -> Clause:
    """The clause with this id (``KeyError`` when the spec has none)."""
    return _registry()[clause_id]
