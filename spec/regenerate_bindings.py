"""Regenerate ``spec/framework_pb2.py`` from ``spec/framework.proto``.

Run ``python -m fluidspec.spec.regenerate_bindings`` (needs the ``grpcio-tools`` package, which bundles
``protoc`` and works offline).  ``--check`` regenerates into a temporary directory and exits 1
when the checked-in bindings differ, which is what the drift test runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parent
ROOT = SPEC_DIR.parent
PROTO = SPEC_DIR / "framework.proto"
BINDINGS = SPEC_DIR / "framework_pb2.py"


def generate(out_dir: Path) -> Path:
    """Run protoc on ``framework.proto`` and return the path of the generated module."""
    from grpc_tools import protoc  # imported lazily: a test/dev dependency only

    status = protoc.main(
        # The proto is registered as "spec/framework.proto" (not Paddle's "framework.proto"),
        # so both can live in one descriptor pool.
        ["protoc", f"--proto_path={ROOT}", f"--python_out={out_dir}", str(PROTO)]
    )
    if status != 0:
        raise RuntimeError(f"protoc failed with status {status}")
    return out_dir / "spec" / "framework_pb2.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, do not write")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp)).read_bytes()
    if args.check:
        if BINDINGS.read_bytes() != fresh:
            print(f"{BINDINGS} is out of date; run python -m fluidspec.spec.regenerate_bindings")
            return 1
        return 0
    BINDINGS.write_bytes(fresh)
    print(f"wrote {BINDINGS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
