#!/bin/bash
# Runs the unit tests (cmocka) and the end-to-end tests (root, real BPF).
#   tests/run.sh [unit|e2e|fleet]   (all: unit and e2e; fleet only when asked)
# BUILD names the build folder (make test uses build/san, built with ASan/UBSan).
# T=NAME runs only the tests whose name contains NAME (make test T=rw_soak).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/san}
what=${1:-all}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export UPTRKV=$PWD/$BUILD/uptrkv BUILD
# A hung test must fail, not eat CI's time: seconds per test.
TEST_TIMEOUT=${TEST_TIMEOUT:-600}

passed=0 failed=0 skipped=0 failures=()
run_one() {	# name cmd...
	local name=$1; shift
	case "$name" in *"${T:-}"*) ;; *) return 0 ;; esac
	local log; log=$(mktemp)
	local t0=$SECONDS
	if timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1; then
		passed=$((passed + 1)); echo "PASS $name ($((SECONDS - t0))s)"
	else
		local rc=$?
		if [ $rc = 124 ] || [ $rc = 137 ]; then
			echo "(timed out after ${TEST_TIMEOUT}s)" >> "$log"
		fi
		if [ $rc = 77 ]; then
			skipped=$((skipped + 1)); echo "SKIP $name: $(tail -1 "$log")"
		else
			failed=$((failed + 1)); failures+=("$name")
			echo "FAIL $name (exit $rc), last lines:"; tail -40 "$log" | sed 's/^/    /'
		fi
	fi
	rm -f "$log"
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$BUILD"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" "$t"
	done
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "e2e tests need root (they load BPF programs)"; exit 1
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

echo
echo "$passed passed, $failed failed, $skipped skipped"
for f in "${failures[@]}"; do echo "  failed: $f"; done
[ $failed = 0 ]
