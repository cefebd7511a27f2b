// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Demo version 3 (examples/demo/demo_v3.yaml, which the build makes its header
 * of). Its programs do what v2's do; the version changes the layout (blob
 * shrinks, label goes, big and ratio come). It leaves ratio (default -1) alone, so that the workload can check
 * that the default arrived.
 */
#include "uptrkv.bpf.h"
#include "demo_v3.keys.h"
#define DEMO_EVENTS_PTR(s)	demo_ptr_syscalls(s)
#define DEMO_ENTER_COUNTS_TX
#include "demo_common.h"
