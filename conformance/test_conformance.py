"""The suite as pytest tests.

    pytest -p conformance.pytest_plugin --pyargs conformance --fluidspec-impl IMPL
"""

from __future__ import annotations

import pytest

from conformance.pytest_plugin import run_one


def test_conformance(fluidspec_impl: str, fluidspec_check: str, request: pytest.FixtureRequest
                     ) -> None:
    run_one(fluidspec_impl, fluidspec_check, request.config.getoption("fluidspec_profile"))
