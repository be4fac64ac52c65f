#!/usr/bin/env bash
# Set up a fresh Debian machine that has rustup and Node for building, testing and running the
# demo. Idempotent: each step runs only when what it installs is missing or at the wrong version.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The Rust target for the browser.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The pinned nightly that builds the release wasm (scripts/nightly.env), with the standard
# library's source (for -Z build-std) and the wasm32 target. OAUTH_CONNECT_NIGHTLY names another
# toolchain of the same date (say nightly-2026-05-20) when `nightly` has moved on. Without it,
# `npm run build` warns and builds on stable (a bigger wasm that works the same), so a missing
# nightly is a warning here, not a failure.
# shellcheck source=nightly.env
source scripts/nightly.env
nightly=${OAUTH_CONNECT_NIGHTLY:-$NIGHTLY_TOOLCHAIN}
nightly_found=$(rustc "+$nightly" --version 2>/dev/null || true)
case "$nightly_found" in
  *-nightly\ \(*\ "$NIGHTLY_DATE"\))
    if ! rustup "+$nightly" component list --installed | grep -qx rust-src; then
      log "adding rust-src to $nightly (for -Z build-std)"
      rustup "+$nightly" component add rust-src
    fi
    if ! rustup "+$nightly" target list --installed | grep -qx wasm32-unknown-unknown; then
      log "adding the wasm32-unknown-unknown target to $nightly"
      rustup "+$nightly" target add wasm32-unknown-unknown
    fi
    ;;
  *)
    printf '[setup] warning: the release wasm is built with nightly Rust of %s (scripts/nightly.env), but `rustc +%s --version` gives: %s\n' \
      "$NIGHTLY_DATE" "$nightly" "${nightly_found:-nothing (no such toolchain)}" >&2
    printf '[setup] warning: `npm run build` will build on stable instead (a bigger wasm). For the release build, install that nightly (scripts/nightly.env says which), set OAUTH_CONNECT_NIGHTLY to its name and run this again\n' >&2
    ;;
esac

# Debian's Chromium (the test browser, driven by playwright-core) and binaryen (wasm-opt).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v wasm-opt >/dev/null || missing+=(binaryen)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# JS dependencies (playwright-core drives Debian's Chromium; it never downloads a browser).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi
log "ready"
