// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Object A of the globals test (tests/bpf/test_glob_common.h). */
#define GLOB_HITS_TYPE __u64
#define GLOB_WIDEN_TYPE __u32
#include "uptrkv.bpf.h"
#include "test_glob_a.keys.h"
#include "test_glob_common.h"
