#!/usr/bin/env bash
# The witness benchmark: add-checkpoint req/s and p50/p99 latency on loopback for
# nucleus-witness on SQLite and on Postgres, 1 origin and 100 origins, and the same load
# against litewitness in the same run, with the ratios (benches/add_checkpoint.rs).
#
# Installs litewitness and witnessctl from the Go module proxy into
# /var/cache/nucleus/go-bin (idempotent: skipped when both are there; NUCLEUS_BENCH_REINSTALL=1
# forces it), starts Postgres with scripts/lib/postgres.sh when NUCLEUS_TEST_POSTGRES_URL is
# unset, then runs `cargo bench`. Env: NUCLEUS_BENCH_REQUESTS (requests per row, default
# 2000), NUCLEUS_BENCH_PACED_RPS (offered rate of the paced 100-origin rows, default 1000),
# TORCHWOOD_VERSION (default latest), CARGO_TARGET_DIR.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/nucleus/target}"
GO_BIN_DIR=/var/cache/nucleus/go-bin
TORCHWOOD_VERSION="${TORCHWOOD_VERSION:-latest}"

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# go_install PKG: `go install PKG@version` into GO_BIN_DIR. torchwood declares the Go version
# it needs; when the local Go is older, the Go command fetches that toolchain from the module
# proxy (GOTOOLCHAIN=auto), so a local Go 1.21 or later is enough.
go_install() {
  GOBIN="$GO_BIN_DIR" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
    go install "$1@$TORCHWOOD_VERSION"
}

if [ ! -x "$GO_BIN_DIR/litewitness" ] || [ ! -x "$GO_BIN_DIR/witnessctl" ] ||
  [ "${NUCLEUS_BENCH_REINSTALL:-0}" = 1 ]; then
  if command -v go >/dev/null; then
    mkdir -p "$GO_BIN_DIR"
    log "installing litewitness and witnessctl (filippo.io/torchwood@$TORCHWOOD_VERSION) into $GO_BIN_DIR"
    (cd /tmp && go_install filippo.io/torchwood/cmd/litewitness && go_install filippo.io/torchwood/cmd/witnessctl) ||
      log "could not install them from the Go module proxy: the litewitness rows will be skipped"
  else
    log "no Go toolchain: the litewitness rows will be skipped"
  fi
fi
for tool in ssh-keygen ssh-agent ssh-add; do
  command -v "$tool" >/dev/null || log "$tool missing (openssh-client): litewitness needs it for its key"
done

if [ -z "${NUCLEUS_TEST_POSTGRES_URL:-}" ]; then
  bash "$REPO_ROOT/scripts/lib/postgres.sh" >&2
  export NUCLEUS_TEST_POSTGRES_URL=postgres://nucleus:nucleus@127.0.0.1:5432/nucleus
fi

export LITEWITNESS_BIN="${LITEWITNESS_BIN:-$GO_BIN_DIR/litewitness}"
export WITNESSCTL_BIN="${WITNESSCTL_BIN:-$GO_BIN_DIR/witnessctl}"
cd "$REPO_ROOT"
exec cargo bench -p nucleus-witness --bench add_checkpoint
