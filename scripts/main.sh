#!/usr/bin/env bash
# Set everything up on a fresh machine and run the main job: write a sample save, inspect it,
# then run the conformance suite on the built-in implementations (reference, numba, and
# numba-cuda-sim when numba-cuda is installed) and write its JSON report.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
out="${1:-out/sample}"
.venv/bin/fluidspec sample "$out"
.venv/bin/fluidspec inspect "$out"
mkdir -p out
.venv/bin/fluidspec conformance --json out/conformance.json
