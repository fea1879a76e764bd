# Sourced (or run) to create, idempotently, the OpenVINO venv:
#   $OPENVINO_VENV (.venv-openvino)  openvino==2026.4.1  ~8 s download+install
# OpenVINO's Paddle frontend is a reader of Fluid inference models judged from outside, like
# real Paddle: fluidspec is never installed in this venv, and conformance/openvino/server.py
# imports only openvino and numpy.  FLUIDSPEC_SKIP_OPENVINO=1 skips it (the openvino tests then
# skip, saying the venv is missing).
OPENVINO_VERSION="${OPENVINO_VERSION:-2026.4.1}"
OPENVINO_VENV="${OPENVINO_VENV:-.venv-openvino}"
OPENVINO_NUMPY_VERSION="${OPENVINO_NUMPY_VERSION:-2.4.6}"  # the one the Paddle venvs pin

if [ "${FLUIDSPEC_SKIP_OPENVINO:-0}" = "1" ]; then
  echo "== FLUIDSPEC_SKIP_OPENVINO=1: not creating $OPENVINO_VENV"
else
  _openvino_python="${PYTHON:-}"
  if [ -z "$_openvino_python" ]; then
    if command -v python3.11 >/dev/null 2>&1; then _openvino_python=python3.11; else _openvino_python=python3; fi
  fi
  if [ ! -x "$OPENVINO_VENV/bin/python" ]; then
    echo "== creating $OPENVINO_VENV with $_openvino_python"
    "$_openvino_python" -m venv "$OPENVINO_VENV"
  fi
  # Only talk to the registry when the pinned versions are not already there.
  if ! "$OPENVINO_VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('openvino') != '$OPENVINO_VERSION' or m.version('numpy') != '$OPENVINO_NUMPY_VERSION')" >/dev/null 2>&1; then
    echo "== installing openvino==$OPENVINO_VERSION and numpy==$OPENVINO_NUMPY_VERSION into $OPENVINO_VENV"
    "$OPENVINO_VENV/bin/python" -m pip install -q --disable-pip-version-check \
      "openvino==$OPENVINO_VERSION" "numpy==$OPENVINO_NUMPY_VERSION"
  fi
  unset _openvino_python
fi
