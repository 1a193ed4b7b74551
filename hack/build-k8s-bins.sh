#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries the tests need from Go modules, with the machine's
# own Go toolchain, and caches them outside the repository.
#
#   hack/build-k8s-bins.sh [binary ...]      (default: etcd kube-apiserver)
#   binaries: etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok
#
# Prints the directory holding the binaries on its last line. If KUBEBUILDER_ASSETS already holds
# every requested binary, nothing is built and that directory is printed.
set -euo pipefail

K8S_VERSION="${PRESCALE_K8S_VERSION:-v1.35.4}"
KWOK_VERSION="${PRESCALE_KWOK_VERSION:-v0.7.0}"
CACHE_ROOT="${PRESCALE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prescale}"
BIN_DIR="$CACHE_ROOT/bin/k8s-$K8S_VERSION"
WORK_DIR="$CACHE_ROOT/build/k8s-$K8S_VERSION"

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(etcd kube-apiserver)

have_all() {
  local dir="$1" b
  for b in "${wanted[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && have_all "$KUBEBUILDER_ASSETS"; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi
if have_all "$BIN_DIR"; then
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null || { echo "build-k8s-bins: Go is required (https://go.dev/dl) to build $K8S_VERSION binaries" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$BIN_DIR" "$WORK_DIR"

log() { echo "build-k8s-bins: $*" >&2; }

k8s_modfile() {
  go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p'
}

# Module requiring k8s.io/kubernetes, with every staging module it replaces mapped to v0.<minor>.<patch>.
prepare_k8s_module() {
  local dir="$WORK_DIR/kubernetes" modfile staging_version
  [ -f "$dir/go.sum" ] && [ -f "$dir/.ready" ] && return 0
  mkdir -p "$dir"
  modfile=$(k8s_modfile)
  staging_version="v0.${K8S_VERSION#v1.}"
  {
    echo "module prescale.local/k8s-bins"
    echo
    echo "go $(sed -n 's/^go \(.*\)$/\1/p' "$modfile")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 '"$staging_version"'#p' "$modfile"
  } > "$dir/go.mod"
  cat > "$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "resolving k8s.io/kubernetes $K8S_VERSION modules"
  (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true; cd "$dir" && go mod download all >/dev/null 2>&1 || true)
  touch "$dir/.ready"
}

build_k8s() {
  local name="$1" dir="$WORK_DIR/kubernetes" minor
  prepare_k8s_module
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local ld="-s -w"
  ld+=" -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
  ld+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ld+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  ld+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  log "building $name $K8S_VERSION (this takes several minutes on a cold cache)"
  (cd "$dir" && go build -trimpath -ldflags "$ld" -o "$BIN_DIR/$name.tmp" "k8s.io/kubernetes/cmd/$name")
  mv "$BIN_DIR/$name.tmp" "$BIN_DIR/$name"
}

build_etcd() {
  local dir="$WORK_DIR/etcd" modfile etcd_version
  modfile=$(k8s_modfile)
  etcd_version=$(sed -n 's#^\s*go.etcd.io/etcd/client/v3 \(v[0-9.]*\).*#\1#p' "$modfile" | head -1)
  mkdir -p "$dir"
  if [ ! -f "$dir/.ready" ]; then
    local etcd_mod
    etcd_mod=$(go mod download -json "go.etcd.io/etcd/server/v3@$etcd_version" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
    {
      echo "module prescale.local/etcd-bin"
      echo
      echo "go $(sed -n 's/^go \(.*\)$/\1/p' "$etcd_mod")"
      echo
      echo "require go.etcd.io/etcd/server/v3 $etcd_version"
      # etcd's own replaces point at sibling directories; map them to the released modules.
      sed -n 's#^\s*\(go.etcd.io/etcd/[a-z0-9/]*\) => \.\./.*#replace \1 => \1 '"$etcd_version"'#p' "$etcd_mod"
    } > "$dir/go.mod"
    cat > "$dir/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
    log "resolving etcd $etcd_version modules"
    (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true)
    touch "$dir/.ready"
  fi
  log "building etcd $etcd_version"
  (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
}

build_kwok() {
  log "building kwok $KWOK_VERSION"
  GOBIN="$BIN_DIR" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

for b in "${wanted[@]}"; do
  [ -x "$BIN_DIR/$b" ] && continue
  case "$b" in
    etcd) build_etcd ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl) build_k8s "$b" ;;
    kwok) build_kwok ;;
    *) echo "build-k8s-bins: unknown binary '$b'" >&2; exit 2 ;;
  esac
done
echo "$BIN_DIR"
