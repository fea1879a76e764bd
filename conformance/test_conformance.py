"""The suite as pytest tests.

    pytest -p fluidspec.conformance.pytest_plugin --pyargs fluidspec.conformance --fluidspec-impl IMPL
"""

from __future__ import annotations

import pytest

from fluidspec.conformance.pytest_plugin import run_one


def test_conformance(fluidspec_impl: str, fluidspec_check: str, request: pytest.FixtureRequest
                     ) -> None:
    run_one(fluidspec_impl, fluidspec_check, request.config.getoption("fluidspec_profile"),
            request.config)
