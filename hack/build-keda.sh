#!/usr/bin/env bash
# Builds KEDA's operator and metrics API server (the external-metrics adapter) from the Go module
# github.com/kedacore/keda/v2 with the machine's own Go toolchain, and caches them outside the
# repository together with KEDA's CRDs.
#
#   hack/build-keda.sh
#
# Output, in $PRESCALE_CACHE_DIR/bin/keda-<version>/ (default ~/.cache/prescale):
#   keda          the operator (cmd/operator)
#   keda-adapter  the metrics API server (cmd/adapter)
#   crds/         config/crd/bases/*.yaml of the same version
# Prints that directory on its last line. Nothing is built when it is complete already.
#
# The build is big (KEDA links the SDK of every scaler's cloud): several minutes and a few GB of
# module cache on a cold start. It runs at a lower CPU priority (PRESCALE_BUILD_NICE, default 10).
set -euo pipefail

KEDA_VERSION="${PRESCALE_KEDA_VERSION:-v2.21.0}"
CACHE_ROOT="${PRESCALE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prescale}"
BIN_DIR="$CACHE_ROOT/bin/keda-$KEDA_VERSION"
WORK_DIR="$CACHE_ROOT/build/keda-$KEDA_VERSION"
NICE="${PRESCALE_BUILD_NICE:-10}"
KEDA_MODULE=github.com/kedacore/keda/v2

complete() {
  [ -x "$BIN_DIR/keda" ] && [ -x "$BIN_DIR/keda-adapter" ] && [ -f "$BIN_DIR/crds/keda.sh_scaledobjects.yaml" ]
}

if complete; then
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null || { echo "build-keda: Go is required (https://go.dev/dl) to build KEDA $KEDA_VERSION" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$BIN_DIR" "$WORK_DIR"

log() { echo "build-keda: $*" >&2; }
started=$SECONDS

# `go mod download -json` prints one JSON object; pull one string field out of it.
download_field() {
  sed -n 's/^\s*"'"$2"'": "\(.*\)",\?$/\1/p' <<<"$1"
}

info=$(go mod download -json "$KEDA_MODULE@$KEDA_VERSION")
keda_dir=$(download_field "$info" Dir)
keda_mod=$(download_field "$info" GoMod)
[ -d "$keda_dir" ] && [ -f "$keda_mod" ] || { log "could not download $KEDA_MODULE@$KEDA_VERSION"; exit 1; }

# A wrapper module requiring KEDA. Go ignores a dependency's replace and exclude directives, so
# KEDA's own are copied here (those to other module versions; none may point at local paths), or
# the build would resolve different versions than KEDA's release does.
prepare_module() {
  local dir="$WORK_DIR/module"
  [ -f "$dir/go.sum" ] && [ -f "$dir/.ready" ] && return 0
  mkdir -p "$dir"
  {
    echo "module prescale.local/keda-bins"
    echo
    echo "go $(sed -n 's/^go \(.*\)$/\1/p' "$keda_mod")"
    echo
    echo "require $KEDA_MODULE $KEDA_VERSION"
    echo
    # Single-line directives and the lines of `replace (` / `exclude (` blocks alike.
    awk '
      /^(replace|exclude)[ \t]*\($/ { block = $1; next }
      block != "" && /^\)/ { block = ""; next }
      block != "" && NF > 0 && $1 !~ /^\/\// { sub(/\/\/.*/, ""); print block " " $0; next }
      /^(replace|exclude)[ \t]/ && $2 != "(" { sub(/\/\/.*/, ""); print }
    ' "$keda_mod" | sed 's/[ \t]*$//' | while read -r line; do
      case "$line" in
        *"=> ./"*|*"=> ../"*|*"=> /"*) log "skipping local replace: $line" ;;
        *) echo "$line" ;;
      esac
    done
  } > "$dir/go.mod"
  cat > "$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "github.com/kedacore/keda/v2/cmd/adapter"
	_ "github.com/kedacore/keda/v2/cmd/operator"
)
GO
  log "resolving KEDA $KEDA_VERSION modules"
  (cd "$dir" && nice -n "$NICE" go mod tidy -e >/dev/null 2>&1 || true)
  touch "$dir/.ready"
}

build() {
  local name="$1" pkg="$2" dir="$WORK_DIR/module"
  local ld="-s -w -X $KEDA_MODULE/version.Version=$KEDA_VERSION -X $KEDA_MODULE/version.GitCommit=$KEDA_VERSION"
  log "building $name (KEDA $KEDA_VERSION; several minutes on a cold cache)"
  (cd "$dir" && nice -n "$NICE" go build -trimpath -ldflags "$ld" -o "$BIN_DIR/$name.tmp" "$pkg")
  mv "$BIN_DIR/$name.tmp" "$BIN_DIR/$name"
}

prepare_module
[ -x "$BIN_DIR/keda" ] || build keda "$KEDA_MODULE/cmd/operator"
[ -x "$BIN_DIR/keda-adapter" ] || build keda-adapter "$KEDA_MODULE/cmd/adapter"

mkdir -p "$BIN_DIR/crds"
cp "$keda_dir"/config/crd/bases/*.yaml "$BIN_DIR/crds/"
chmod u+w "$BIN_DIR"/crds/*.yaml # the module cache is read-only

complete || { log "build incomplete in $BIN_DIR"; exit 1; }
log "KEDA $KEDA_VERSION ready in $((SECONDS - started)) s"
echo "$BIN_DIR"
