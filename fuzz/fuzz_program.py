"""atheris harness for ``__model__`` parsing (clauses ERR-001, SAFE-LARGE-002, PROG-*).

A downloaded ``__model__`` is hostile input too.  Each input goes to
``reference.Program.parse_from_string``: ``BAD_PROGRAM`` (any taxonomy error) is fine; a success
must be a Program with a global block that serializes again; anything else is a crash.  Seeds:
the Paddle-written ``__model__`` / ``.pdmodel`` vectors of ``conformance/vectors``.  Command:
``fuzz/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))

with atheris.instrument_imports(include=["reference", "spec"]):
    import fluidspec.reference._program_desc  # noqa: F401
    from fluidspec import reference

from fluidspec.spec.errors import FluidSpecError  # noqa: E402


def test_one_input(data: bytes) -> None:
    try:
        program = reference.Program.parse_from_string(data)
    except FluidSpecError:
        return
    assert len(program.blocks) >= 1
    program.desc.serialize_to_string()
    program.list_vars()


def write_seeds(corpus: Path) -> int:
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return 0
    vectors = _REPO / "conformance" / "vectors"
    models = sorted(
        p for p in vectors.rglob("*") if p.is_file() and (p.name == "__model__"
                                                           or p.suffix == ".pdmodel")
    )
    for i, path in enumerate(models):
        (corpus / f"seed-{i:03d}").write_bytes(path.read_bytes())
    return len(models)


def main() -> None:
    corpora = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    for corpus in corpora[:1]:
        write_seeds(corpus)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
