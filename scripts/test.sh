#!/usr/bin/env bash
# Set everything up on a fresh machine (Python 3.11 + pip) and run every test.
# README's test command and .ci/run both run exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh

export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
echo "== ruff"
.venv/bin/ruff check .
echo "== pytest (hypothesis profile: $HYPOTHESIS_PROFILE)"
# pytest exits 5 when it collected nothing; with `set -e` that fails the run, as it should.
.venv/bin/python -m pytest "$@"
