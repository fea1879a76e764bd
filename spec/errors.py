"""The error taxonomy, public module (see ``spec/chapters/errors.md``)."""

from spec._errors import *  # noqa: F403
from spec._errors import __all__  # noqa: F401
