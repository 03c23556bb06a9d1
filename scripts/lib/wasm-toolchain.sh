#!/usr/bin/env bash
# Set up the wasm32 toolchain, idempotently, outside the repo:
#   /var/cache/nucleus/wasm/trixie                 Debian trixie chroot with rustc/cargo 1.85,
#                                                  libstd-rust-dev-wasm32, rust-src (for
#                                                  -Zbuild-std), lld (wasm-ld), binaryen
#   /var/cache/nucleus/wasm/wasm-bindgen-<ver>/    wasm-bindgen-cli built with the host cargo
#
# The rustup toolchain on the host has no wasm32 std, and the host's 1.95 cannot use trixie's
# (see shared/specs/toolchain.md §A), so crates are compiled inside the chroot
# (scripts/lib/wasm-build.sh) and only the bindgen CLI (rustc >= 1.86) runs on the host.
#
# Usage: scripts/lib/wasm-toolchain.sh [all|chroot|bindgen]   (default: all)
# Prints export lines: NUCLEUS_WASM_CHROOT and WASM_BINDGEN.
# WASM_BINDGEN_VERSION overrides the version; otherwise it is read from verifier-wasm's
# Cargo.lock (or an "=x.y.z" pin in its Cargo.toml), defaulting to 0.2.130.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WASM_CACHE="${NUCLEUS_CACHE:-/var/cache/nucleus}/wasm"
CH="$WASM_CACHE/trixie"
STATS="$WASM_CACHE/build-stats.txt"
WHAT="${1:-all}"

log() { printf '[wasm-toolchain %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

mkdir -p "$WASM_CACHE"

# timed NAME CMD...: nice'd, with wall time and peak RSS appended to $STATS.
timed() {
  local name=$1; shift
  local tv; tv=$(mktemp)
  local start=$SECONDS
  if ! nice -n 19 /usr/bin/time -v -o "$tv" "$@" >&2; then
    cat "$tv" >&2; rm -f "$tv"
    log "FAILED: $name"
    return 1
  fi
  local secs=$((SECONDS - start))
  local rss; rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
  rm -f "$tv"
  printf '%s\t%s\twall=%ss\tpeak_rss=%sMiB\n' "$(date -u +%FT%TZ)" "$name" "$secs" "$((rss / 1024))" >>"$STATS"
  log "$name: ${secs}s, peak RSS $((rss / 1024)) MiB"
}

apt_install_host() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing on the host: ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${missing[@]}" >&2
}

# True when something is mounted at or below the chroot (never delete it then).
chroot_has_mounts() {
  awk -v p="$CH" '$2 == p || index($2, p "/") == 1 {found=1} END {exit !found}' /proc/mounts
}

# Packages the chroot needs beyond rustc and cargo. A chroot cached before one was added here
# gets it on its next use.
CHROOT_PACKAGES="ca-certificates rustc cargo libstd-rust-dev-wasm32 rust-src lld binaryen"

# chroot_apt NAME PACKAGES...: installs PACKAGES in the chroot (timed as NAME).
chroot_apt() {
  local name=$1; shift
  timed "$name" chroot "$CH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive bash -c "apt-get update -qq \
      && apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $* >/dev/null \
      && update-ca-certificates >/dev/null && apt-get clean"
}

ensure_chroot_packages() {
  local missing=() p
  for p in $CHROOT_PACKAGES; do
    chroot "$CH" dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing in the cached chroot: ${missing[*]}"
  chroot_apt chroot-apt-add "${missing[@]}"
}

setup_chroot() {
  if [ -f "$CH/.nucleus-ready" ]; then
    log "chroot: cached at $CH"
    ensure_chroot_packages
    return
  fi
  apt_install_host debootstrap time
  if [ -d "$CH" ]; then
    # A half-made chroot from an interrupted run: start again from nothing.
    if chroot_has_mounts; then
      log "refusing to remove $CH: something is still mounted below it"
      exit 1
    fi
    log "removing incomplete chroot $CH"
    rm -rf "$CH"
  fi
  log "debootstrap trixie (minbase) into $CH"
  timed debootstrap debootstrap --variant=minbase trixie "$CH" http://deb.debian.org/debian
  # Registry traffic is TLS re-signed by a proxy: the chroot must trust the host's extra CAs.
  mkdir -p "$CH/usr/local/share/ca-certificates"
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$CH/usr/local/share/ca-certificates/"
  fi
  log "installing $CHROOT_PACKAGES in the chroot"
  # shellcheck disable=SC2086 # a list of package names
  chroot_apt chroot-apt $CHROOT_PACKAGES
  local rv
  rv=$(chroot "$CH" rustc --version)
  log "chroot ready: $rv, $(chroot "$CH" wasm-opt --version)"
  echo "$rv" >"$CH/.nucleus-ready"
}

bindgen_version() {
  if [ -n "${WASM_BINDGEN_VERSION:-}" ]; then
    echo "$WASM_BINDGEN_VERSION"
    return
  fi
  local lock="$REPO_ROOT/verifier-wasm/Cargo.lock" toml="$REPO_ROOT/verifier-wasm/Cargo.toml" v=""
  if [ -f "$lock" ]; then
    v=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$lock")
  fi
  if [ -z "$v" ] && [ -f "$toml" ]; then
    v=$(sed -n -E 's/^wasm-bindgen *= *.*"=([0-9]+\.[0-9]+\.[0-9]+)".*/\1/p' "$toml" | head -n1)
  fi
  echo "${v:-0.2.130}"
}

setup_bindgen() {
  local ver; ver=$(bindgen_version)
  local root="$WASM_CACHE/wasm-bindgen-$ver"
  if [ -x "$root/bin/wasm-bindgen" ]; then
    log "wasm-bindgen-cli $ver: cached"
  else
    apt_install_host time
    log "building wasm-bindgen-cli $ver with the host cargo (no --locked: the mirror lacks some newest deps)"
    # Own target dir: keeps the shared workspace target lock free and makes rebuilds incremental.
    timed "wasm-bindgen-cli-$ver" env CARGO_TARGET_DIR="$WASM_CACHE/wasm-bindgen-build" \
      cargo install wasm-bindgen-cli --version "=$ver" --root "$root"
  fi
  echo "export WASM_BINDGEN=$root/bin/wasm-bindgen"
}

case "$WHAT" in
  all)
    setup_chroot
    echo "export NUCLEUS_WASM_CHROOT=$CH"
    setup_bindgen
    ;;
  chroot)
    setup_chroot
    echo "export NUCLEUS_WASM_CHROOT=$CH"
    ;;
  bindgen) setup_bindgen ;;
  *)
    echo "usage: $0 [all|chroot|bindgen]" >&2
    exit 2
    ;;
esac
