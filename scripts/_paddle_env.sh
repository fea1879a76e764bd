# Sourced (or run) to create .venv-paddle with paddlepaddle==2.6.2 and numpy, idempotently.
# The Paddle venv is separate from .venv: fluidspec is never installed in it, and nothing in
# conformance/paddle/ imports fluidspec: Paddle is an implementation under test, judged from outside.
# Cost on a fresh machine: ~11 s download+install, ~584 MiB on disk.
PADDLE_VERSION="${PADDLE_VERSION:-2.6.2}"
PADDLE_NUMPY_VERSION="${PADDLE_NUMPY_VERSION:-2.4.6}"  # pinned: the vectors' manifest records it
PADDLE_VENV="${PADDLE_VENV:-.venv-paddle}"
_paddle_python="${PYTHON:-}"
if [ -z "$_paddle_python" ]; then
  if command -v python3.11 >/dev/null 2>&1; then _paddle_python=python3.11; else _paddle_python=python3; fi
fi
if [ ! -x "$PADDLE_VENV/bin/python" ]; then
  echo "== creating $PADDLE_VENV with $_paddle_python"
  "$_paddle_python" -m venv "$PADDLE_VENV"
fi
# Only talk to the registry when the pinned version is not already there.
if ! "$PADDLE_VENV/bin/python" -c "import paddle, numpy, sys; sys.exit(paddle.__version__ != '$PADDLE_VERSION' or numpy.__version__ != '$PADDLE_NUMPY_VERSION')" >/dev/null 2>&1; then
  echo "== installing paddlepaddle==$PADDLE_VERSION and numpy==$PADDLE_NUMPY_VERSION into $PADDLE_VENV"
  "$PADDLE_VENV/bin/python" -m pip install -q --disable-pip-version-check "paddlepaddle==$PADDLE_VERSION" "numpy==$PADDLE_NUMPY_VERSION"
fi
unset _paddle_python
