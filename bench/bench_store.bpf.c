// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The store benchmarks as raw_tp programs: non-sleepable, like every hook
 * uptrkv deploys. The harness sets uptrkv_sleepable = 0 in this object, as
 * uptrkv's own loader does, so 1/2/4/8-byte gets skip the entry re-check.
 */
#define BENCH_SEC "raw_tp"
#include "bench_store.h"

BENCH(bench_empty, cb_empty)
BENCH(bench_direct, cb_direct)
BENCH(bench_kv8, cb_kv8)
BENCH(bench_kv8_far, cb_kv8_far)
BENCH(bench_kv8_s, cb_kv8_s)
BENCH(bench_kv8_ptr, cb_kv8_ptr)
BENCH(bench_hash, cb_hash)
BENCH(bench_hook_direct, cb_hook_direct)
BENCH(bench_hook_kv8, cb_hook_kv8)
BENCH(bench_hook_tidhash, cb_hook_tidhash)
BENCH(bench_hook_floor, cb_hook_floor)
BENCH(bench_hook_tld, cb_hook_tld)
BENCH(bench_kv4k, cb_kv4k)
BENCH(bench_kv4k_var, cb_kv4k_var)

/* Plain bpf_probe_read_kernel of 4 KiB from the value's page: K_4K fills
 * the store's last data page (values over 8 bytes fill from the top). */
SEC(BENCH_SEC)
int bench_probe4k(__u64 *ctx)
{
	struct lctx c = {};

	if (setup(&c))
		return 1;
	c.src = c.s->data[UPTRKV_MAX_PAGES - 1];
	if (!c.src)
		return 1;
	bpf_loop((__u32)ctx[0], cb_probe4k, &c, 0);
	sink += c.sum;
	return 0;
}
