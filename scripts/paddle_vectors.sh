#!/usr/bin/env bash
# Regenerate conformance/vectors/paddle-2.6.2/ with real PaddlePaddle 2.6.2:
#     bash scripts/paddle_vectors.sh
# Creates .venv-paddle if needed (scripts/_paddle_env.sh), writes the vectors into a fresh temporary
# directory with conformance/paddle/generate_vectors.py, and only then replaces the committed
# directory, so a failed run leaves the previous vectors untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_paddle_env.sh
target=conformance/vectors/paddle-2.6.2
tmp="$(mktemp -d "${TMPDIR:-/tmp}/paddle-vectors.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$PADDLE_VENV/bin/python" conformance/paddle/generate_vectors.py "$tmp/out"
mkdir -p "$(dirname "$target")"
rm -rf "$target.old"
if [ -d "$target" ]; then mv "$target" "$target.old"; fi
mv "$tmp/out" "$target"
rm -rf "$target.old"
echo "== regenerated $target (git status shows what changed)"
