#!/bin/bash
# Admin layer end to end (root, real BPF): list, snapshot and batched write
# of live stores through bpf/uptrkv_admin.bpf.c, checked against the
# memory of the threads that registered them; a non-store map is refused;
# 1000 threads x 1024 keys written ("migrated") and snapshotted, timed.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bin=$BUILD/tests/e2e/admin_basic
need_built "$bin"
# Fewer threads under ASan keeps the run short; the timing that matters is
# measured on the optimised build (docs/benchmarks.md).
"$bin" "${ADMIN_THREADS:-1000}"
