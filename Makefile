# uptrkv build. `make` builds the library, BPF objects and the CLI;
# `make test` builds everything again under ASan/UBSan and runs the unit and
# end-to-end tests; `make demo` runs the demo rollout; `make bench` the
# benchmarks. `make deps` installs the Debian packages (root, apt-get).
# `make install` / `make uninstall` put the tool, the libraries, headers,
# uptrkv.pc, the man pages (`make man`, with pandoc) and the bash completion
# under PREFIX (default /usr/local), below DESTDIR if given.

BUILD     ?= build
SANITIZE  ?= 0
V         ?= 0

CC        ?= gcc
BPFTOOL   ?= bpftool
# clang-14 builds nothing: test_clang_check proves that uptrkv.bpf.h stops it.
DEPS_PKGS := clang-19 llvm-19 libbpf-dev bpftool libelf-dev zlib1g-dev \
	     libyaml-dev libcmocka-dev pkg-config python3 python3-yaml ansible-core \
	     pandoc man-db clang-14
# What building and checking the Debian package (debian/) needs besides.
DEB_PKGS  := debhelper dpkg-dev lintian

# clang >= 15 is required: clang 14 silently drops btf_type_tag("uptr").
CLANG ?= $(shell for c in clang-21 clang-20 clang-19 clang-18 clang-17 clang-16 clang-15 clang; do \
	command -v $$c >/dev/null 2>&1 || continue; \
	v=$$($$c -dumpversion 2>/dev/null | cut -d. -f1); \
	[ -n "$$v" ] && [ $$v -ge 15 ] && { echo $$c; break; }; done)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS_BASE := -std=gnu11 -g -O2 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	       -D_GNU_SOURCE -Ilib -Ibpf -I$(BUILD)/bpf
ifeq ($(SANITIZE),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS_SAN := -fsanitize=address,undefined
endif
CFLAGS    ?=
CFLAGS    += $(CFLAGS_BASE)
PKG_CONFIG ?= pkg-config
# What libuptrkv needs, from pkg-config; uptrkv.pc names the same packages.
LIB_PC_DEPS := libbpf libelf zlib yaml-0.1
LDLIBS    := $(shell $(PKG_CONFIG) --libs $(LIB_PC_DEPS)) -lpthread

# The BPF target arch from the host's (bpf_tracing.h needs it to read
# pt_regs); scripts/bpf-arch.sh maps uname -m as libbpf-bootstrap does.
BPF_ARCH  ?= $(shell scripts/bpf-arch.sh)
# bpf/ includes nothing from lib/ (no -Ilib here): what both sides share
# is in these headers, beside the BPF ones, and lib/ includes them.
BPF_ABI_HDRS := bpf/uptrkv_layout.h bpf/uptrkv_admin_abi.h bpf/uptrkv_bind.h
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
	      -Wno-unused-function -I$(BUILD)/bpf -Ibpf

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRC))
LIB_A     := $(BUILD)/libuptrkv.a
# The shared library, named as libbpf names its own: libuptrkv.so.0.1.0,
# SONAME libuptrkv.so.0; lib/libuptrkv.map exports only uptrkv_* names.
LIB_VERSION := 0.1.0
LIB_SOVER   := $(firstword $(subst ., ,$(LIB_VERSION)))
LIB_SO      := $(BUILD)/libuptrkv.so.$(LIB_VERSION)
LIB_MAP     := lib/libuptrkv.map

# The app runtime (docs/design.md, "The app runtime"): what an application
# that registers threads and uses the store links, as libuptrkv-app.a and
# libuptrkv-app.so.0 (lib/libuptrkv-app.map), with uptrkv-app.pc. Neither
# libyaml, the manifest parser nor the rollout engine: only libbpf.
# tests/e2e/test_app_lib.sh checks what it links. libuptrkv holds it too.
APP_SRC    := lib/app.c lib/store.c lib/alloc.c lib/convert.c lib/error.c lib/deploy_name.c
APP_OBJ    := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(APP_SRC))
APP_A      := $(BUILD)/libuptrkv-app.a
APP_SO     := $(BUILD)/libuptrkv-app.so.$(LIB_VERSION)
APP_MAP    := lib/libuptrkv-app.map
APP_LDLIBS := $(shell $(PKG_CONFIG) --libs libbpf) -lpthread

