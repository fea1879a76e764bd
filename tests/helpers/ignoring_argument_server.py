"""A protocol server for the reference that ignores one argument of one API:
``python ignoring_argument_server.py save_vars filename``.

The same bug as ``ignored_argument.IgnoresArgument`` in-process, but on the far side of the
protocol, so the suite has to see it through what a subprocess server answers.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ignored_argument import IgnoresArgument  # noqa: E402

from fluidspec.conformance._discovery import resolve  # noqa: E402
from fluidspec.conformance.server import serve  # noqa: E402

if __name__ == "__main__":
    api, field = sys.argv[1], sys.argv[2]
    sys.exit(serve(IgnoresArgument(resolve("reference"), api, field), sys.stdin, sys.stdout))
