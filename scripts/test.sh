#!/usr/bin/env bash
# Set everything up on a fresh machine (Python 3.11 + pip) and run every test.
# README's test command and .ci/run both run exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
# Real PaddlePaddle 2.6.2 in its own venv (.venv-paddle), for tests/test_paddle_live.py and the
# conformance run against Paddle (issue 7).  FLUIDSPEC_SKIP_PADDLE=1 skips it (those tests then skip).
if [ "${FLUIDSPEC_SKIP_PADDLE:-0}" != "1" ]; then source scripts/_paddle_env.sh; fi

export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
echo "== ruff"
.venv/bin/ruff check .
echo "== pytest (hypothesis profile: $HYPOTHESIS_PROFILE)"
# pytest exits 5 when it collected nothing; with `set -e` that fails the run, as it should.
.venv/bin/python -m pytest "$@"
