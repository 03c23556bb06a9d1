#!/usr/bin/env bash
# Build (or reuse from cache) the e2e control-plane binaries:
#   /var/cache/nucleus/k8s-$KUBE_VERSION/{kube-apiserver,kube-controller-manager,kube-scheduler,etcd,helm,kwok}
# plus kwok's fast node/pod stages (kwok-stages.yaml) next to them.
#
# kube-apiserver, kube-controller-manager and kube-scheduler come from the wrapper module in e2e/kube-bins
# (k8s.io/kubernetes + every staging module replaced with its published v0 tag), etcd from
# Debian trixie's etcd-server .deb, helm and kwok from `go install`. Each piece is skipped
# when its binary is already in the cache. Build time and peak RSS of each piece are
# appended to build-stats.txt in the cache folder.
#
# Usage: e2e/scripts/kube-bins.sh            build what is missing, print the bin dir
#        e2e/scripts/kube-bins.sh --regen    re-derive e2e/kube-bins/go.mod for $KUBE_VERSION
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
HELM_MODULE="${HELM_MODULE:-helm.sh/helm/v3/cmd/helm@v3.22.0}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
CACHE_ROOT="${NUCLEUS_CACHE:-/var/cache/nucleus}"
BIN="$CACHE_ROOT/k8s-$KUBE_VERSION"
STATS="$BIN/build-stats.txt"
WRAPPER="$REPO_ROOT/e2e/kube-bins"
# kube-scheduler binds kwok's fake pods to the fake node, so Deployments become Available.
KUBE_CMDS="kube-apiserver kube-controller-manager kube-scheduler"

export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

log() { printf '[kube-bins %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

mkdir -p "$BIN"
exec 9>"$BIN/.lock"
# One builder at a time (test.sh and a developer may both call this).
flock 9

ensure_tools() {
  local missing=()
  command -v go >/dev/null || { log "go is required (Go 1.26 from the machine image)"; exit 1; }
  [ -x /usr/bin/time ] || missing+=(time)
  command -v dpkg-deb >/dev/null || missing+=(dpkg)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=900 update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${missing[@]}" >&2
  fi
}

# timed NAME CMD...: runs CMD under `nice -n 19` and `/usr/bin/time -v`, records wall time
# and peak RSS in $STATS.
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
  # CPU seconds (user + sys) say what the build costs on a quiet machine, whatever else ran.
  local cpu; cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%d", s}' "$tv")
  rm -f "$tv"
  printf '%s\t%s\twall=%ss\tcpu=%ss\tpeak_rss=%sMiB\n' "$(date -u +%FT%TZ)" "$name" "$secs" "$cpu" "$((rss / 1024))" >>"$STATS"
  log "$name: ${secs}s wall, ${cpu}s CPU, peak RSS $((rss / 1024)) MiB"
}

