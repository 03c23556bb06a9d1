#!/usr/bin/env bash
# Run binaryen's wasm-opt from the trixie chroot (binaryen 120; bookworm's 108 breaks
# modules that use reference types, see shared/specs/toolchain.md §A.5).
#
# Usage: scripts/lib/wasm-opt.sh IN.wasm OUT.wasm [wasm-opt flags...]   (default flags: -Oz)
# IN and OUT may be the same file.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CH="${NUCLEUS_CACHE:-/var/cache/nucleus}/wasm/trixie"
IN="${1:?usage: $0 IN.wasm OUT.wasm [flags...]}"
OUT="${2:?usage: $0 IN.wasm OUT.wasm [flags...]}"
shift 2
[ $# -gt 0 ] || set -- -Oz
[ -f "$IN" ] || { echo "wasm-opt.sh: no such file: $IN" >&2; exit 1; }

bash "$REPO_ROOT/scripts/lib/wasm-toolchain.sh" chroot >/dev/null

# The chroot sees only its own tree: pass the module through a private temp folder in it.
work=$(mktemp -d "$CH/tmp/wasm-opt.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$IN" "$work/in.wasm"
rel="/tmp/$(basename "$work")"
chroot "$CH" /usr/bin/env -i PATH=/usr/bin:/bin wasm-opt "$@" "$rel/in.wasm" -o "$rel/out.wasm"
cp "$work/out.wasm" "$OUT"
echo "$OUT"
