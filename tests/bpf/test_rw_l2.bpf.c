// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Layout 2 of the read-your-writes soak (tests/e2e/manifests/rw_l2.yaml,
 * which the build makes its header of). */
#define RW_LAYOUT 2
#define RW_W_TYPE __u64
#include "uptrkv.bpf.h"
#include "test_rw_l2.keys.h"
#include "test_rw_common.h"