regen_wrapper() {
  local S="v0.${KUBE_VERSION#v1.}" M tmp
  tmp=$(mktemp -d)
  M=$(cd "$tmp" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  rm -rf "$tmp"
  (
    cd "$WRAPPER"
    # Drop old replaces/requires, then replace every staging module with its published tag.
    go mod edit -json | python3 -c 'import json,sys;print("\n".join(r["Old"]["Path"] for r in json.load(sys.stdin).get("Replace") or []))' |
      while read -r m; do [ -n "$m" ] && go mod edit -dropreplace="$m"; done
    go mod edit -json "$M" |
      python3 -c 'import json,sys;print("\n".join(r["Old"]["Path"] for r in json.load(sys.stdin).get("Replace") or [] if r["New"]["Path"].startswith("./staging/")))' |
      while read -r m; do go mod edit -replace="$m=$m@$S"; done
    go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
    go mod tidy
  )
  log "regenerated $WRAPPER/go.mod for $KUBE_VERSION (commit go.mod and go.sum)"
}

build_kube() {
  local cmd missing=0
  for cmd in $KUBE_CMDS; do [ -x "$BIN/$cmd" ] || missing=1; done
  if [ "$missing" = 0 ]; then
    log "$KUBE_CMDS: cached"
    return
  fi
  if ! grep -q "k8s.io/kubernetes $KUBE_VERSION" "$WRAPPER/go.mod"; then
    log "$WRAPPER/go.mod does not pin k8s.io/kubernetes $KUBE_VERSION; run with --regen"
    exit 1
  fi
  local minor; minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=2026-01-01T00:00:00Z"
  done
  local out; out=$(mktemp -d "$BIN/.build.XXXXXX")
  log "downloading modules for the wrapper"
  (cd "$WRAPPER" && go mod download)
  # Built one at a time so each gets its own time/RSS figure; the second reuses the
  # shared packages from the Go build cache.
  for cmd in $KUBE_CMDS; do
    if [ -x "$BIN/$cmd" ]; then continue; fi
    log "building $cmd $KUBE_VERSION (slow on a cold cache)"
    (cd "$WRAPPER" && timed "$cmd" go build -mod=readonly -trimpath -pgo=off -ldflags "$ld" \
      -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd")
    mv "$out/$cmd" "$BIN/$cmd"
  done
  rmdir "$out"
}

# etcd: Debian trixie's etcd-server runs on bookworm as is (operator.md §4.5). apt runs
# against a private sources list and state folder so the host's apt setup is untouched.
build_etcd() {
  if [ -x "$BIN/etcd" ]; then
    log "etcd: cached"
    return
  fi
  local A="$CACHE_ROOT/apt-trixie"
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/deb"
  echo "deb http://deb.debian.org/debian trixie main" >"$A/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache"
    -o Dir::State::status=/dev/null -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
  log "fetching etcd-server from Debian trixie"
  timed etcd-deb bash -c "$(printf '%q ' apt-get "${opts[@]}" -qq update) && cd $(printf '%q' "$A/deb") && $(printf '%q ' apt-get "${opts[@]}" -qq download etcd-server)"
  local deb; deb=$(ls -t "$A"/deb/etcd-server_*.deb | head -n1)
  local x; x=$(mktemp -d)
  dpkg-deb -x "$deb" "$x"
  install -m 0755 "$x/usr/bin/etcd" "$BIN/etcd"
  rm -rf "$x"
  log "etcd: $("$BIN/etcd" --version | head -n1)"
}

build_helm() {
  local mod=${HELM_MODULE%%/cmd/helm@*} ver=${HELM_MODULE##*@}
  # A helm built without the release ldflags reports "v3.22" and assumes Kubernetes 1.20
  # for `helm template`/`helm lint` (so kubeVersion checks fail): rebuild such a binary.
  if [ -x "$BIN/helm" ] && [ "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null)" = "$ver" ]; then
    log "helm: cached"
    return
  fi
  # The Kubernetes minor helm is compiled against (its client-go), as helm's Makefile sets it.
  local gomod kminor
  gomod=$(go mod download -json "$mod@$ver" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  kminor=$(sed -n -E 's/^[[:space:]]*k8s.io\/client-go v0\.([0-9]+)\..*/\1/p' "$gomod" | head -n1)
  [ -n "$kminor" ] || { log "cannot read helm's client-go version from $gomod"; exit 1; }
  local ld="-s -w -X $mod/internal/version.version=$ver -X $mod/internal/version.gitTreeState=clean" p
  for p in pkg/lint/rules pkg/chartutil; do
    ld="$ld -X $mod/$p.k8sVersionMajor=1 -X $mod/$p.k8sVersionMinor=$kminor"
  done
  log "building helm ($HELM_MODULE, Kubernetes 1.$kminor defaults)"
  local out; out=$(mktemp -d "$BIN/.build.XXXXXX")
  timed helm env GOBIN="$out" go install -trimpath -ldflags "$ld" "$HELM_MODULE"
  mv "$out/helm" "$BIN/helm"
  rmdir "$out"
}

build_kwok() {
  if [ -x "$BIN/kwok" ]; then
    log "kwok: cached"
  else
    log "building kwok $KWOK_VERSION"
    local out; out=$(mktemp -d "$BIN/.build.XXXXXX")
    timed kwok env GOBIN="$out" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
    mv "$out/kwok" "$BIN/kwok"
    rmdir "$out"
  fi
  if [ -s "$BIN/kwok-stages.yaml" ] && ! grep -q '^kind: Kustomization' "$BIN/kwok-stages.yaml"; then
    return
  fi
  # kwok refuses to start without Stage definitions: the "fast" node and pod stages make
  # nodes Ready and scheduled pods Running at once. Only the Stage documents are taken
  # (the folders also hold kustomization files).
  local src f stages="$BIN/kwok-stages.yaml.tmp"
  src="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/kustomize/stage"
  : >"$stages"
  for f in "$src"/node/fast/*.yaml "$src"/pod/fast/*.yaml; do
    grep -q '^kind: Stage$' "$f" || continue
    printf -- '---\n' >>"$stages"
    cat "$f" >>"$stages"
  done
  [ -s "$stages" ] || { log "no kwok stages found under $src"; exit 1; }
  mv "$stages" "$BIN/kwok-stages.yaml"
  log "kwok stages: $(grep -c '^kind: Stage' "$BIN/kwok-stages.yaml") written to $BIN/kwok-stages.yaml"
}

ensure_tools
if [ "${1:-}" = "--regen" ]; then
  regen_wrapper
fi
build_etcd
build_helm
build_kwok
build_kube
log "all binaries in $BIN (${SECONDS}s this run; figures in $STATS)"
echo "$BIN"
