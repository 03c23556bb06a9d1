#!/usr/bin/env bash
# A real local Kubernetes control plane for the e2e suites, on loopback only:
#   etcd, kube-apiserver (token auth, RBAC), kube-controller-manager, kube-scheduler and
#   kwok with one fake node, so Deployments become Available without a kubelet.
#
# Usage: e2e/scripts/cluster.sh up      start (or reuse a healthy running one), print the env
#        e2e/scripts/cluster.sh down    stop everything `up` started (pid files)
#        e2e/scripts/cluster.sh env     print the env file (export lines) of a running cluster
#        e2e/scripts/cluster.sh status  exit 0 when the apiserver answers /readyz
#
# State, certs, logs and pid files live under $NUCLEUS_E2E_DIR (default /tmp/nucleus-e2e).
# `up` writes $NUCLEUS_E2E_DIR/kubeconfig and $NUCLEUS_E2E_DIR/env, which exports
# NUCLEUS_E2E_KUBECONFIG, KUBECONFIG, NUCLEUS_E2E_DIR, NUCLEUS_E2E_BIN_DIR, NUCLEUS_E2E_HELM,
# NUCLEUS_E2E_SERVER, NUCLEUS_E2E_TOKEN, NUCLEUS_E2E_CA and puts the binaries dir on PATH.
# Binaries come from e2e/scripts/kube-bins.sh (built once, cached by version).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
D="${NUCLEUS_E2E_DIR:-/tmp/nucleus-e2e}"
KC="$D/kubeconfig"
ENV_FILE="$D/env"
NODE_NAME="kwok-node-0"
# Every process this script starts, in start order (stopped in reverse).
COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler kwok"

