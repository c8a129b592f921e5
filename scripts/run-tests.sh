#!/usr/bin/env bash
# Runs every test of `make test`, against both builds (build/ and the ASan+UBSan build/asan/):
# C unit tests, conformance suites, JavaScript unit tests, end-to-end tests against the real
# binary, and bounded fuzzing. Prints a summary; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
FUZZ_SECONDS="${HEARTH_FUZZ_SECONDS:-30}"

failures=()
summary=()

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

run_step() {
  local name="$1"
  shift
  step "$name"
  local start=$SECONDS
  if "$@"; then
    summary+=("ok    $name ($((SECONDS - start))s)")
  else
    summary+=("FAIL  $name ($((SECONDS - start))s)")
    failures+=("$name")
  fi
}

unit_tests() {
  local dir="$1" ok=0
  for t in "$dir"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "-- $t"
    "$t" || ok=1
  done
  return $ok
}

conformance() {
  local dir="$1" ok=0
  for t in "$dir"/tests/conformance_*; do
    [ -x "$t" ] || continue
    echo "-- $t"
    "$t" || ok=1
  done
  return $ok
}

# The end-to-end tests' npm dependencies (tests/e2e/package.json: the `ws` WebSocket client, ...),
# and bench/'s (workerd, which tests/e2e/workers_differential.test.mjs runs the corpus on).
e2e_deps() {
  (cd tests/e2e && { npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent; }) &&
    (cd bench && { npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent; })
}

# The JavaScript tests compare hearth with npm packages (tests/js/package.json: esbuild,
# Mozilla's source-map), installed the way bench/run.sh installs its peers.
js_packages() {
  (cd tests/js && { npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent; })
}

e2e() {
  local bin="$1"
  HEARTH_BIN="$bin" node --test --test-concurrency=2 tests/e2e/
}

# Tests of code shared by every loop thread, built with ThreadSanitizer.
tsan_tests() {
  make --no-print-directory build/tsan/test_ratelimit || return 1
  TSAN_OPTIONS="halt_on_error=1" build/tsan/test_ratelimit
}

fuzz() {
  if [ "$FUZZ_SECONDS" = "0" ]; then
    echo "fuzzing skipped (HEARTH_FUZZ_SECONDS=0)"
    return 0
  fi
  make --no-print-directory fuzzers || return 1
  local ok=0
  for f in build/fuzz/fuzz_*; do
    local name
    name=$(basename "$f")
    local corpus="build/fuzz/corpus-$name"
    mkdir -p "$corpus"
    echo "-- $name for ${FUZZ_SECONDS}s"
    "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 "$corpus" tests/fuzz/seeds/"${name#fuzz_}" 2>&1 \
      | grep -E "^#[0-9]+.*DONE|ERROR|SUMMARY|Done [0-9]+ runs" || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || ok=1
  done
  return $ok
}

run_step "formatting (clang-format)" make --no-print-directory check-format
run_step "C unit tests" unit_tests build
run_step "conformance suites" conformance build
run_step "JavaScript test packages (npm, tests/js)" js_packages
run_step "JavaScript unit tests (node)" node --test tests/js/
run_step "end-to-end test dependencies (npm)" e2e_deps
run_step "end-to-end tests" e2e build/hearth
run_step "C unit tests (ASan+UBSan)" unit_tests build/asan
run_step "conformance suites (ASan+UBSan)" conformance build/asan
run_step "end-to-end tests (ASan+UBSan)" e2e build/asan/hearth
run_step "rate limiter threads (TSan)" tsan_tests
run_step "fuzzing (libFuzzer, ${FUZZ_SECONDS}s per target)" fuzz

printf '\n\033[1m== summary\033[0m\n'
printf '%s\n' "${summary[@]}"
if [ ${#failures[@]} -ne 0 ]; then
  printf '\n%d step(s) failed: %s\n' "${#failures[@]}" "${failures[*]}"
  exit 1
fi
echo "all tests passed"
