#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test prescale, and skips whatever is already
# there: Debian's Prometheus (for the integration tests), etcd and kube-apiserver built from Go
# modules (cached in ~/.cache/prescale), and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else log "need root to run: $*"; return 1
  fi
}

# Debian packages: prometheus and promtool for the tests; setpriv (util-linux) ties test daemons'
# lifetime to the test process; chromium for the tests of the HTML reports and the web view.
missing=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v setpriv >/dev/null || missing+=(util-linux)
# Headless Chromium checks that the HTML reports render (playwright-core drives it; no browser download).
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package starts a system Prometheus where an init system runs; the tests use their own.
fi

command -v node >/dev/null || { log "Node.js 20 or newer is required"; exit 1; }

# Kubernetes control-plane binaries for the integration tests.
if [ -z "${PRESCALE_SKIP_K8S_BINS:-}" ]; then
  bash hack/build-k8s-bins.sh etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok >/dev/null
  bash hack/build-keda.sh >/dev/null # KEDA's operator and metrics adapter, for test/e2e/keda-harness.test.ts
  # Helm, for the chart in charts/prescale (test/integration/chart.test.ts).
  bash hack/build-helm.sh >/dev/null
fi

# npm dependencies, reinstalled only when package-lock.json changed.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.prescale-lock-hash ] || [ "$(cat node_modules/.prescale-lock-hash)" != "$lock_hash" ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.prescale-lock-hash
fi
