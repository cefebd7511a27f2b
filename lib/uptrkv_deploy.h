/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Deployments in bpffs, rollout and rollback. Included through uptrkv.h. */
#ifndef __UPTRKV_DEPLOY_H
#define __UPTRKV_DEPLOY_H

#endif
