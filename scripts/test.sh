#!/usr/bin/env bash
# Every test: set-up, native unit and property tests and the flows in the simulated browser
# (cargo test), the wasm build, the package's types, and the end-to-end tests that drive the built
# package in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh

echo "== native tests (cargo test)"
cargo test --locked

echo "== build (npm run build)"
npm run build

echo "== the package's types as an app uses them (tsc)"
npx tsc -p tests/types

echo "== end-to-end tests in headless Chromium (node --test)"
npm run test:e2e
