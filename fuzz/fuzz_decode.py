"""atheris (libFuzzer) harness for every tensor decoder (clauses ERR-001, FMT-SAFE-*).

Each input is decoded as a separate file, as a combined stream of 1..3 records and as a
SelectedRows file, by every implementation ``tests/helpers/hostile_helpers.py`` knows (``reference``, and
``numba_kernels`` once its decode API lands).  A taxonomy error is fine; a success must be exactly
what the bytes say (the independent oracle of ``hostile_helpers``); anything else - another
exception, a wrong success - is a crash that libFuzzer saves as ``crash-*``.  Hangs are caught
by ``-timeout``, big allocations by ``-rss_limit_mb``.  See ``fuzz/README.md`` for the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO / "tests" / "helpers"))
sys.path.insert(0, str(_REPO))

# The Python decoders must be imported inside this block to be coverage-instrumented; the
# helpers import them lazily, so import them here first.  numba_kernels is imported outside:
# numba cannot compile bytecode that atheris has instrumented (and njit code has no Python
# coverage to report), so it is fuzzed without guidance of its own.
with atheris.instrument_imports(include=["reference", "spec"]):
    import hostile_helpers as hh

    import fluidspec.reference.codec

from fluidspec.spec.errors import FluidSpecError  # noqa: E402

_numba = hh.numba_decoders()
IMPLS = [hh.reference_decoders()]
if _numba is not None:
    IMPLS.append(_numba)


def _check(buf: bytes) -> None:
    for impl in IMPLS:
        try:
            array, lod = impl.decode_file(buf)
        except FluidSpecError:
            pass
        else:
            assert hh.check_dense_success(buf, 0, array, lod) == len(buf), impl.name
        for count in (1, 2, 3):
            try:
                out = impl.decode_combined(buf, count)
            except FluidSpecError:
                continue
            pos = 0
            for array, lod in out:
                pos = hh.check_dense_success(buf, pos, array, lod)
            assert pos == len(buf) and len(out) == count, impl.name
        try:
            array, rows, height = impl.decode_selected_rows(buf)
        except FluidSpecError:
            pass
        else:
            assert hh.check_selected_rows_success(buf, array, rows, height) == len(buf)


def test_one_input(data: bytes) -> None:
    _check(data)
    try:  # the reader behind `fluidspec inspect` (FMT-SNIFF-001)
        headers = fluidspec.reference.codec.read_records(data)
    except FluidSpecError:
        return
    assert headers and headers[-1].end == len(data)


def write_seeds(corpus: Path) -> int:
    """Fill an empty corpus directory with the valid seeds and the lying headers."""
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return 0
    seeds = dict(hh.dense_seeds())
    seeds.update({name: buf for name, (buf, _count) in hh.combined_seeds().items()})
    seeds.update(hh.selected_rows_seeds())
    seeds.update({f"lie-{lie.name}": lie.data for lie in hh.lying_headers()})
    for i, (_name, buf) in enumerate(sorted(seeds.items())):
        (corpus / f"seed-{i:03d}").write_bytes(buf)
    return len(seeds)


def main() -> None:
    corpora = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    for corpus in corpora[:1]:
        write_seeds(corpus)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
