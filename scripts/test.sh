#!/usr/bin/env bash
# The project's test command (README) and CI's entry point (.ci/run execs it).
#
# Stages, each timed, each with a header; a failed stage does not stop the run, but the
# script exits non-zero when any stage failed:
#   setup        Postgres and Chromium; starts the kube-binaries build and the wasm toolchain
#                in the background (all idempotent, cached under /var/cache/nucleus)
#   fmt          cargo fmt --all --check
#   clippy       cargo clippy --workspace --all-targets -- -D warnings
#   build        cargo test --workspace --no-run (compiles the test binaries)
#   crd-drift    crdgen output vs crds/ (when the operator has a crdgen binary)
#   helm         helm lint --strict + helm template of charts/* (when present)
#   cluster-up   e2e control plane (e2e/scripts/cluster.sh) + its smoke test, stopped on exit
#   cargo-test   cargo test --workspace with the services' env exported
#   wasm         verifier-wasm/test.sh (when present)
#
# Env: CARGO_TARGET_DIR (default /var/cache/nucleus/target), NUCLEUS_E2E_DIR (default
# /tmp/nucleus-e2e), NUCLEUS_TEST_TIMEOUT (cargo test limit, default 45m), CI,
# NUCLEUS_TEST_STAGES (comma list to run only some stages, e.g. "setup,cluster-up"; a
# developer's convenience: CI runs them all).
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/nucleus/target}"
export NUCLEUS_E2E_DIR="${NUCLEUS_E2E_DIR:-/tmp/nucleus-e2e}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
LOG_DIR="${NUCLEUS_TEST_LOG_DIR:-/var/cache/nucleus/test-logs}"
mkdir -p "$CARGO_TARGET_DIR" "$LOG_DIR"

RESULTS=()
FAILED=0
PASSED=0
RUN_START=$SECONDS

header() { printf '\n==================== %s ====================\n' "$*"; }

# stage NAME CMD...: runs CMD with a header and timing; records the outcome.
stage() {
  local name=$1; shift
  if [ -n "${NUCLEUS_TEST_STAGES:-}" ] && [[ ",$NUCLEUS_TEST_STAGES," != *",$name,"* ]]; then
    RESULTS+=("$(printf '%-12s not selected (NUCLEUS_TEST_STAGES)' "$name")")
    return 0
  fi
  header "$name"
  local t0=$SECONDS rc=0
  "$@" || rc=$?
  local secs=$((SECONDS - t0))
  if [ $rc -eq 0 ]; then
    PASSED=$((PASSED + 1))
    RESULTS+=("$(printf '%-12s ok     %5ss' "$name" "$secs")")
    printf -- '---- %s: ok (%ss)\n' "$name" "$secs"
  else
    FAILED=$((FAILED + 1))
    RESULTS+=("$(printf '%-12s FAILED %5ss (exit %s)' "$name" "$secs" "$rc")")
    printf -- '---- %s: FAILED (exit %s, %ss)\n' "$name" "$rc" "$secs"
  fi
  return 0
}

# skip NAME REASON: a stage that does not apply yet (printed, not counted).
skip() {
  header "$1"
  echo "skipped: $2"
  RESULTS+=("$(printf '%-12s skipped (%s)' "$1" "$2")")
}

# timed_sub LABEL CMD...: a sub-step with its own timing line.
timed_sub() {
  local label=$1; shift
  local t0=$SECONDS rc=0
  "$@" || rc=$?
  printf -- '  [%s] %ss%s\n' "$label" "$((SECONDS - t0))" "$([ $rc -eq 0 ] || echo " FAILED (exit $rc)")"
  return $rc
}

# eval_exports CMD...: runs CMD and evaluates the `export X=...` lines it prints.
eval_exports() {
  local out
  out=$("$@") || return $?
  eval "$(grep -E '^export [A-Z_][A-Z0-9_]*=' <<<"$out")"
}

# Background setup jobs: the kube binaries (Go builds, the slowest part of a cold run) and
# the wasm toolchain (mostly downloads) overlap fmt, clippy and the Rust test build; the
# stages that need them wait for them (wait_bg). Each job's output goes to $LOG_DIR.
declare -A BG_PID BG_T0
start_bg() {
  local name=$1; shift
  BG_T0[$name]=$SECONDS
  "$@" >"$LOG_DIR/$name.out" 2>"$LOG_DIR/$name.log" &
  BG_PID[$name]=$!
  echo "  [$name] started in the background (log: $LOG_DIR/$name.log)"
}

# wait_bg NAME CMD...: waits for background job NAME (or, when it was never started, as
# when NUCLEUS_TEST_STAGES leaves setup out, runs CMD now), shows the tail of its log,
# evaluates the `export X=...` lines it printed, and fails when the job failed.
declare -A BG_RC
wait_bg() {
  local name=$1 rc=0; shift
  if [ -n "${BG_RC[$name]:-}" ]; then return "${BG_RC[$name]}"; fi
  if [ -z "${BG_PID[$name]:-}" ]; then start_bg "$name" "$@"; fi
  wait "${BG_PID[$name]}" || rc=$?
  BG_RC[$name]=$rc
  grep -v '^I: ' "$LOG_DIR/$name.log" | tail -n 15 | sed 's/^/  /'
  printf -- '  [%s] %ss since start (overlapped)%s\n' "$name" "$((SECONDS - BG_T0[$name]))" \
    "$([ $rc -eq 0 ] || echo " FAILED (exit $rc)")"
  [ $rc -eq 0 ] || return $rc
  eval "$(grep -E '^export [A-Z_][A-Z0-9_]*=' "$LOG_DIR/$name.out")"
}

