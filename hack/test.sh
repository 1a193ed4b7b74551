#!/usr/bin/env bash
# The test command (npm test): set up what is missing, type-check, run every test, and end with
# one plain summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/setup.sh
npx tsc -p tsconfig.json --noEmit
mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' || true
exit $status
