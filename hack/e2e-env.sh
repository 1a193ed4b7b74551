#!/usr/bin/env bash
# Brings up the end-to-end environment by hand: a local cluster (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, KWOK fake nodes), Prometheus holding three days of a
# daily demand ramp plus its live continuation from a trace exporter, and the prescale CRD.
# Prints the kubeconfig, the Prometheus URL and how to run the operator against them; Ctrl-C tears
# everything down.
#
#   hack/e2e-env.sh                                 (next ramp 5 minutes after start-up)
#   PRESCALE_E2E_RAMP_IN_MINUTES=15 hack/e2e-env.sh
#
# The environment is the TypeScript of test/e2e/ and test/helpers/, compiled into .tmp/ (there, its
# modules find the repository root two directories up, as they do from test/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/build-k8s-bins.sh etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok >/dev/null
for tool in prometheus promtool; do
  command -v "$tool" >/dev/null || { echo "e2e-env: $tool is not on PATH (npm run setup installs it)" >&2; exit 1; }
done
npx tsc --rootDir test --outDir .tmp \
  --module nodenext --moduleResolution nodenext --target es2022 --lib es2022 --types node \
  --strict --esModuleInterop --skipLibCheck \
  test/e2e/environment-main.ts
exec node .tmp/e2e/environment-main.js
