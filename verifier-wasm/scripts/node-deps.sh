#!/usr/bin/env bash
# Installs the Node dev dependencies (playwright-core only; never a browser download) with
# `npm ci` from the committed package-lock.json into a cache outside the clone, and links
# verifier-wasm/node_modules to it (gitignored). Idempotent: reinstalls only when the lock
# file changed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${NUCLEUS_CACHE:-/var/cache/nucleus}/wasm/node"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

log() { printf '[node-deps %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$CACHE/.installed" 2>/dev/null)" != "$want" ] || [ ! -d "$CACHE/node_modules" ]; then
  log "npm ci into $CACHE"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/"
  (cd "$CACHE" && npm ci --ignore-scripts --no-audit --no-fund >&2)
  echo "$want" >"$CACHE/.installed"
fi
if [ "$(readlink "$HERE/node_modules" 2>/dev/null)" != "$CACHE/node_modules" ]; then
  rm -rf "$HERE/node_modules"
  ln -s "$CACHE/node_modules" "$HERE/node_modules"
fi
log "node_modules -> $CACHE/node_modules"
