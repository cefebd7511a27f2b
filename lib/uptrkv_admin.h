/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Admin access to other processes' stores, and dump. Included through uptrkv.h. */
#ifndef __UPTRKV_ADMIN_H
#define __UPTRKV_ADMIN_H

#endif
