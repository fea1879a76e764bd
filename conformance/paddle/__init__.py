"""Code that runs INSIDE the Paddle virtual environment (``.venv-paddle``, see scripts/_paddle_env.sh).

Everything in this package imports only paddle, numpy and the standard library — never fluidspec,
which is not installed there — and is run as scripts (``.venv-paddle/bin/python
conformance/paddle/<script>.py``), so this ``__init__`` deliberately imports nothing: importing the
package from fluidspec's own venv (where there is no paddle) must stay harmless.

- ``generate_vectors.py`` writes the committed Paddle-made vectors (conformance/vectors/paddle-2.6.2/).
- ``server.py`` is the Paddle protocol server used by the conformance suite.
"""
