#!/bin/sh
# The BPF target arch of this machine, as bpf_tracing.h names it in
# -D__TARGET_ARCH_<arch> (the mapping of libbpf-bootstrap's Makefile): the
# Makefile and the tests that compile BPF ask here, so it is written once.
uname -m | sed -e 's/x86_64/x86/' -e 's/i.86/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/mips.*/mips/' -e 's/arm.*/arm/' \
	-e 's/riscv64/riscv/' -e 's/loongarch64/loongarch/' -e 's/s390x/s390/'
