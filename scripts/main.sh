#!/usr/bin/env bash
# Set everything up on a fresh machine and run the main job: write a sample save and inspect it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
out="${1:-out/sample}"
.venv/bin/fluidspec sample "$out"
.venv/bin/fluidspec inspect "$out"
