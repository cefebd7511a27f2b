// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The widening test's version 3 (tests/e2e/manifests/widen_v3.yaml). */
#include "uptrkv.bpf.h"
#include "test_widen_v3.keys.h"
#include "test_widen_common.h"
