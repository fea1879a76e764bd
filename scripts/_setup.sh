# Sourced by scripts/*.sh: create .venv with fluidspec and its test extras, idempotently.
PYTHON_BIN="${PYTHON:-}"
if [ -z "$PYTHON_BIN" ]; then
  if command -v python3.11 >/dev/null 2>&1; then PYTHON_BIN=python3.11; else PYTHON_BIN=python3; fi
fi
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $PYTHON_BIN"
  "$PYTHON_BIN" -m venv .venv
fi
echo "== installing fluidspec[test,docs] into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,docs]'
# numba's on-disk JIT cache, kept inside the checkout so CI and local runs reuse it.
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$PWD/.venv/numba-cache}"
