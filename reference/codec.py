"""The tensor codec, public module: encode and decode the records of spec/chapters/format.md.

The implementation is ``reference/_codec.py``; this module is its public face.
"""

from fluidspec.reference._codec import *  # noqa: F403
from fluidspec.reference._codec import __all__  # noqa: F401
