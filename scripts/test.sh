#!/usr/bin/env bash
# Set everything up on a fresh machine (Python 3.11 + pip) and run every test.
# README's test command and .ci/run both run exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
# Real PaddlePaddle 2.6.2 in its own venv (.venv-paddle), for tests/live/test_paddle_live.py and the
# conformance run against Paddle.  FLUIDSPEC_SKIP_PADDLE=1 skips it (those tests then skip).
if [ "${FLUIDSPEC_SKIP_PADDLE:-0}" != "1" ]; then source scripts/_paddle_env.sh; fi
if [ "${FLUIDSPEC_SKIP_BROWSER:-0}" != "1" ]; then source scripts/_browser_env.sh; fi
# OpenVINO (its Paddle frontend: a reader-only implementation) in .venv-openvino;
# FLUIDSPEC_SKIP_OPENVINO=1 skips it (tests/live/test_openvino_live.py then skips).
source scripts/_openvino_env.sh

# The CUDA kernels need numba-cuda + cuda-bindings (the 'cuda' extra) even to simulate.
echo "== installing fluidspec[cuda] into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[cuda]'
# PTX check of those kernels for cc 9.0 (tests/numba_kernels/cuda/test_cuda_ptx.py) needs the CUDA 13 toolkit wheels
# (+~450 MB), kept apart in .venv-cu13.  FLUIDSPEC_SKIP_PTX=1 skips it (that test then skips).
if [ "${FLUIDSPEC_SKIP_PTX:-0}" != "1" ]; then
  [ -x .venv-cu13/bin/python ] || "$PYTHON_BIN" -m venv .venv-cu13
  echo "== installing numba-cuda[cu13] into .venv-cu13 (PTX check)"
  .venv-cu13/bin/python -m pip install -q --disable-pip-version-check 'numba-cuda[cu13]>=0.30'
fi

export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
echo "== ruff"
.venv/bin/ruff check .
echo "== pytest (hypothesis profile: $HYPOTHESIS_PROFILE)"
# pytest exits 5 when it collected nothing; with `set -e` that fails the run, as it should.
.venv/bin/python -m pytest "$@"
# The CUDA tests again, under numba's CUDA simulator: it must be switched on before numba is
# imported, so they get their own process.  (In the run above they skip, or use a real GPU.)
if [ $# -eq 0 ]; then
  echo "== pytest tests/numba_kernels/cuda under the CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
  NUMBA_ENABLE_CUDASIM=1 .venv/bin/python -m pytest -q tests/numba_kernels/cuda
fi
