#!/usr/bin/env bash
# Makes the v3 fixtures in verifier-wasm/fixtures/ with the real producer: three
# nucleus-witness processes on loopback (SQLite in a temp dir), a 2-of-3 policy, and
# `nucleus log init / append / checkpoint / cosign --all` then `nucleus bundle export`.
#
# Usage: verifier-wasm/scripts/make-fixtures.sh [OUT_DIR]   (default verifier-wasm/fixtures)
# Writes bundle-100.json (100 edges, payload sealed), bundle-small.json (2 edges, same log and
# checkpoint), trust-anchor.json (from `nucleus policy anchor`) and policy.txt.
# Keys are fresh on every run, so the files change each time; the verdicts do not.
# NUCLEUS_BIN and NUCLEUS_WITNESS_BIN (both) use already-built binaries instead of cargo build.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$HERE/.." && pwd)"
OUT="${1:-$HERE/fixtures}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/nucleus/target}"
ORIGIN="example.com/nucleus/verifier-wasm-fixtures"
BIG=bundle-100
SMALL=bundle-small

log() { printf '[make-fixtures %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [ -n "${NUCLEUS_BIN:-}" ] && [ -n "${NUCLEUS_WITNESS_BIN:-}" ]; then
  NUCLEUS="$NUCLEUS_BIN"
  WITNESS="$NUCLEUS_WITNESS_BIN"
  log "using $NUCLEUS and $WITNESS (NUCLEUS_BIN, NUCLEUS_WITNESS_BIN)"
else
  log "building nucleus and nucleus-witness"
  (cd "$REPO_ROOT" && cargo build -q -p nucleus-cli -p nucleus-witness)
  NUCLEUS="$CARGO_TARGET_DIR/debug/nucleus"
  WITNESS="$CARGO_TARGET_DIR/debug/nucleus-witness"
fi

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

LOGDIR="$TMP/log"
"$NUCLEUS" log init --dir "$LOGDIR" --origin "$ORIGIN" >"$TMP/init.txt"
LOG_PUB=$(sed -n 's/^log key: //p' "$TMP/init.txt")
[ ${#LOG_PUB} -eq 64 ] || { log "could not read the log key from nucleus log init"; exit 1; }

{
  echo "log $LOG_PUB"
  for i in 0 1 2; do
    port=$(free_port)
    seed=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    NUCLEUS_WITNESS_SEED_HEX="$seed" "$WITNESS" \
      --bind "127.0.0.1:$port" \
      --witness-name "witness.example/w$i" \
      --origin "$ORIGIN|$ORIGIN|$LOG_PUB" \
      --db-url "sqlite://$TMP/w$i.db" >"$TMP/w$i.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 1 300); do
      curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
      sleep 0.1
    done
    key=$(curl -fsS "http://127.0.0.1:$port/info" | python3 -c 'import json, sys; print(json.load(sys.stdin)["public_key_hex"])')
    echo "witness w$i $key http://127.0.0.1:$port"
  done
  echo "group two-of-three 2 w0 w1 w2"
  echo "quorum two-of-three"
} >"$TMP/policy.txt"
"$NUCLEUS" policy check "$TMP/policy.txt" >&2

# append SESSION INDEX: one edge; kinds cycle, every edge has attributes and a content hash.
KINDS=(pod_admit tool_call llm_call artifact_produced)
BASE_TS=$(date -u -d 2026-11-29T01:00:00Z +%s)
append() {
  local session=$1 i=$2
  local kind=${KINDS[$((i == 0 ? 0 : 1 + (i - 1) % 3))]}
  "$NUCLEUS" log append --dir "$LOGDIR" --session "$session" --kind "$kind" \
    --content "$session step $i" \
    --attr "step=$i" --attr "agent=fixture-agent" \
    --ts "$(date -u -d "@$((BASE_TS + i))" +%FT%TZ)" >/dev/null
}

log "appending 100 edges to $BIG and 2 to $SMALL"
for i in $(seq 0 99); do append "$BIG" "$i"; done
for i in 0 1; do append "$SMALL" "$i"; done

"$NUCLEUS" log checkpoint --dir "$LOGDIR" >&2
log "cosigning with every witness (--all)"
"$NUCLEUS" log cosign --dir "$LOGDIR" --policy "$TMP/policy.txt" --all >&2

mkdir -p "$OUT"
printf '{"summary":"fixture payload for %s","edges":100}\n' "$BIG" >"$TMP/payload-big.json"
printf '{"summary":"fixture payload for %s","edges":2}\n' "$SMALL" >"$TMP/payload-small.json"
"$NUCLEUS" bundle export --dir "$LOGDIR" --session "$BIG" --out "$OUT/$BIG.json" \
  --payload "$TMP/payload-big.json" >&2
"$NUCLEUS" bundle export --dir "$LOGDIR" --session "$SMALL" --out "$OUT/$SMALL.json" \
  --payload "$TMP/payload-small.json" >&2
"$NUCLEUS" policy anchor --policy "$TMP/policy.txt" --dir "$LOGDIR" --threshold 2 \
  --out "$OUT/trust-anchor.json" >&2
cp "$TMP/policy.txt" "$OUT/policy.txt"

for b in "$BIG" "$SMALL"; do
  "$NUCLEUS" bundle verify "$OUT/$b.json" --trust-anchor "$OUT/trust-anchor.json" >&2
done
log "wrote $OUT/{$BIG,$SMALL}.json, trust-anchor.json, policy.txt"
