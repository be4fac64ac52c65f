#!/usr/bin/env bash
# The demo: set up, build the package, and serve the demo page on loopback (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
npm run build
exec node www/server.mjs "$@"
