// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Demo version 3 (manifests/demo_v3.yaml). Its programs do what v2's do;
 * the version changes the layout (blob shrinks, label goes, big and ratio
 * come). It leaves ratio (default -1) alone, so that the workload can check
 * that the default arrived.
 */
#define DEMO_VERSION 3
#define DEMO_ENTER_COUNTS_TX
#include "demo_common.h"