# BPF programs, one folder per audience: the product (bpf/), the demo
# (examples/demo/), the tests (tests/bpf/) and the benchmarks (bench/,
# beside their harness). Every object and skeleton
# lands in $(BUILD)/bpf/ whichever folder its source is in, so manifests and
# tests name one place.
BPF_DIRS  := bpf examples/demo tests/bpf bench
BPF_SRC   := $(sort $(foreach d,$(BPF_DIRS),$(wildcard $(d)/*.bpf.c)))
BPF_OBJ   := $(patsubst %.bpf.c,$(BUILD)/bpf/%.bpf.o,$(notdir $(BPF_SRC)))
# Skeletons for the programs libuptrkv embeds and the tests and benches
# load; the demo loads its programs through `uptrkv rollout` instead.
SKEL_SRC  := $(wildcard bpf/*.bpf.c tests/bpf/*.bpf.c bench/*.bpf.c)
SKELS     := $(patsubst %.bpf.c,$(BUILD)/bpf/%.skel.h,$(notdir $(SKEL_SRC)))
# The ones libuptrkv embeds: the product's own programs, every one in bpf/.
LIB_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(wildcard bpf/uptrkv_*.bpf.c))
# The admin set's pin name, hashed from the embedded object at build time.
LIB_SKELS += $(BUILD)/bpf/uptrkv_admin_sha.h
VMLINUX_H := $(BUILD)/bpf/vmlinux.h

CMD_SRC   := $(sort $(wildcard cmd/*.c))
CMD_OBJ   := $(patsubst cmd/%.c,$(BUILD)/cmd/%.o,$(CMD_SRC))
UPTRKV    := $(BUILD)/uptrkv
# `uptrkv --version` names the revision it was built from; "unknown" outside git.
GIT_REV   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
DEMO_WL   := $(BUILD)/uptrkv-demo-workload

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
E2E_SRC   := $(sort $(wildcard tests/e2e/*.c))
E2E_BIN   := $(patsubst tests/e2e/%.c,$(BUILD)/tests/e2e/%,$(E2E_SRC))
BENCH_SRC := $(sort $(filter-out %.bpf.c,$(wildcard bench/*.c)))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: FORCE all man install uninstall check-clang deps deps-check deps-deb test-deb test test-build unit e2e test-fleet soak bench demo clean
.DELETE_ON_ERROR:

all: check-clang $(LIB_A) $(LIB_SO) $(APP_A) $(APP_SO) $(BPF_OBJ) $(UPTRKV) $(DEMO_WL)

check-clang:
	@v=$$([ -n "$(CLANG)" ] && $(CLANG) -dumpversion 2>/dev/null | cut -d. -f1); \
	if [ -z "$$v" ] || [ "$$v" -lt 15 ]; then \
	  echo "error: need clang >= 15, found '$(CLANG)'$${v:+ (version $$v)}. clang 14 (Debian's"; \
	  echo "       default) silently drops btf_type_tag(\"uptr\"), which breaks uptr."; \
	  echo "       Run 'make deps' (installs clang-19) or pass CLANG=/path/to/clang-15-or-newer."; \
	  exit 1; fi

# Installs what the build and tests need. Safe to re-run.
deps:
	@scripts/deps.sh $(DEPS_PKGS)

deps-check:
	@scripts/deps.sh --check-or-install $(DEPS_PKGS)

deps-deb:
	@scripts/deps.sh --check-or-install $(DEPS_PKGS) $(DEB_PKGS)

$(VMLINUX_H):
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

BPF_DEPS := $(VMLINUX_H) $(wildcard bpf/*.h)
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_DEPS) | check-clang
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: examples/demo/%.bpf.c $(BPF_DEPS) $(wildcard examples/demo/*.h) | check-clang
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: tests/bpf/%.bpf.c $(BPF_DEPS) $(wildcard tests/bpf/*.h) | check-clang
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: bench/%.bpf.c $(BPF_DEPS) $(wildcard bench/*.h) | check-clang
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

# Objects bound to a layout (docs/design.md, "Objects are bound to their
# layout"), as OBJECT:MANIFEST. Each one's source includes OBJECT.keys.h,
# which the uptrkv just built (host compiler, so it comes first) generates
# from MANIFEST; the header puts the layout record in the object. Test
# objects not listed here stay unbound on purpose.
BOUND := demo_v1:examples/demo/demo_v1.yaml demo_v2:examples/demo/demo_v2.yaml \
	 demo_v3:examples/demo/demo_v3.yaml demo_bad_verifier:examples/demo/demo_v2.yaml \
	 mixed_v1:tests/e2e/manifests/mixed_v1.yaml mixed_v2:tests/e2e/manifests/mixed_v2.yaml \
	 test_rw_l0:tests/e2e/manifests/rw_l0.yaml test_rw_l1:tests/e2e/manifests/rw_l1.yaml \
	 test_rw_l2:tests/e2e/manifests/rw_l2.yaml \
	 test_widen_v3:tests/e2e/manifests/widen_v3.yaml test_widen_v4:tests/e2e/manifests/widen_v4.yaml \
	 test_glob_a:tests/e2e/manifests/glob.yaml test_glob_b:tests/e2e/manifests/glob.yaml \
	 test_glob_c:tests/e2e/manifests/glob.yaml \
	 test_compat_v1:tests/e2e/manifests/compat_v1.yaml \
	 test_compat_v2:tests/e2e/manifests/compat_v2.yaml \
	 test_compat_v3:tests/e2e/manifests/compat_v3.yaml

define bound_object
$(BUILD)/bpf/$(1).keys.h: $(2) $(UPTRKV)
	$$(call msg,GEN,$$@)
	$$(Q)$(UPTRKV) gen header $(2) -o $$@
$(BUILD)/bpf/$(1).bpf.o: $(BUILD)/bpf/$(1).keys.h
endef
$(foreach b,$(BOUND),$(eval $(call bound_object,$(word 1,$(subst :, ,$(b))),$(word 2,$(subst :, ,$(b))))))
# The app built once against layout 1's header (tests/e2e/test_app_compat.sh).
$(BUILD)/tests/e2e/compat_app: $(BUILD)/bpf/test_compat_v1.keys.h

# lib/admin.c's own handle is struct uptrkv_admin, so the skeleton it embeds
# is named apart from it.
$(BUILD)/bpf/uptrkv_admin.skel.h: SKEL_NAME := uptrkv_admin_skel
$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(or $(SKEL_NAME),$(subst -,_,$*)) > $@.tmp && mv $@.tmp $@

# The skeleton embeds the object file's bytes as they are, so this is their
# hash: lib/admin.c need not hash 900 KB on every command.
$(BUILD)/bpf/uptrkv_admin_sha.h: $(BUILD)/bpf/uptrkv_admin.bpf.o
	$(call msg,SHA,$@)
	$(Q)printf '#define UPTRKV_ADMIN_SHA256 "%s"\n' $$(sha256sum $< | cut -d' ' -f1) > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h) $(BPF_ABI_HDRS) $(LIB_SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJ) $(LIB_MAP)
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared $(LDFLAGS) $(LDFLAGS_SAN) -Wl,-soname,libuptrkv.so.$(LIB_SOVER) \
		-Wl,--version-script=$(LIB_MAP) -o $@ $(LIB_OBJ) $(LDLIBS)

$(APP_A): $(APP_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(APP_SO): $(APP_OBJ) $(APP_MAP)
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared $(LDFLAGS) $(LDFLAGS_SAN) -Wl,-soname,libuptrkv-app.so.$(LIB_SOVER) \
		-Wl,--version-script=$(APP_MAP) -o $@ $(APP_OBJ) $(APP_LDLIBS)

$(BUILD)/cmd/%.o: cmd/%.c $(wildcard cmd/*.h) $(wildcard lib/*.h) $(BPF_ABI_HDRS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/cmd/uptrkv.o: CFLAGS += -DUPTRKV_GIT_REV='"$(GIT_REV)"'
# Rebuilt when the revision changes, so --version never names a stale one.
$(BUILD)/cmd/uptrkv.o: $(BUILD)/git-rev
$(BUILD)/git-rev: FORCE
	@mkdir -p $(@D)
	@echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' > $@
FORCE:

$(UPTRKV): $(CMD_OBJ) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(LDFLAGS_SAN) -o $@ $^ $(LDLIBS)

# The demo app: built as a user would build theirs, against the headers
# `uptrkv gen header` writes from each demo manifest (one prefix per
# version, since the workload reads keys that only some versions have).
DEMO_HDRS := $(foreach v,1 2 3,$(BUILD)/examples/demo/demo_v$(v)_app.h)
.SECONDARY: $(DEMO_HDRS)
$(BUILD)/examples/demo/demo_v%_app.h: examples/demo/demo_v%.yaml $(UPTRKV)
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$(UPTRKV) gen header $< --prefix demo_v$* -o $@

$(BUILD)/examples/demo/%.o: examples/demo/%.c $(DEMO_HDRS) $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/examples/demo -c $< -o $@

# It links the app runtime only, as a user's app would.
$(DEMO_WL): $(BUILD)/examples/demo/demo_workload.o $(APP_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(LDFLAGS_SAN) -o $@ $^ $(APP_LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_A) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB_A) $(LDLIBS) -lcmocka $(LDFLAGS_SAN)

$(BUILD)/tests/e2e/%: tests/e2e/%.c $(LIB_A) $(SKELS) $(wildcard tests/e2e/*.h) tests/check.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB_A) $(LDLIBS) $(LDFLAGS_SAN)

# many_app links the app runtime only (tests/e2e/test_app_lib.sh checks it).
$(BUILD)/tests/e2e/many_app: tests/e2e/many_app.c $(APP_A)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -o $@ $< $(APP_A) $(APP_LDLIBS) $(LDFLAGS_SAN)

$(BUILD)/bench/%: bench/%.c $(LIB_A) $(SKELS) $(wildcard bench/*.h)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -Ibench -o $@ $< $(LIB_A) $(LDLIBS) $(LDFLAGS_SAN)

# ---- install: the layout of libbpf's Makefile ----
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL      ?= install
# One folder for both sides: apps include <uptrkv/uptrkv.h>, BPF programs
# "uptrkv.bpf.h" with -I$(INCLUDEDIR)/uptrkv (uptrkv.pc gives both -I).
HDR_DIR      := $(INCLUDEDIR)/uptrkv
# The public headers only: lib/uptrkv_tool.h and lib/uptrkv_admin.h (and
# the admin ABI beside the BPF headers) stay in the tree.
LIB_HDRS     := lib/uptrkv.h lib/uptrkv_common.h lib/uptrkv_manifest.h \
		lib/uptrkv_store.h lib/uptrkv_binding.h lib/uptrkv_deploy.h
BPF_HDRS     := bpf/uptrkv.bpf.h bpf/uptrkv_move.bpf.h bpf/uptrkv_layout.h bpf/uptrkv_bind.h
MANDIR       ?= $(PREFIX)/share/man
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
# Man pages, from docs/ by scripts/man.sh: uptrkv(8), one per command (the
# "### CMD" sections of docs/commands.md' COMMANDS) and uptrkv-manifest(5).
MAN_CMDS     := $(shell awk '/^\#\# /{c = /^\#\# COMMANDS/} c && /^\#\#\# /{print $$2}' docs/commands.md)
MAN8         := uptrkv.8 $(patsubst %,uptrkv-%.8,$(MAN_CMDS))
MAN5         := uptrkv-manifest.5
INSTALLED    := $(BINDIR)/uptrkv $(LIBDIR)/libuptrkv.a \
		$(LIBDIR)/libuptrkv.so.$(LIB_VERSION) $(LIBDIR)/libuptrkv.so.$(LIB_SOVER) \
		$(LIBDIR)/libuptrkv.so $(PKGCONFIGDIR)/uptrkv.pc \
		$(addprefix $(HDR_DIR)/,$(notdir $(LIB_HDRS) $(BPF_HDRS))) \
		$(addprefix $(MANDIR)/man8/,$(MAN8)) $(addprefix $(MANDIR)/man5/,$(MAN5)) \
		$(BASHCOMPDIR)/uptrkv
INSTALLED    += $(LIBDIR)/libuptrkv-app.a $(LIBDIR)/libuptrkv-app.so.$(LIB_VERSION) \
		$(LIBDIR)/libuptrkv-app.so.$(LIB_SOVER) $(LIBDIR)/libuptrkv-app.so \
		$(PKGCONFIGDIR)/uptrkv-app.pc

man: $(BUILD)/man/.stamp
$(BUILD)/man/.stamp: docs/commands.md docs/manifest.md scripts/man.sh
	@command -v pandoc >/dev/null || { echo "error: the man pages need pandoc: run 'make deps'"; exit 1; }
	$(call msg,MAN,$(BUILD)/man)
	$(Q)rm -rf $(BUILD)/man && scripts/man.sh $(BUILD)/man $(LIB_VERSION) && touch $@

$(BUILD)/%.pc: lib/%.pc.template FORCE
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	     -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(LIB_VERSION)|' $< > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

install: all man $(BUILD)/uptrkv.pc $(BUILD)/uptrkv-app.pc
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d -m 755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(HDR_DIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR)
	$(Q)$(INSTALL) -m 755 $(UPTRKV) $(DESTDIR)$(BINDIR)/uptrkv
	$(Q)$(INSTALL) -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	$(Q)$(INSTALL) -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf libuptrkv.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/libuptrkv.so.$(LIB_SOVER)
	$(Q)ln -sf libuptrkv.so.$(LIB_SOVER) $(DESTDIR)$(LIBDIR)/libuptrkv.so
	$(Q)$(INSTALL) -m 644 $(BUILD)/uptrkv.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(Q)$(INSTALL) -m 644 $(APP_A) $(DESTDIR)$(LIBDIR)/
	$(Q)$(INSTALL) -m 755 $(APP_SO) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf libuptrkv-app.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/libuptrkv-app.so.$(LIB_SOVER)
	$(Q)ln -sf libuptrkv-app.so.$(LIB_SOVER) $(DESTDIR)$(LIBDIR)/libuptrkv-app.so
	$(Q)$(INSTALL) -m 644 $(BUILD)/uptrkv-app.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(Q)$(INSTALL) -m 644 $(LIB_HDRS) $(BPF_HDRS) $(DESTDIR)$(HDR_DIR)/
	$(Q)$(INSTALL) -m 644 $(addprefix $(BUILD)/man/,$(MAN8)) $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 644 $(addprefix $(BUILD)/man/,$(MAN5)) $(DESTDIR)$(MANDIR)/man5/
	$(Q)$(INSTALL) -m 644 completion/uptrkv $(DESTDIR)$(BASHCOMPDIR)/uptrkv

# Removes what install put there, and the headers' own folder.
uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(HDR_DIR) 2>/dev/null || true

# ---- tests: everything rebuilt with ASan/UBSan in build/san ----
test: deps-check
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 test-build
	@BUILD=build/san T="$(T)" tests/run.sh

test-build: all man $(UNIT_BIN) $(E2E_BIN)

unit: deps-check
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 test-build
	@BUILD=build/san tests/run.sh unit

e2e: deps-check
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 test-build
	@BUILD=build/san tests/run.sh e2e

# The Ansible collection and the CI example, with ansible-playbook on four
# simulated hosts: over a minute, so not in `make test`; .ci/run runs both.
test-fleet: deps-check
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 test-build
	@BUILD=build/san T="$(T)" tests/run.sh fleet

# The Debian package: dpkg-buildpackage -us -uc -b in a temp copy of the
# tree, lintian, the three packages' contents, unpacked into a temp root
# (tests/pkg/test_deb.sh; no root needed, nothing installed). Builds the
# whole tree once more, so not in `make test`; .ci/run runs it.
test-deb: deps-deb
	@bash tests/pkg/test_deb.sh

# The long soaks (about 15 minutes): the read-your-writes soak with 120
# switches and 24 of them killed, 300 back-to-back rollbacks, and one app
# with 100000 registered threads under ulimit -n 1024 through a rollout and
# a rollback (the optimised build: ASan's own maps per thread would cap it;
# kernel.pid_max, threads-max and vm.max_map_count are raised for the test).
soak: deps-check
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 test-build
	@BUILD=build/san T=soak RW_SWITCHES=120 RW_KILLS=24 SOAK_ROLLBACKS=300 \
		TEST_TIMEOUT=3600 tests/run.sh e2e
	@$(MAKE) --no-print-directory BUILD=build test-build
	@BUILD=build T=many_threads MANY_THREADS=100000 MANY_NOFILE=1024 MANY_RAISE_LIMITS=1 \
		TEST_TIMEOUT=3600 tests/run.sh e2e

# Benchmarks run on the optimised, unsanitised build. The plot in
# docs/benchmarks.md needs gnuplot, and only the benchmarks do.
BENCH_PKGS := gnuplot-nox
bench: deps-check
	@scripts/deps.sh --check-or-install $(BENCH_PKGS)
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@BUILD=$(BUILD) bench/run.sh

demo: deps-check
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) examples/demo/demo.sh

clean:
	rm -rf $(BUILD)
