#!/usr/bin/env bash
# npm start: install and build if needed, then run the operator against the current kubeconfig
# context (pass operator flags after --, e.g. npm start -- --prometheus-url http://localhost:9090).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESCALE_SKIP_K8S_BINS=1 bash hack/setup.sh
npm run --silent build
exec node dist/cli/main.js run "$@"
