/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The layout record: what binds a BPF object to the layout it was compiled
 * for (docs/design.md, "Objects are bound to their layout").
 *
 * The header that `uptrkv gen header` writes invokes UPTRKV_LAYOUT_RECORD
 * once, with the record text that lib/binding.c produces:
 *
 *	uptrkv-layout 1
 *	name demo
 *	sha256 <64 hex digits: SHA-256 of the key lines below>
 *	keys 3
 *	0 rx_bytes 8 u64
 *	1 events 8 u64
 *	3 comm 16 string
 *
 * The text lands, NUL-terminated, in its own ELF section. No program
 * references it and libbpf makes no map of a section it does not know, so
 * nothing of it reaches the kernel; `uptrkv rollout` reads it from the file
 * before it loads anything. Shared by BPF code and libuptrkv: macros only.
 */
#ifndef __UPTRKV_BIND_H
#define __UPTRKV_BIND_H

#define UPTRKV_LAYOUT_SECTION	".uptrkv.layout"
#define UPTRKV_LAYOUT_MAGIC	"uptrkv-layout"
#define UPTRKV_LAYOUT_FORMAT	1

/*
 * One record per object. `used` keeps a constant nothing references. The
 * symbol carries the header's prefix, so a test object may include two
 * generated headers; lib/binding.c refuses to roll out an object that
 * carries two different records.
 */
#define UPTRKV_LAYOUT_RECORD(prefix, text)					\
	const char prefix##__uptrkv_layout[]					\
	__attribute__((used, section(UPTRKV_LAYOUT_SECTION), aligned(1))) = text

#endif
