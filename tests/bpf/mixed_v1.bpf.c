// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Version 1 of the mixed tp_btf + XDP deployment (tests/e2e/test_mixed.sh). */
#include "uptrkv.bpf.h"
#include "mixed_v1.keys.h"	/* MIXED_VERSION, from tests/e2e/manifests/mixed_v1.yaml */
#include "mixed_common.h"
