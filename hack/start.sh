#!/usr/bin/env bash
# npm start: install and build what is missing, then run `prescale demo`, a live demo on a local
# cluster (Ctrl-C tears it down). Arguments go to the demo (`npm start -- --speed 5`), or to another
# command when they name one (`npm start -- run --prometheus-url http://localhost:9090`).
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo builds the Kubernetes binaries itself, with its progress shown.
PRESCALE_SKIP_K8S_BINS=1 bash hack/setup.sh
npm run --silent build
case "${1:-}" in
  run|demo|status|forecast|backtest|simulate|version|help|-h|--help|--version) exec node dist/cli/main.js "$@" ;;
  *) exec node dist/cli/main.js demo "$@" ;;
esac
