#!/usr/bin/env bash
# `make bench`: installs the peers (workerd, pinned in package.json; wrk from Debian) and runs
# every benchmark side by side with them. Extra arguments go to run.mjs (e.g. --duration 20).
set -euo pipefail
cd "$(dirname "$0")"
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh" >&2; exit 1; }
npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent
# (h) runs memcached_bench, the raw memcached client the rate limit numbers are compared with.
make -C .. --no-print-directory build/tests/memcached_bench >/dev/null
node run.mjs "$@"
# Source maps: hearth's decoder against @jridgewell/trace-mapping (see sourcemap.mjs).
make -C .. --no-print-directory build/tests/sourcemap_query >/dev/null
node sourcemap.mjs
