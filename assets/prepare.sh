#!/usr/bin/env bash
# Obtains and converts the program's native and data assets; called by the build (Assets.targets).
# Usage: assets/prepare.sh OUT_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../.assets}"
for tool in node npm tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error CCASSET01: '$tool' is not on PATH. ContextCompiler's build needs Node.js and npm to obtain its pinned assets (see assets/README.md)." >&2
    exit 1
  fi
done
exec node --max-old-space-size=6144 "$here/prepare.mjs" "$out"
