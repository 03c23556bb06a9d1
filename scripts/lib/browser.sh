#!/usr/bin/env bash
# Ensure Debian's Chromium is installed (no browser downloads: playwright-core drives it with
# executablePath /usr/bin/chromium). Idempotent. Prints `export CHROMIUM_PATH=...`.
set -euo pipefail

log() { printf '[browser %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium"
  start=$SECONDS
  apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq chromium >&2
  log "installed in $((SECONDS - start))s"
fi
log "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium (version unknown)')"
echo "export CHROMIUM_PATH=/usr/bin/chromium"
