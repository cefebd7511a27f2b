// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Version 2 of the mixed tp_btf + XDP deployment (tests/e2e/test_mixed.sh). */
#define MIXED_VERSION 2
#include "mixed_common.h"
