#!/bin/bash
# Runs the unit tests (cmocka) and the end-to-end tests (root, real BPF).
#   tests/run.sh [unit|e2e|fleet]   (all: unit and e2e; fleet only when asked)
# BUILD names the build folder (make test uses build/san, built with ASan/UBSan).
# T=NAME runs only the tests whose name contains NAME (make test T=rw_soak).
# Output is TAP (version 13), then one line "N passed, N failed, N skipped".
# A failed test's whole log is kept in $BUILD/test-logs/ and its path
# printed; so is every log with KEEP_LOGS=1.
# UPTRKV_TIMEOUT_FACTOR (default 1) scales the per-test limit (TEST_TIMEOUT
# seconds, default 600) and the waits inside the tests (tests/e2e/env.sh),
# for a loaded or slow machine.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/san}
what=${1:-all}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export UPTRKV_TIMEOUT_FACTOR=${UPTRKV_TIMEOUT_FACTOR:-1}
export UPTRKV=$PWD/$BUILD/uptrkv BUILD
# A hung test must fail, not eat CI's time.
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
limit=$(awk -v s="$TEST_TIMEOUT" -v f="$UPTRKV_TIMEOUT_FACTOR" 'BEGIN { printf "%d\n", s * f + 0.999 }')
LOG_DIR=$BUILD/test-logs
mkdir -p "$LOG_DIR"

n=0 passed=0 failed=0 skipped=0 failures=()
echo "TAP version 13"

# tap_diag FILE: the lines of FILE as TAP diagnostics.
tap_diag() { sed 's/^/#   /' "$1"; }

run_one() {	# name cmd...
	local name=$1; shift
	case "$name" in *"${T:-}"*) ;; *) return 0 ;; esac
	local log=$LOG_DIR/${name//\//_}.log t0=$SECONDS rc=0
	n=$((n + 1))
	timeout -k 10 "$limit" "$@" >"$log" 2>&1 || rc=$?
	local took="$((SECONDS - t0))s"
	if [ $rc = 0 ]; then
		passed=$((passed + 1)); echo "ok $n - $name # $took"
		[ "${KEEP_LOGS:-0}" = 1 ] || rm -f "$log"
		return 0
	fi
	if [ $rc = 77 ]; then
		skipped=$((skipped + 1)); echo "ok $n - $name # SKIP $(tail -1 "$log")"
		[ "${KEEP_LOGS:-0}" = 1 ] || rm -f "$log"
		return 0
	fi
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "(timed out after ${limit}s)" >> "$log"
	fi
	failed=$((failed + 1)); failures+=("$name: $log")
	echo "not ok $n - $name # exit $rc, $took"
	echo "#   last lines of $log:"
	tail -40 "$log" | tap_diag /dev/stdin
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$BUILD"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" "$t"
	done
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "Bail out! e2e tests need root (they load BPF programs)"; exit 1
	fi
	for t in tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		run_one "e2e/$(basename "$t" .sh)" bash "$t"
	done
fi
# Fleet tests: ansible-playbook and the CI example on private bpffs (root).
# Over a minute together, so `make test-fleet` runs them, not `make test`.
if [ "$what" = fleet ]; then
	for t in tests/fleet/test_*.sh; do
		[ -f "$t" ] || continue
		run_one "fleet/$(basename "$t" .sh)" bash "$t"
	done
fi

echo "1..$n"
echo "$passed passed, $failed failed, $skipped skipped"
for f in "${failures[@]}"; do echo "  failed: $f"; done
[ $failed = 0 ]
