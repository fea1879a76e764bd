"""Every check of the suite, one module per spec chapter (spec/chapters/<chapter>.md).

Importing this package registers the checks; ``all_checks()`` lists them.  The registry itself
(``fluidspec.conformance._registry``) never imports checks, so only this package knows the full list.
"""

from fluidspec.conformance._registry import Check, checks
from fluidspec.conformance.checks import (  # noqa: F401  (imported to register their checks)
    api,
    errors,
    format,
    inference,
    program,
    protocol,
    safety,
    selection,
)

__all__ = ["all_checks"]


def all_checks() -> list[Check]:
    """Every registered check, chapter by chapter."""
    return checks()
