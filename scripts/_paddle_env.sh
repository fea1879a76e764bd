# Sourced (or run) to create, idempotently, the two real-Paddle venvs:
#   $PADDLE_VENV  (.venv-paddle)   paddlepaddle==2.6.2  ~11 s download+install, ~584 MiB
#   $PADDLE3_VENV (.venv-paddle3)  paddlepaddle==3.3.1  ~15 s, ~868 MiB; conformance/paddle/server.py
#                                  runs it in legacy-IR mode (FLAGS_enable_pir_api=0 before import)
# Each venv is separate from .venv: fluidspec is never installed in it, and nothing in
# conformance/paddle/ imports fluidspec: Paddle is an implementation under test, judged from outside.
PADDLE_VERSION="${PADDLE_VERSION:-2.6.2}"
PADDLE_VENV="${PADDLE_VENV:-.venv-paddle}"
PADDLE3_VERSION="${PADDLE3_VERSION:-3.3.1}"
PADDLE3_VENV="${PADDLE3_VENV:-.venv-paddle3}"
PADDLE_NUMPY_VERSION="${PADDLE_NUMPY_VERSION:-2.4.6}"  # pinned: the vectors' manifest records it
_paddle_python="${PYTHON:-}"
if [ -z "$_paddle_python" ]; then
  if command -v python3.11 >/dev/null 2>&1; then _paddle_python=python3.11; else _paddle_python=python3; fi
fi

_paddle_venv() {  # <paddlepaddle version> <venv folder>
  if [ ! -x "$2/bin/python" ]; then
    echo "== creating $2 with $_paddle_python"
    "$_paddle_python" -m venv "$2"
  fi
  # Only talk to the registry when the pinned versions are not already there.
  if ! "$2/bin/python" -c "import paddle, numpy, sys; sys.exit(paddle.__version__ != '$1' or numpy.__version__ != '$PADDLE_NUMPY_VERSION')" >/dev/null 2>&1; then
    echo "== installing paddlepaddle==$1 and numpy==$PADDLE_NUMPY_VERSION into $2"
    "$2/bin/python" -m pip install -q --disable-pip-version-check "paddlepaddle==$1" "numpy==$PADDLE_NUMPY_VERSION"
  fi
}

_paddle_venv "$PADDLE_VERSION" "$PADDLE_VENV"
_paddle_venv "$PADDLE3_VERSION" "$PADDLE3_VENV"
unset _paddle_python
unset -f _paddle_venv
