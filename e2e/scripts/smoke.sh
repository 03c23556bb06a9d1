#!/usr/bin/env bash
# Smoke test of the running e2e control plane (e2e/scripts/cluster.sh up):
#   - the API answers (kubectl get ns) and reports the built version;
#   - a Deployment becomes Available (scheduler + kwok + controller-manager);
#   - `kubectl create serviceaccount` + `kubectl create token` give a token the apiserver
#     accepts, and RBAC denies that ServiceAccount what it was not granted;
#   - deleting the namespace removes it (namespace controller + GC).
# Everything happens in a throwaway namespace. Exits non-zero on the first failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
eval "$(bash "$REPO_ROOT/e2e/scripts/cluster.sh" env)"

NS="smoke-$(date +%s)-$$"
k() { kubectl --request-timeout=20s "$@"; }
log() { printf '[smoke %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
trap 'k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT

t0=$SECONDS
k get ns >/dev/null || fail "kubectl get ns"
ver=$(k version -o json | python3 -c 'import json,sys;print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')
log "server version $ver"
case "$ver" in v1.*.*) ;; *) fail "server reports version '$ver'" ;; esac

k create namespace "$NS" >/dev/null
k -n "$NS" create deployment smoke --image=registry.invalid/smoke:1 --replicas=2 >/dev/null
k -n "$NS" wait deployment/smoke --for=condition=Available --timeout=90s >/dev/null ||
  fail "Deployment did not become Available: $(k -n "$NS" get deploy,rs,pods -o wide 2>&1)"
ready=$(k -n "$NS" get deployment smoke -o jsonpath='{.status.readyReplicas}')
[ "$ready" = 2 ] || fail "expected 2 ready replicas, got '$ready'"
log "Deployment Available with $ready ready replicas (kwok)"

k -n "$NS" create serviceaccount smoke-sa >/dev/null
token=$(k -n "$NS" create token smoke-sa --duration=10m)
[ -n "$token" ] || fail "empty token from kubectl create token"
sa_k() {
  kubectl --request-timeout=20s --kubeconfig=/dev/null --server="$NUCLEUS_E2E_SERVER" \
    --certificate-authority="$NUCLEUS_E2E_CA" --token="$token" "$@"
}
who=$(sa_k auth whoami -o jsonpath='{.status.userInfo.username}')
[ "$who" = "system:serviceaccount:$NS:smoke-sa" ] || fail "token authenticates as '$who'"
if sa_k -n "$NS" get secrets >/dev/null 2>&1; then
  fail "RBAC allowed an ungranted ServiceAccount to list secrets"
fi
k -n "$NS" create role smoke-read --verb=get,list --resource=deployments >/dev/null
k -n "$NS" create rolebinding smoke-read --role=smoke-read --serviceaccount="$NS:smoke-sa" >/dev/null
sa_k -n "$NS" get deployments >/dev/null || fail "RBAC denied a granted verb"
log "ServiceAccount token works as $who; RBAC grants and denies as bound"

k delete namespace "$NS" --timeout=90s >/dev/null || fail "namespace deletion did not finish"
trap - EXIT
log "ok in $((SECONDS - t0))s"