log() { printf '[cluster %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pid_alive NAME: the pid file exists and names a live process running that binary.
pid_alive() {
  local f="$D/pids/$1.pid" pid exe
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  [ "$(basename "${exe% (deleted)}")" = "$1" ]
}

stop_one() {
  local name=$1 f="$D/pids/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if pid_alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) did not stop on TERM; killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

cmd_down() {
  local c rev=""
  for c in $COMPONENTS; do rev="$c $rev"; done
  for c in $rev; do stop_one "$c"; done
  rm -rf "$D/etcd-data"
}

apiserver_ready() {
  [ -f "$ENV_FILE" ] || return 1
  # shellcheck disable=SC1090
  (. "$ENV_FILE" && curl -sf --max-time 3 --cacert "$NUCLEUS_E2E_CA" \
    -H "Authorization: Bearer $NUCLEUS_E2E_TOKEN" "$NUCLEUS_E2E_SERVER/readyz" >/dev/null)
}

cmd_status() {
  local c ok=0
  for c in $COMPONENTS; do
    if pid_alive "$c"; then log "$c: running (pid $(cat "$D/pids/$c.pid"))"; else log "$c: not running"; ok=1; fi
  done
  if apiserver_ready; then log "apiserver /readyz: ok"; else log "apiserver /readyz: not ready"; ok=1; fi
  return $ok
}

# start NAME ARGS...: runs $BIN/NAME detached (own session), logs to $D/logs/NAME.log.
start() {
  local name=$1; shift
  # fd 8 is this script's lock: the daemons must not inherit (and so hold) it.
  nohup setsid "$BIN/$name" "$@" >"$D/logs/$name.log" 2>&1 </dev/null 8>&- &
  echo $! >"$D/pids/$name.pid"
  log "started $name (pid $!)"
}

# wait_for WHAT SECONDS NAME CMD...: polls CMD until it succeeds, failing early when the
# process NAME died (its log tail is shown).
wait_for() {
  local what=$1 secs=$2 name=$3; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$name" ] && ! pid_alive "$name"; then
      tail -n 30 "$D/logs/$name.log" >&2 || true
      die "$name exited while waiting for $what (log: $D/logs/$name.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      [ -n "$name" ] && { tail -n 30 "$D/logs/$name.log" >&2 || true; }
      die "timed out after ${secs}s waiting for $what"
    fi
    sleep 0.5
  done
}

free_ports() { # free_ports N: N distinct free loopback TCP ports
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

gen_certs() {
  local P="$D/pki"
  mkdir -p "$P"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=nucleus-e2e-ca" -keyout "$P/ca.key" -out "$P/ca.crt" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=kube-apiserver" -keyout "$P/apiserver.key" -out "$P/apiserver.csr" 2>/dev/null
  cat >"$P/apiserver.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
  openssl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
    -days 30 -extfile "$P/apiserver.ext" -out "$P/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$P/sa.key" 2048 2>/dev/null
  openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
  chmod 600 "$P"/*.key
}

write_kubeconfig() {
  cat >"$KC" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: nucleus-e2e
  cluster:
    server: https://127.0.0.1:$AP
    certificate-authority: $D/pki/ca.crt
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: nucleus-e2e
  context:
    cluster: nucleus-e2e
    user: admin
current-context: nucleus-e2e
EOF
  chmod 600 "$KC"
}

write_env() {
  cat >"$ENV_FILE.tmp" <<EOF
export NUCLEUS_E2E_DIR=$D
export NUCLEUS_E2E_KUBECONFIG=$KC
export KUBECONFIG=$KC
export NUCLEUS_E2E_BIN_DIR=$BIN
export NUCLEUS_E2E_HELM=$BIN/helm
export NUCLEUS_E2E_SERVER=https://127.0.0.1:$AP
export NUCLEUS_E2E_TOKEN=$TOKEN
export NUCLEUS_E2E_CA=$D/pki/ca.crt
export NUCLEUS_E2E_ETCD=http://127.0.0.1:$EP
export PATH=$BIN:\$PATH
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

kubectl_() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }

node_ready() {
  [ "$(kubectl_ get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

cmd_up() {
  mkdir -p "$D"
  exec 8>"$D/.lock"
  flock -w 300 8 || die "another cluster.sh holds $D/.lock"
  if apiserver_ready && cmd_status 2>/dev/null; then
    log "already running; reusing $D"
    cat "$ENV_FILE"
    return
  fi
  local t0=$SECONDS
  BIN=$(bash "$REPO_ROOT/e2e/scripts/kube-bins.sh")
  command -v kubectl >/dev/null || die "kubectl is required (the machine image ships one)"
  command -v openssl >/dev/null || die "openssl is required"

  cmd_down
  rm -rf "$D/pki" "$D/logs" "$D/pids" "$D/etcd-data" "$D/certs" "$ENV_FILE" "$KC"
  mkdir -p "$D/logs" "$D/pids" "$D/etcd-data"
  chmod 700 "$D"

  read -r EP PP AP CP SP KP <<<"$(free_ports 6)"
  TOKEN=$(openssl rand -hex 24)
  gen_certs
  printf '%s,admin,admin,"system:masters"\n' "$TOKEN" >"$D/pki/tokens.csv"
  chmod 600 "$D/pki/tokens.csv"

  start etcd --data-dir "$D/etcd-data" --name default \
    --listen-client-urls "http://127.0.0.1:$EP" --advertise-client-urls "http://127.0.0.1:$EP" \
    --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
    --initial-cluster "default=http://127.0.0.1:$PP" --unsafe-no-fsync --log-level warn
  wait_for "etcd /health" 30 etcd curl -sf "http://127.0.0.1:$EP/health"

  # ServiceAccount admission stays off (operator.md §4.6): Pods in a brand-new namespace
  # must not race the serviceaccount controller. TokenRequest (`kubectl create token`)
  # only needs the signing key and issuer below. TaintNodesByCondition is off too: it
  # taints new Nodes not-ready, and only node-lifecycle-controller (not run: kwok's fast
  # stages send no heartbeats) would lift that taint.
  start kube-apiserver \
    --etcd-servers "http://127.0.0.1:$EP" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$AP" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$D/pki/apiserver.crt" --tls-private-key-file "$D/pki/apiserver.key" \
    --client-ca-file "$D/pki/ca.crt" \
    --cert-dir "$D/certs" \
    --token-auth-file "$D/pki/tokens.csv" \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$D/pki/sa.pub" \
    --service-account-signing-key-file "$D/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/20 \
    --disable-admission-plugins ServiceAccount,TaintNodesByCondition \
    --allow-privileged=true --enable-priority-and-fairness=false --profiling=false
  write_kubeconfig
  write_env
  wait_for "kube-apiserver /readyz" 120 kube-apiserver apiserver_ready

  # The controllers the suites rely on: owner-reference GC, namespace deletion,
  # Deployment -> ReplicaSet -> Pods, `default` ServiceAccounts, legacy SA token Secrets,
  # the kube-root-ca.crt ConfigMap, PDB status and StatefulSets.
  start kube-controller-manager \
    --kubeconfig "$KC" --authentication-kubeconfig "$KC" --authorization-kubeconfig "$KC" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port "$CP" \
    --controllers "$KCM_CONTROLLERS" \
    --service-account-private-key-file "$D/pki/sa.key" --root-ca-file "$D/pki/ca.crt" \
    --use-service-account-credentials=false
  start kube-scheduler \
    --kubeconfig "$KC" --authentication-kubeconfig "$KC" --authorization-kubeconfig "$KC" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port "$SP"
  start kwok \
    --kubeconfig "$KC" --config "$BIN/kwok-stages.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 10.0.1.1 --cidr 10.244.0.0/20 \
    --server-address "127.0.0.1:$KP"

  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "1000"}
  capacity: {cpu: "32", memory: 256Gi, pods: "1000"}
EOF
  wait_for "node $NODE_NAME Ready (kwok)" 60 kwok node_ready
  wait_for "the default ServiceAccount (kube-controller-manager)" 60 kube-controller-manager \
    kubectl_ get serviceaccount default -n default
  log "control plane up in $((SECONDS - t0))s: https://127.0.0.1:$AP, kubeconfig $KC"
  cat "$ENV_FILE"
}

KCM_CONTROLLERS="${NUCLEUS_E2E_KCM_CONTROLLERS:-garbage-collector-controller,namespace-controller,deployment-controller,replicaset-controller,statefulset-controller,disruption-controller,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller}"

case "${1:-}" in
  up) cmd_up ;;
  down)
    mkdir -p "$D"
    exec 8>"$D/.lock"
    flock -w 300 8 || die "another cluster.sh holds $D/.lock"
    cmd_down
    ;;
  env)
    [ -f "$ENV_FILE" ] || die "no env file at $ENV_FILE: run '$0 up' first"
    cat "$ENV_FILE"
    ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 up|down|env|status" >&2
    exit 2
    ;;
esac
