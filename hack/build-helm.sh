#!/usr/bin/env bash
# Builds the Helm CLI (for the chart in charts/prescale and its tests) from Go modules, with the
# machine's own Go toolchain, and caches it outside the repository.
#
#   hack/build-helm.sh
#
# PRESCALE_HELM_VERSION picks the release (default v4.3.2, and v4.3.1 when that cannot be resolved).
# Prints the directory holding the `helm` binary on its last line. Nothing is built when the binary
# is already in the cache.
set -euo pipefail

if [ -n "${PRESCALE_HELM_VERSION:-}" ]; then
  versions=("$PRESCALE_HELM_VERSION")
else
  versions=(v4.3.2 v4.3.1)
fi
CACHE_ROOT="${PRESCALE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prescale}"

log() { echo "build-helm: $*" >&2; }

for v in "${versions[@]}"; do
  if [ -x "$CACHE_ROOT/bin/helm-$v/helm" ]; then
    echo "$CACHE_ROOT/bin/helm-$v"
    exit 0
  fi
done

command -v go >/dev/null || { log "Go is required (https://go.dev/dl) to build helm ${versions[0]}"; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

# A module requiring helm.sh/helm/v4 at `version`, with the replace directives of helm's own go.mod
# (none in v4.3.x, but a release may add some), resolved with `go mod tidy`.
prepare_module() {
  local version="$1" dir="$2" modfile
  [ -f "$dir/go.sum" ] && [ -f "$dir/.ready" ] && return 0
  modfile=$(go mod download -json "helm.sh/helm/v4@$version" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
  [ -n "$modfile" ] || return 1
  mkdir -p "$dir" || return 1
  {
    echo "module prescale.local/helm-bin"
    echo
    echo "go $(sed -n 's/^go \(.*\)$/\1/p' "$modfile")"
    echo
    echo "require helm.sh/helm/v4 $version"
    echo
    # Single-line and block replace directives; local-path targets (=> ./...) cannot be followed
    # from a downloaded module and are left out.
    sed -n -e 's#^replace \(.* => [^.].*\)$#replace \1#p' "$modfile"
    sed -n '/^replace ($/,/^)$/p' "$modfile" | sed -n 's#^\s\+\(.* => [^.].*\)$#replace \1#p'
  } > "$dir/go.mod"
  cat > "$dir/tools.go" <<'GO'
//go:build tools

package tools

import _ "helm.sh/helm/v4/cmd/helm"
GO
  log "resolving helm.sh/helm/v4 $version modules"
  # (set -e does not apply inside a function called from `if`: every failure returns explicitly.)
  if ! (cd "$dir" && go mod tidy) >"$dir/tidy.log" 2>&1; then
    cat "$dir/tidy.log" >&2
    return 1
  fi
  touch "$dir/.ready"
}

for v in "${versions[@]}"; do
  bin_dir="$CACHE_ROOT/bin/helm-$v"
  work_dir="$CACHE_ROOT/build/helm-$v"
  if ! prepare_module "$v" "$work_dir"; then
    log "cannot resolve helm.sh/helm/v4@$v"
    continue
  fi
  # The version helm reports (`helm version`; the source only says v4.<minor>), as its Makefile sets it.
  ld="-s -w -X helm.sh/helm/v4/internal/version.version=$v -X helm.sh/helm/v4/internal/version.metadata="
  log "building helm $v (a few minutes on a cold cache)"
  mkdir -p "$bin_dir"
  (cd "$work_dir" && go build -trimpath -ldflags "$ld" -o "$bin_dir/helm.tmp" helm.sh/helm/v4/cmd/helm)
  mv "$bin_dir/helm.tmp" "$bin_dir/helm"
  echo "$bin_dir"
  exit 0
done
log "no helm release could be built (tried ${versions[*]})"
exit 1
