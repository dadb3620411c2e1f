#!/usr/bin/env bash
# The test command (`npm test`): unit tests, then end-to-end tests against real containers.
# Starts the Docker engine (and installs Chromium for the report test) if needed; the e2e suite builds any
# missing image first (cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"
npx tsc -p tsconfig.build.json
npx vitest run --project unit
bash scripts/docker-engine.sh
# report.html is opened in a real headless Chromium (Debian's package, installed once).
OTEL_HARNESS_CHROMIUM="$(bash scripts/chromium.sh)"
export OTEL_HARNESS_CHROMIUM
npx vitest run --project e2e --project e2e-alone "$@"
