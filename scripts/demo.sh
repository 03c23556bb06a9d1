#!/usr/bin/env bash
# The README's first command: a local 2-of-3 witness quorum end to end, on embedded defaults.
#
#   a) three nucleus-witness processes (three "failure domains", one SQLite file each)
#   b) a log producer: init, a 2-of-3 Sigsum policy, edges of one session, checkpoints,
#      cosigning until the quorum holds
#   c) a rollback and a fork, both refused by the witnesses that saw the real log
#   d) a witness killed with SIGKILL and restarted: its refusals survive
#   e) a provenance bundle exported and verified offline (terminal, then browser)
#
# Idempotent: builds into $CARGO_TARGET_DIR (default /var/cache/nucleus/target), installs
# missing tools with apt-get, and works in a fresh temporary directory each run (printed;
# kept afterwards so you can look at the files). The processes it starts are stopped on exit.
# Env: CARGO_TARGET_DIR, NUCLEUS_DEMO_DIR (use this directory instead of a fresh temp one;
# it must be empty or absent).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/nucleus/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Failures the demo expects (the fork, the tampered bundle) print one line, not a backtrace.
export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0

ORIGIN="demo.nucleus.example/agent-log"
SESSION="session-1"
DOMAINS=(region-a region-b region-c)

step_no=0
BOLD="" PLAIN=""
if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; fi
step() {
  step_no=$((step_no + 1))
  printf '\n%s== %s. %s%s\n' "$BOLD" "$step_no" "$1" "$PLAIN"
  shift
  local line
  for line in "$@"; do printf '   %s\n' "$line"; done
}
say() { printf '   %s\n' "$*"; }
# show CMD...: prints the command, runs it, indents its output; fails the demo if it fails.
show() {
  printf '   $ %s\n' "$(display "$@")"
  local rc=0
  "$@" >"$WORK/last-output.txt" 2>&1 || rc=$?
  sed 's/^/     /' "$WORK/last-output.txt"
  return $rc
}
# display CMD...: the command as the user would type it (binaries by name, paths relative to
# the work dir).
display() {
  local out="" arg
  for arg in "$@"; do
    arg=${arg#"$BIN_DIR/"}
    arg=${arg//"$WORK/"/}
    out+="$arg "
  done
  printf '%s' "${out% }"
}
die() {
  printf '\n   DEMO FAILED: %s\n   logs: %s/logs\n' "$*" "${WORK:-?}" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------
# Tools and builds.

need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
command -v jq >/dev/null || need_apt+=(jq)
command -v sha256sum >/dev/null || need_apt+=(coreutils)
# The browser step runs verifier-wasm's Node script (it installs its own npm dependencies).
if [ -f "$REPO_ROOT/verifier-wasm/scripts/verify-in-browser.mjs" ] && ! command -v node >/dev/null; then
  need_apt+=(nodejs npm)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  printf 'installing %s with apt-get\n' "${need_apt[*]}"
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${need_apt[@]}"
fi
command -v cargo >/dev/null || die "cargo is not installed (https://rustup.rs), then rerun"

if [ -n "${NUCLEUS_DEMO_DIR:-}" ]; then
  mkdir -p "$NUCLEUS_DEMO_DIR"
  [ -z "$(ls -A "$NUCLEUS_DEMO_DIR")" ] || die "NUCLEUS_DEMO_DIR=$NUCLEUS_DEMO_DIR is not empty"
  WORK="$(cd "$NUCLEUS_DEMO_DIR" && pwd)"
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/nucleus-demo.XXXXXX")"
fi
mkdir -p "$WORK/logs" "$WORK/witnesses"
BIN_DIR="$CARGO_TARGET_DIR/debug"

declare -A PID PORT URL KEY
cleanup() {
  local name
  for name in "${!PID[@]}"; do
    kill "${PID[$name]}" 2>/dev/null || true
  done
  for name in "${!PID[@]}"; do
    wait "${PID[$name]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'die "the command on line $LINENO failed"' ERR
trap 'exit 130' INT TERM

printf 'nucleus split-trust demo\nwork dir: %s (kept after the demo; logs in logs/)\n' "$WORK"

step "Build nucleus (the log producer and verifier) and nucleus-witness" \
  "cargo build into $CARGO_TARGET_DIR (shared cache: later runs are quick)."
t0=$SECONDS
if ! (cd "$REPO_ROOT" && cargo build -p nucleus-cli -p nucleus-witness) >"$WORK/logs/build.log" 2>&1; then
  tail -n 30 "$WORK/logs/build.log" >&2
  die "cargo build failed"
fi
say "built in $((SECONDS - t0))s: $BIN_DIR/nucleus, $BIN_DIR/nucleus-witness"
NUCLEUS="$BIN_DIR/nucleus"
WITNESS="$BIN_DIR/nucleus-witness"

# ---------------------------------------------------------------------------------------
# a) Three witnesses.

# start_witness NAME: starts (or restarts) one witness on its own SQLite file and seed file.
# A first start binds port 0 and reads the port the witness logged; a restart reuses it.
start_witness() {
  local name=$1 dir="$WORK/witnesses/$1" bind=127.0.0.1:0
  [ -n "${PORT[$name]:-}" ] && bind="127.0.0.1:${PORT[$name]}"
  "$WITNESS" \
    --bind "$bind" \
    --witness-name "nucleus.witness/$name" \
    --witness-seed-file "$dir/seed" \
    --origins-file "$dir/origins.txt" \
    --db-url "sqlite://$dir/witness.db" \
    --log-format json \
    >>"$WORK/logs/witness-$name.log" 2>&1 &
  PID[$name]=$!
  for _ in $(seq 1 100); do
    if [ -z "${PORT[$name]:-}" ]; then
      PORT[$name]=$(jq -r 'select(.fields.message == "listening") | .fields.addr' \
        "$WORK/logs/witness-$name.log" 2>/dev/null | tail -n 1 | sed -n 's/.*:\([0-9][0-9]*\)$/\1/p' || true)
    fi
    if [ -n "${PORT[$name]:-}" ] && curl -fsS "http://127.0.0.1:${PORT[$name]}/healthz" >/dev/null 2>&1; then
      URL[$name]="http://127.0.0.1:${PORT[$name]}"
      return 0
    fi
    kill -0 "${PID[$name]}" 2>/dev/null || die "witness $name exited (see logs/witness-$name.log)"
    sleep 0.1
  done
  die "witness $name did not become healthy"
}

step "Start three witnesses: three failure domains" \
  "Each witness cosigns a checkpoint of our log only if it extends (consistency proof) the last" \
  "one it cosigned, and stores that state in its own SQLite file before answering. In" \
  "production each runs in a different region, cloud account or key store; here all three run" \
  "on this machine, so they are three processes, not three failure domains." \
  "Each seed (its private key) is generated into a file readable only by you, never put on a" \
  "command line."
for name in "${DOMAINS[@]}"; do
  dir="$WORK/witnesses/$name"
  mkdir -p "$dir"
  (umask 077 && head -c 32 /dev/urandom >"$dir/seed")
  : >"$dir/origins.txt"
  start_witness "$name"
  KEY[$name]=$(curl -fsS "${URL[$name]}/info" | jq -r .public_key_hex)
  say "$name  ${URL[$name]}  key ${KEY[$name]}  (from GET /info)"
done

# ---------------------------------------------------------------------------------------
# b) The log, the policy, a session, cosigning.

LOG="$WORK/log"
FORK="$WORK/fork"
step "Create the log" \
  "A local append-only Merkle log (SQLite) with a log key that signs checkpoints and an issuer" \
  "key that signs each edge."
show "$NUCLEUS" log init --dir "$LOG" --origin "$ORIGIN"
LOG_PUB=$(sed -n 's/^log key: //p' "$WORK/last-output.txt")
[ -n "$LOG_PUB" ] || die "could not read the log key"
# A copy taken now holds the same log key, issuer key and origin, and no leaves: the forger
# of the FORK step starts from it.
cp -r "$LOG" "$FORK"

say ""
say "Tell each witness about the log (origin|key name|log public key), as an operator would:"
say "append the line to its origins file and send SIGHUP (no restart needed)."
for name in "${DOMAINS[@]}"; do
  printf '%s|%s|%s\n' "$ORIGIN" "$ORIGIN" "$LOG_PUB" >"$WORK/witnesses/$name/origins.txt"
  kill -HUP "${PID[$name]}"
done
for name in "${DOMAINS[@]}"; do
  for _ in $(seq 1 50); do
    n=$(curl -fsS "${URL[$name]}/info" | jq '.origins | length')
    [ "$n" = 1 ] && break
    sleep 0.1
  done
  [ "$n" = 1 ] || die "witness $name did not load the origin after SIGHUP"
done
say "all three witnesses now accept checkpoints of $ORIGIN signed by $LOG_PUB"

POLICY="$WORK/policy.txt"
{
  echo "# 2 of my 3 own witnesses must cosign (Sigsum policy grammar)."
  echo "log     $LOG_PUB"
  for name in "${DOMAINS[@]}"; do
    echo "witness $name ${KEY[$name]} ${URL[$name]}"
  done
  echo "group   my-quorum 2 ${DOMAINS[*]}"
  echo "quorum  my-quorum"
} >"$POLICY"
step "Write the quorum policy" \
  "policy.txt names the three witnesses by key and says 2 of them must cosign. Verifiers" \
  "enforce it; the producer reads the witnesses' URLs from it."
sed 's/^/     /' "$POLICY"
show "$NUCLEUS" policy check "$POLICY"

append() {
  local dir=$1 kind=$2 content=$3
  "$NUCLEUS" log append --dir "$dir" --session "$SESSION" --kind "$kind" --content "$content" \
    | jq -r '"   appended \(.session) #\(.seq) '"$kind"' (leaf \(.leaf_index))"'
}

step "Record a session and get its checkpoint cosigned" \
  "Each edge is signed by the issuer key and becomes a leaf of the log. A checkpoint (size and" \
  "Merkle root, signed by the log key) goes to the witnesses until 2 of 3 have cosigned."
append "$LOG" pod_admit "admit agent pod"
append "$LOG" llm_call "summarise the incident report"
"$NUCLEUS" log checkpoint --dir "$LOG" >"$WORK/checkpoint-size-2.txt"
show "$NUCLEUS" log cosign --dir "$LOG" --policy "$POLICY"
say "region-c was not asked: the quorum already held."

say ""
say "Two more edges; the witnesses that cosigned size 2 now receive a consistency proof 2 -> 4."
append "$LOG" tool_call "read /var/log/incident.txt"
append "$LOG" artifact_produced "incident-summary.md"
show "$NUCLEUS" log cosign --dir "$LOG" --policy "$POLICY"
show "$NUCLEUS" log status --dir "$LOG"

# ---------------------------------------------------------------------------------------
# c) Rollback and fork.

# submit_raw NAME OLD NOTE_FILE: POSTs a checkpoint to a witness as the C2SP tlog-witness
# protocol describes (`old N`, no proof, blank line, the signed note); sets CODE and BODY.
submit_raw() {
  local name=$1 old=$2 note=$3 body="$WORK/request-$1.txt"
  { printf 'old %s\n\n' "$old"; cat "$note"; } >"$body"
  printf '   $ curl --data-binary @request.txt %s/add-checkpoint   # old %s + %s\n' \
    "${URL[$name]}" "$old" "$(basename "$note")"
  CODE=$(curl -sS -o "$WORK/response-$name.txt" -w '%{http_code}' \
    -H 'Content-Type: text/plain' --data-binary "@$body" "${URL[$name]}/add-checkpoint")
  BODY=$(tr '\n' ' ' <"$WORK/response-$name.txt")
  BODY=${BODY% }
  printf '     HTTP %s  %s\n' "$CODE" "$BODY"
}

step "A ROLLBACK is refused" \
  "Replay the size-2 checkpoint (validly signed by the log key, and once cosigned) to region-a" \
  "as if it were the first checkpoint it ever saw (old 0)."
submit_raw region-a 0 "$WORK/checkpoint-size-2.txt"
[ "$CODE" = 409 ] || die "expected 409 for a rolled-back checkpoint, got $CODE"
say "409 with body '$BODY': region-a has already cosigned size $BODY of this log and"
say "will only move forward from there. A signature by the log key is not enough to go back."

step "A FORK is refused" \
  "Someone holding the log key and origin (a copy of the log directory taken right after it" \
  "was created) writes a different history of 5 edges and signs a checkpoint of size 5," \
  "larger than the real log's 4."
append "$FORK" pod_admit "admit agent pod"
append "$FORK" tool_call "exfiltrate credentials"
append "$FORK" tool_call "delete audit trail"
append "$FORK" llm_call "write a harmless-looking summary"
append "$FORK" artifact_produced "incident-summary.md"
fork_rc=0
show "$NUCLEUS" log cosign --dir "$FORK" --policy "$POLICY" --all || fork_rc=$?
[ "$fork_rc" -ne 0 ] || die "the fork reached the quorum"
say "region-a and region-b hold size 4 of the real log; the fork's size-5 tree does not extend"
say "it, so the consistency proof fails (422)."
if grep -q '^cosigned  region-c' "$WORK/last-output.txt"; then
  say "region-c had never seen this log, so it cosigned the first checkpoint it was shown: a"
  say "witness only refuses what contradicts what it cosigned before. One cosignature is below"
  say "the policy's 2, so the fork has no quorum; and region-c's cosigned size-5 checkpoint, next"
  say "to the real size-4 one, is evidence that the log key signed two histories."
else
  say "No witness gave the fork a quorum."
fi

# ---------------------------------------------------------------------------------------
# d) Restart.

step "Kill a witness (SIGKILL) and restart it" \
  "The refusal must not depend on memory: region-a's state is in its SQLite file (WAL," \
  "fsynced before each cosignature)."
# The shell reports a job killed by a signal on its own stderr: silence it for these two.
exec 3>&2 2>/dev/null
kill -9 "${PID[region-a]}"
wait "${PID[region-a]}" || true
exec 2>&3 3>&-
say "killed region-a (pid ${PID[region-a]}) with SIGKILL"
start_witness region-a
restarted_key=$(curl -fsS "${URL[region-a]}/info" | jq -r .public_key_hex)
[ "$restarted_key" = "${KEY[region-a]}" ] || die "region-a came back with another key"
say "restarted region-a (pid ${PID[region-a]}) on ${URL[region-a]}, same key"
submit_raw region-a 0 "$WORK/checkpoint-size-2.txt"
[ "$CODE" = 409 ] || die "expected 409 after the restart, got $CODE"
say "still 409 '$BODY': the rolled-back checkpoint is refused after the restart too."
origin_hash=$(printf '%s' "$ORIGIN" | sha256sum | cut -d' ' -f1)
latest=$(curl -fsS "${URL[region-a]}/$origin_hash/checkpoint" | sed -n 2p)
say "GET /<sha256(origin)>/checkpoint (what auditors watch) shows size $latest."

# ---------------------------------------------------------------------------------------
# e) Export and verify.

BUNDLE="$WORK/bundle.json"
ANCHOR="$WORK/trust-anchor.json"
printf '{"summary":"disk full on node-7; rotated logs","session":"%s"}\n' "$SESSION" >"$WORK/payload.json"
step "Export the session as a provenance bundle and verify it offline" \
  "The bundle carries the signed edges, their inclusion proofs, the log-signed checkpoint and" \
  "the witnesses' cosignatures. The trust anchor is built from YOUR policy and keys, out of" \
  "band: the verifier never trusts keys found inside the bundle."
show "$NUCLEUS" bundle export --dir "$LOG" --session "$SESSION" --out "$BUNDLE" --payload "$WORK/payload.json"
show "$NUCLEUS" policy anchor --policy "$POLICY" --dir "$LOG" --require-payload-binding --out "$ANCHOR"
show "$NUCLEUS" bundle verify "$BUNDLE" --trust-anchor "$ANCHOR"

say ""
say "The same check must fail on a tampered copy (one edge kind changed):"
sed '0,/"tool_call"/s//"tool_cal1"/' "$BUNDLE" >"$WORK/bundle-tampered.json"
tampered_rc=0
show "$NUCLEUS" bundle verify "$WORK/bundle-tampered.json" --trust-anchor "$ANCHOR" || tampered_rc=$?
[ "$tampered_rc" -ne 0 ] || die "the tampered bundle verified"

BROWSER_SCRIPT="$REPO_ROOT/verifier-wasm/scripts/verify-in-browser.mjs"
# browser_verify BUNDLE: the page's verdict line; sets BROWSER_RC (0 verified, 1 rejected,
# 2 setup error). Its progress (first run: wasm build, npm ci) goes to logs/browser.log.
browser_verify() {
  printf '   $ node verifier-wasm/scripts/verify-in-browser.mjs %s trust-anchor.json\n' "$(basename "$1")"
  BROWSER_RC=0
  node "$BROWSER_SCRIPT" "$1" "$ANCHOR" >"$WORK/last-output.txt" 2>>"$WORK/logs/browser.log" || BROWSER_RC=$?
  sed 's/^/     /' "$WORK/last-output.txt"
}
step "Verify in a browser" \
  "The same Rust verifier compiled to WebAssembly, run in headless Chromium inside" \
  "verifier-wasm/demo.html with every non-loopback request blocked: no server is trusted."
if [ -f "$BROWSER_SCRIPT" ] && command -v node >/dev/null; then
  say "(the first run builds the wasm package and installs playwright-core: it takes a while)"
  eval "$(bash "$REPO_ROOT/scripts/lib/browser.sh" 2>>"$WORK/logs/browser.log")"
  browser_verify "$BUNDLE"
  [ "$BROWSER_RC" -eq 0 ] || die "the browser verifier did not accept the bundle (exit $BROWSER_RC, logs/browser.log)"
  browser_verify "$WORK/bundle-tampered.json"
  [ "$BROWSER_RC" -eq 1 ] || die "the browser verifier did not reject the tampered bundle (exit $BROWSER_RC)"
  say "To try it by hand (tamper with it on the page and watch it fail):"
  say "  python3 -m http.server -b 127.0.0.1 -d $REPO_ROOT/verifier-wasm 8000"
  say "  open http://127.0.0.1:8000/demo.html and choose bundle.json and trust-anchor.json from"
  say "  $WORK (it keeps working with the network off)."
else
  say "NOT AVAILABLE here: verifier-wasm/scripts/verify-in-browser.mjs or node is missing, so no"
  say "browser verification ran. The terminal verification above is the result."
fi

# ---------------------------------------------------------------------------------------

step "What this showed, and what it does not" \
  "Shown: the real session's checkpoint carries cosignatures from 2 of your 3 witnesses; each" \
  "of them has committed, durably, that this is the log's state at size 4. To roll the log" \
  "back or present a different history with a quorum, an attacker needs the log key AND two" \
  "witnesses (their keys or their databases), i.e. a threshold compromise of failure domains." \
  "Not shown: that the agent behaved well or that the edges describe what really happened (only" \
  "that the issuer key signed them and the log committed to them); confidentiality; that a" \
  "witness which never saw your log would refuse a fork (it cosigns the first checkpoint it" \
  "sees, as region-c did); or independence here: these three witnesses share one machine. The" \
  "value comes from running them in failure domains you control (regions, accounts, key" \
  "stores); no other organisation is needed."
printf '\nDone. Files: %s (witness logs in logs/). Witness processes are stopped now.\n' "$WORK"
