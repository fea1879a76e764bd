#!/usr/bin/env bash
# Regenerate conformance/vectors/paddle-VERSION/ with real PaddlePaddle (2.6.2 by default, or 3.3.1):
#     bash scripts/paddle_vectors.sh [VERSION]
# Creates .venv-paddle if needed (scripts/_paddle_env.sh), writes the vectors into a fresh temporary
# directory with conformance/paddle/generate_vectors.py, and only then replaces the committed
# directory, so a failed run leaves the previous vectors untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_paddle_env.sh
version="${1:-2.6.2}"
case "$version" in
  2.6.2) python_bin="$PADDLE_VENV/bin/python" ;;
  3.3.1) python_bin="$PADDLE3_VENV/bin/python" ;;
  *) echo "paddle_vectors.sh: no managed environment for Paddle $version (2.6.2 or 3.3.1)" >&2; exit 2 ;;
esac
target="conformance/vectors/paddle-$version"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/paddle-vectors.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$python_bin" conformance/paddle/generate_vectors.py "$tmp/out"
mkdir -p "$(dirname "$target")"
rm -rf "$target.old"
if [ -d "$target" ]; then mv "$target" "$target.old"; fi
mv "$tmp/out" "$target"
rm -rf "$target.old"
echo "== regenerated $target (git status shows what changed)"
