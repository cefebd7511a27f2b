// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The 8-byte store benchmarks as SEC("syscall") programs: sleepable, so
 * uptrkv_sleepable keeps its default and gets re-check the entry.
 */
#define BENCH_SEC "syscall"
#include "bench_store.h"

BENCH(bench_empty, cb_empty)
BENCH(bench_direct, cb_direct)
BENCH(bench_kv8, cb_kv8)
