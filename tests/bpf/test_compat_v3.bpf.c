// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Layout 3 of the app compatibility test (tests/e2e/manifests/compat_v3.yaml). */
#include "uptrkv.bpf.h"
#include "test_compat_v3.keys.h"
#include "test_compat_common.h"