wasm_toolchain() {
  if [ -f verifier-wasm/Cargo.toml ]; then
    bash scripts/lib/wasm-toolchain.sh all
  else
    echo "no verifier-wasm crate yet" >&2
  fi
}

do_setup() {
  local rc=0
  timed_sub postgres eval_exports bash scripts/lib/postgres.sh || rc=1
  timed_sub chromium eval_exports bash scripts/lib/browser.sh || rc=1
  start_bg kube-bins bash e2e/scripts/kube-bins.sh
  start_bg wasm-toolchain wasm_toolchain
  return $rc
}

do_build() {
  # Compiles every test binary once, so the cargo-test stage measures tests, not builds.
  cargo test --workspace --no-run --quiet
}

do_crd_drift() {
  # crdgen --check writes nothing and fails when crds/ (or the chart's CRD templates)
  # differ from what the Rust types generate.
  cargo run -q -p nucleus-operator --bin crdgen -- --check --root "$REPO_ROOT" &&
    echo "crds/ matches crdgen output ($(find crds -name '*.yaml' | wc -l) files)"
}

do_helm() {
  wait_bg kube-bins bash e2e/scripts/kube-bins.sh || return 1
  local helm="${NUCLEUS_E2E_HELM:-$(bash e2e/scripts/kube-bins.sh 2>/dev/null)/helm}" c rc=0
  [ -x "$helm" ] || { echo "helm not found at $helm"; return 1; }
  for c in charts/*/; do
    [ -f "$c/Chart.yaml" ] || continue
    echo "helm lint --strict $c"
    "$helm" lint --strict "$c" || rc=1
    echo "helm template $c"
    "$helm" template nucleus-ci "$c" >"$LOG_DIR/helm-template-$(basename "$c").yaml" || rc=1
    echo "  rendered $(grep -c '^kind:' "$LOG_DIR/helm-template-$(basename "$c").yaml") objects"
  done
  return $rc
}

do_wasm() {
  wait_bg wasm-toolchain wasm_toolchain && bash verifier-wasm/test.sh
}

CLUSTER_STARTED=0
cleanup() {
  # A background build nobody waited for (a stage not selected) finishes, so the cache is whole.
  local n
  for n in "${!BG_PID[@]}"; do
    if [ -n "${BG_PID[$n]}" ] && [ -z "${BG_RC[$n]:-}" ]; then wait "${BG_PID[$n]}" || true; fi
  done
  if [ "$CLUSTER_STARTED" = 1 ]; then
    header "cluster-down"
    bash e2e/scripts/cluster.sh down || true
  fi
}
trap cleanup EXIT

do_cluster_up() {
  wait_bg kube-bins bash e2e/scripts/kube-bins.sh || return 1
  # A cluster that was already running (a developer's) is reused and left running.
  if bash e2e/scripts/cluster.sh status >/dev/null 2>&1; then
    echo "reusing the running control plane in $NUCLEUS_E2E_DIR (left running afterwards)"
  else
    CLUSTER_STARTED=1
  fi
  eval_exports bash e2e/scripts/cluster.sh up && bash e2e/scripts/smoke.sh
}

do_cargo_test() {
  echo "NUCLEUS_TEST_POSTGRES_URL=${NUCLEUS_TEST_POSTGRES_URL:-<unset>}"
  echo "NUCLEUS_E2E_KUBECONFIG=${NUCLEUS_E2E_KUBECONFIG:-<unset>}"
  local rc=0
  # The workspace test build already made every binary the e2e suites start (each package
  # with integration tests gets its bins built); without this, the harness would run
  # `cargo build -p <package>` per binary, each resolving features on its own and so
  # recompiling much of the dependency tree once per package on a cold cache.
  NUCLEUS_E2E_PREBUILT=1 timeout --signal=TERM --kill-after=60 "${NUCLEUS_TEST_TIMEOUT:-45m}" \
    cargo test --workspace --no-fail-fast 2>&1 | tee "$LOG_DIR/cargo-test.log"
  rc=${PIPESTATUS[0]}
  [ $rc -eq 124 ] && echo "cargo test timed out after ${NUCLEUS_TEST_TIMEOUT:-45m}"
  return $rc
}

echo "nucleus test run: repo $REPO_ROOT, CARGO_TARGET_DIR=$CARGO_TARGET_DIR, CI=${CI:-false}, $(date -u +%FT%TZ)"

stage setup do_setup
stage fmt cargo fmt --all --check
stage clippy cargo clippy --workspace --all-targets -- -D warnings
stage build do_build
if [ -f operator/Cargo.toml ] && grep -q 'name = "crdgen"' operator/Cargo.toml; then
  stage crd-drift do_crd_drift
else
  skip crd-drift "the operator has no crdgen binary"
fi
if compgen -G "charts/*/Chart.yaml" >/dev/null; then
  stage helm do_helm
else
  skip helm "no charts/*/Chart.yaml"
fi
stage cluster-up do_cluster_up
stage cargo-test do_cargo_test
if [ -x verifier-wasm/test.sh ] || [ -f verifier-wasm/test.sh ]; then
  stage wasm do_wasm
else
  skip wasm "no verifier-wasm/test.sh"
fi

header "summary ($((SECONDS - RUN_START))s)"
printf '%s\n' "${RESULTS[@]}"
if [ -f "$LOG_DIR/cargo-test.log" ]; then
  awk '/^test result:/ {
         for (i = 1; i <= NF; i++) {
           if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) g += $i
         }
         n++
       }
       END { if (n) printf "cargo test totals over %d test binaries: %d passed, %d failed, %d ignored\n", n, p, f, g }' \
    "$LOG_DIR/cargo-test.log"
fi
echo "stages: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
