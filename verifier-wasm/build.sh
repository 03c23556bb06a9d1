#!/usr/bin/env bash
# Builds the npm package into verifier-wasm/pkg/ (idempotent; safe to re-run):
#   1. cargo build --release --target wasm32-unknown-unknown in the trixie chroot (rustc 1.85)
#   2. wasm-bindgen --target web (the CLI pinned to the crate's wasm-bindgen version)
#   3. wasm-opt -Oz (binaryen 120 from the chroot), names and debug info stripped
#   4. package.json (from npm/package.json) and README.md
# Prints the path of pkg/ on stdout; logs go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/.." && pwd)"
NAME=nucleus_verifier_wasm

log() { printf '[verifier-wasm build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

eval "$(bash "$REPO_ROOT/scripts/lib/wasm-toolchain.sh" all | grep -E '^export [A-Z_]+=')"
: "${WASM_BINDGEN:?wasm-toolchain.sh did not print WASM_BINDGEN}"

WASM=$(bash "$REPO_ROOT/scripts/lib/wasm-build.sh" verifier-wasm)

# Build into a fresh folder and swap it in, so a failed run never leaves a half-made pkg/.
STAGE=$(mktemp -d "$HERE/.pkg.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
log "wasm-bindgen --target web ($("$WASM_BINDGEN" --version))"
"$WASM_BINDGEN" --target web --out-dir "$STAGE" --out-name "$NAME" "$WASM"
log "wasm-opt -Oz"
bash "$REPO_ROOT/scripts/lib/wasm-opt.sh" "$STAGE/${NAME}_bg.wasm" "$STAGE/${NAME}_bg.wasm" \
  -Oz --strip-debug --strip-producers >/dev/null
cp "$HERE/npm/package.json" "$STAGE/package.json"
cp "$HERE/npm/README.md" "$STAGE/README.md"
chmod 755 "$STAGE"
rm -rf "$HERE/pkg"
mv "$STAGE" "$HERE/pkg"
trap - EXIT
log "pkg ready: $(stat -c %s "$HERE/pkg/${NAME}_bg.wasm") bytes of wasm"
echo "$HERE/pkg"
