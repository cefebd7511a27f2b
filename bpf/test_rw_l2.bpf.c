// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Layout 2 of the read-your-writes soak (tests/e2e/rw/). */
#define RW_LAYOUT 2
#define RW_W_TYPE __u64
#include "test_rw_common.h"
