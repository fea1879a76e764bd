"""Names for the records of a combined params file, taken from the program saved beside it.

A combined stream carries no names (FMT-COMB-001): its records are the program's saved
variables in sorted name order, as save_persistables / save_inference_model write them.  The
program is a ProgramDesc (``__model__``, ``*.pdmodel``: its persistable variables other than
feed/fetch holders) or a Paddle 3 PIR ``.json`` (its parameter ops).  Names are applied only
when the program's count and shapes agree with the records; otherwise the caller is told why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fluidspec import _detect, _pir_view, _program_view

__all__ = ["SavedName", "companion_program", "program_names", "match_names"]

# Variable kinds a saver never writes (SEL-*: feed/fetch holders and raw vars are not data).
NOT_SAVED = frozenset({"FEED_MINIBATCH", "FETCH_LIST", "RAW", "READER", "STEP_SCOPES"})


@dataclass(frozen=True)
class SavedName:
    """A saved variable as the program declares it: name and dims (None when undeclared)."""

    name: str
    dims: list[int] | None


def companion_program(params: Path) -> Path | None:
    """The program saved beside a combined params file, when there is one.

    ``X.pdiparams`` goes with ``X.pdmodel`` (Paddle 2.x) or ``X.json`` (Paddle 3 PIR);
    ``__params__`` and ``params`` with the ``__model__`` of their directory (Fluid 1.x names).
    """
    candidates = []
    if params.name in ("__params__", "params"):
        candidates.append(params.with_name("__model__"))
    if params.suffix == ".pdiparams":
        candidates += [params.with_suffix(".pdmodel"), params.with_suffix(".json")]
    return next((c for c in candidates if c.is_file()), None)


def program_names(program: Path) -> list[SavedName]:
    """The variables a saver writes for ``program``, sorted by name (FMT-COMB-001).

    Raises BAD_PROGRAM when the file is not a program.
    """
    buf = program.read_bytes()
    if _detect.is_pir_json(buf[: _detect.HEAD_SIZE]):
        view = _pir_view.pir_view(buf, str(program))
        found = [SavedName(p["name"], p["dims"]) for p in view["parameters"] if p["name"]]
    else:
        blocks = _program_view.program_view(buf, str(program))["blocks"]
        found = [SavedName(v["name"], v["dims"]) for v in (blocks[0]["vars"] if blocks else [])
                 if v["persistable"] and v["kind"] not in NOT_SAVED]
    unique = {n.name: n for n in found}  # each name is saved once (SEL-SAVE-004)
    return [unique[name] for name in sorted(unique)]


def match_names(names: Sequence[SavedName], dims: Sequence[Sequence[int]],
                source: str) -> tuple[list[str] | None, str | None]:
    """(names for records of these dims, None) or (None, why they do not fit)."""
    if len(names) != len(dims):
        return None, (f"{source} declares {len(names)} saved variable(s) but the file holds "
                      f"{len(dims)} record(s); records left unnamed")
    for name, record_dims in zip(names, dims, strict=True):
        if name.dims is not None and list(name.dims) != list(record_dims):
            return None, (f"{source} declares {name.name} as {name.dims} but its record has "
                          f"dims {list(record_dims)}; records left unnamed")
    return [n.name for n in names], None
