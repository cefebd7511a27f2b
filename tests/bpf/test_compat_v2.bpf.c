// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Layout 2 of the app compatibility test (tests/e2e/manifests/compat_v2.yaml). */
#include "uptrkv.bpf.h"
#include "test_compat_v2.keys.h"
#include "test_compat_common.h"
