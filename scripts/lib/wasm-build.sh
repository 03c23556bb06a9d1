#!/usr/bin/env bash
# Build a crate for wasm32-unknown-unknown with Debian trixie's rustc 1.85, inside the chroot
# that scripts/lib/wasm-toolchain.sh sets up.
#
# Usage: scripts/lib/wasm-build.sh <crate-dir-relative-to-repo> [extra cargo build args...]
#   e.g. scripts/lib/wasm-build.sh verifier-wasm
# Prints the path of the built .wasm (release profile) on stdout; logs go to stderr.
#
# The WHOLE repo is bind-mounted at /src (the pure crates are path dependencies), the host's
# ~/.cargo/registry is shared (cargo 1.85 and 1.95 use the same index folder), and the
# target dir is /var/cache/nucleus/wasm/target, mounted at the same path inside the chroot,
# so the printed path is valid on the host. Everything is unmounted on exit.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WASM_CACHE="${NUCLEUS_CACHE:-/var/cache/nucleus}/wasm"
CH="$WASM_CACHE/trixie"
TARGET="$WASM_CACHE/target"

log() { printf '[wasm-build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

CRATE_REL="${1:?usage: $0 <crate-dir-relative-to-repo> [cargo args...]}"
shift
CRATE_REL="${CRATE_REL%/}"
if [ ! -f "$REPO_ROOT/$CRATE_REL/Cargo.toml" ]; then
  log "no Cargo.toml at $REPO_ROOT/$CRATE_REL"
  exit 1
fi

bash "$REPO_ROOT/scripts/lib/wasm-toolchain.sh" chroot >/dev/null

HOST_REGISTRY="${CARGO_HOME:-$HOME/.cargo}/registry"
mkdir -p "$TARGET" "$HOST_REGISTRY" "$CH/src" "$CH/root/.cargo/registry" "$CH$TARGET"

# One build at a time: the mounts below are shared state.
exec 9>"$WASM_CACHE/.build.lock"
flock 9

MOUNTED=()
cleanup() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_at() { # mount_at DEST mount-args...
  local dest=$1; shift
  # A mount left by a killed run is reused rather than stacked.
  if mountpoint -q "$dest"; then umount "$dest" || umount -l "$dest"; fi
  mount "$@" "$dest"
  MOUNTED+=("$dest")
}

mount_at "$CH/proc" -t proc proc
mount_at "$CH/src" --bind "$REPO_ROOT"
mount_at "$CH/root/.cargo/registry" --bind "$HOST_REGISTRY"
mount_at "$CH$TARGET" --bind "$TARGET"

in_chroot() {
  chroot "$CH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    CARGO_HOME=/root/.cargo CARGO_TARGET_DIR="$TARGET" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
    CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}" \
    bash -c 'cd "/src/$0" && exec "$@"' "$CRATE_REL" "$@"
}

start=$SECONDS
log "cargo build --release --target wasm32-unknown-unknown in /src/$CRATE_REL ($(chroot "$CH" rustc --version))"
in_chroot nice -n 19 cargo build --release --target wasm32-unknown-unknown "$@" >&2
log "built in $((SECONDS - start))s"

# The cdylib's name: [lib] name, else the package name, with '-' as '_'.
name=$(in_chroot cargo metadata --no-deps --format-version 1 --offline | python3 -c '
import json, sys, os
m = json.load(sys.stdin)
want = os.path.realpath(sys.argv[1])
for p in m["packages"]:
    if os.path.realpath(os.path.dirname(p["manifest_path"])) != want:
        continue
    for t in p["targets"]:
        if "cdylib" in t["crate_types"]:
            print(t["name"].replace("-", "_"))
            sys.exit(0)
sys.exit("no cdylib target in " + want)
' "/src/$CRATE_REL")
WASM="$TARGET/wasm32-unknown-unknown/release/$name.wasm"
[ -f "$WASM" ] || { log "expected $WASM after the build"; exit 1; }
echo "$WASM"
