#!/usr/bin/env bash
# The `wasm` stage of scripts/test.sh: build the package (build.sh), install playwright-core
# (scripts/node-deps.sh, no browser download), run the Node suite (v1 fixtures, the
# producer's v2 fixtures, tampered copies, the package's types), then the browser suite
# (demo.html in Debian's Chromium, offline).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/.." && pwd)"
cd "$HERE"

step() { printf -- '-- %s\n' "$*"; }

for f in bundle-100.json bundle-small.json trust-anchor.json; do
  if [ ! -f "fixtures/$f" ]; then
    echo "fixtures/$f is missing: run verifier-wasm/scripts/make-fixtures.sh" >&2
    exit 1
  fi
done

step "build (pkg/)"
bash build.sh >/dev/null
wasm="pkg/nucleus_verifier_wasm_bg.wasm"
echo "   $wasm: $(stat -c %s "$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzipped"

step "node dependencies"
bash scripts/node-deps.sh
eval "$(bash "$REPO_ROOT/scripts/lib/browser.sh" | grep -E '^export [A-Z_]+=')"

step "node --test (Node $(node --version))"
node --test test/*.test.mjs

step "browser: demo.html in $("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null)"
node --test browser/*.test.mjs
