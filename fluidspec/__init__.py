"""The ``fluidspec`` command line (``python -m fluidspec``); the library lives in the other packages."""
