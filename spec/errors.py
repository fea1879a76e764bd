"""The error taxonomy, public module (see ``spec/chapters/errors.md``)."""

from fluidspec.spec._errors import *  # noqa: F403
from fluidspec.spec._errors import __all__  # noqa: F401
