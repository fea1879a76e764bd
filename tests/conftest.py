"""Shared pytest configuration: Hypothesis profiles.

* ``ci`` (default): derandomized, bounded examples, no deadline (JIT compiles would trip it),
  and every failure prints the ``@reproduce_failure`` blob.
* ``thorough``: for long local runs, ``HYPOTHESIS_PROFILE=thorough bash scripts/test.sh``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The shared test helpers (tests/helpers/) are imported as top-level modules by tests in every
# group, and by the atheris harnesses in fuzz/.
sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))
