"""Known failures: per-implementation files that excuse SHOULD and MAY clauses it is known to break."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["KNOWN_FAILURES_DIR", "known_failures_names", "load_known_failures"]

KNOWN_FAILURES_DIR = Path(__file__).resolve().parent / "known-failures"


def known_failures_names(impl: str, hello: dict[str, Any] | None) -> list[str]:
    """Candidate file stems: ``<name>-<version>`` and ``<name>`` from hello, then the adapter name."""
    names = []
    info = (hello or {}).get("implementation") or {}
    if not isinstance(info, dict):  # a server that breaks PROTO-HELLO-001 is still reported
        info = {}
    if info.get("name"):
        if info.get("version"):
            names.append(f"{info['name']}-{info['version']}")
        names.append(str(info["name"]))
    names.append(impl)
    return [n.replace("/", "_").replace(":", "_").replace(" ", "_") for n in names]


def load_known_failures(impl: str, directory: Path = KNOWN_FAILURES_DIR,
                        hello: dict[str, Any] | None = None, file: Path | None = None
                        ) -> dict[str, str]:
    """``<clause id> <one-line reason>`` per line; ``#`` starts a comment.

    ``file`` when given (an implementer keeps it in their own repository); else
    ``<dir>/<name>-<version>.txt`` or ``<dir>/<name>.txt`` with the name and version the
    implementation gives in hello (so ``paddle-2.6.2.txt``), else ``<adapter name>.txt``.
    """
    out: dict[str, str] = {}
    path = file if file is not None else next(
        (directory / f"{n}.txt" for n in known_failures_names(impl, hello)
         if (directory / f"{n}.txt").exists()), None)
    if path is None:
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not line:
            continue
        clause, _, reason = line.partition(" ")
        out[clause] = reason.strip()
    return out
