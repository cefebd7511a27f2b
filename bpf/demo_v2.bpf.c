// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Demo version 2 (manifests/demo_v2.yaml): counts events in tx_bytes too. */
#define DEMO_VERSION 2
#define DEMO_ENTER_COUNTS_TX
#include "demo_common.h"
