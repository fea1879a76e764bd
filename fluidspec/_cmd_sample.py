"""``fluidspec sample DIR``: write a small save (separate files, one SelectedRows file, and one
combined file) for ``fluidspec inspect`` to show."""

from __future__ import annotations

import argparse

from fluidspec._usage import UsageError, writable_directory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", help="where to write the sample (created if missing)")


def sample_values() -> dict[str, tuple[object, list[list[int]]]]:
    """A few variables covering LoD, 0-d, zero-size and a 16-bit float."""
    import numpy as np

    return {
        "fc_0.w_0": (np.arange(6, dtype=np.float32).reshape(2, 3), []),
        "fc_0.b_0": (np.zeros(3, dtype=np.float32), []),
        "learning_rate_0": (np.array(0.01, dtype=np.float32), []),
        "emb": (np.arange(10, dtype=np.float16).reshape(5, 2), [[0, 2, 5]]),
        "empty": (np.zeros((0, 4), dtype=np.int64), []),
    }


def main(args: argparse.Namespace) -> int:
    import numpy as np

    from fluidspec.reference.codec import encode_combined, encode_lod_tensor, encode_selected_rows

    root = writable_directory(args.directory, "DIRECTORY")
    clash = [p for p in (root / "separate", root / "combined.pdparams") if p.exists()]
    if clash:
        # A sample written over an earlier save would silently mix two saves in one directory.
        raise UsageError(f"{clash[0]} already exists; choose a new or empty directory")
    (root / "separate").mkdir(parents=True, exist_ok=True)
    values = sample_values()
    for name, (array, lod) in values.items():
        (root / "separate" / name).write_bytes(encode_lod_tensor(array, lod, var=name))
    # A SelectedRows value is only ever saved to its own file (FMT-SR-002).
    table = np.arange(6, dtype=np.float32).reshape(3, 2)
    (root / "separate" / "sparse_table").write_bytes(
        encode_selected_rows(table, [1, 7, 3], 10, var="sparse_table"))
    combined = encode_combined(values[name] for name in sorted(values))  # FMT-COMB-001
    (root / "combined.pdparams").write_bytes(combined)
    print(f"wrote {len(values) + 1} files under {root / 'separate'} and "
          f"{root / 'combined.pdparams'}")
    return 0
