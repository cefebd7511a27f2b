// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Demo version 2 (examples/demo/demo_v2.yaml, which the build makes its header
 * of): counts events in tx_bytes too. */
#include "uptrkv.bpf.h"
#include "demo_v2.keys.h"
#define DEMO_EVENTS_PTR(s)	demo_ptr_syscalls(s)
#define DEMO_ENTER_COUNTS_TX
#include "demo_common.h"
