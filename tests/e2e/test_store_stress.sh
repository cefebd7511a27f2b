#!/bin/bash
# Stress test of the store's torn-read freedom: a user thread rewrites
# checksummed values while a BPF syscall program reads them at a high rate
# from another thread. UPTRKV_STRESS_SECONDS sets the duration (default 3).
set -euo pipefail
source "$(dirname "$0")/env.sh"
bin=$BUILD/tests/e2e/store_stress
need_built "$bin"
"$bin" "$bpffs" "${UPTRKV_STRESS_SECONDS:-3}" &
WORKLOAD_PIDS+=("$!")
wait "$!"
