# hwoptd — build, test, install. Every library is found with pkg-config.
# `make run` and `make check` install missing Debian packages first.

SHELL    := /bin/bash

PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR    = $(PREFIX)/bin
SBINDIR   = $(PREFIX)/sbin
MANDIR    = $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR  ?= $(PREFIX)/lib/systemd/system
COMPLDIR ?= $(PREFIX)/share/bash-completion/completions

CC       ?= cc
CLANG    ?= clang
PYTHON   ?= /usr/bin/python3
PKG_CONFIG ?= pkg-config
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Sanitizer builds live apart so they never mix objects with the normal one.
SANITIZE ?=
ifneq ($(SANITIZE),)
BUILD    ?= build-san
BIN      ?= build-san/bin
SANFLAGS  = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD    ?= build
BIN      ?= bin
SANFLAGS  =
endif

PKGS      = libuv libcjson hwloc inih libsystemd libprotobuf-c numa libmicrohttpd libbpf
TEST_PKGS = cmocka
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lpfm

WARN     ?= -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DHWOPTD_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) \
             $(SANFLAGS) -I. -I$(BUILD)/gen -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# Debian packages: build, tests, docs, fuzzing, integration tooling.
DEB_PKGS = build-essential pkg-config libuv1-dev libcjson-dev libhwloc-dev \
           libinih-dev libsystemd-dev libcmocka-dev scdoc clang libclang-rt-14-dev \
           python3 python3-pytest systemd util-linux \
           gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
           libopenblas-dev libdnnl-dev python3-numpy python3-onnx \
           libprotobuf-c-dev protobuf-c-compiler libnuma-dev \
           libmicrohttpd-dev libpfm4-dev libbpf-dev bpftool prometheus

# Kernel variants: kernels/<dtype>-<op>/<tile>-<isa>[-<variant>].c takes its
# compiler flags from the ISA token in its name; files for the other
# architecture are left out of the build.
ISA_FLAGS_avx2       = -mavx2 -mfma -mf16c
ISA_FLAGS_avx512f    = $(ISA_FLAGS_avx2) -mavx512f -mavx512dq -mavx512bw -mavx512vl
ISA_FLAGS_avx512vnni = $(ISA_FLAGS_avx512f) -mavx512vnni
ISA_FLAGS_avx512bf16 = $(ISA_FLAGS_avx512vnni) -mavx512bf16
ISA_FLAGS_amx        = $(ISA_FLAGS_avx512bf16) -mamx-tile -mamx-int8 -mamx-bf16
ISA_FLAGS_neon       =
ISA_FLAGS_neondot    = -march=armv8.2-a+dotprod
ISA_FLAGS_i8mm       = -march=armv8.2-a+dotprod+i8mm
ISA_FLAGS_sve        = -march=armv8.2-a+dotprod+sve
ISA_FLAGS_sve2       = -march=armv8.2-a+dotprod+i8mm+sve2
X86_ISAS = avx2 avx512f avx512vnni avx512bf16 amx
ARM_ISAS = neon neondot i8mm sve sve2
isa_of   = $(word 2,$(subst -, ,$(basename $(notdir $(1)))))
isa_flags = $(if $(filter kernels/%,$(1)),$(ISA_FLAGS_$(call isa_of,$(1))))
# The runtime's element-wise loops are written for the vectorizer; -O2's
# very cheap cost model leaves loops of unknown length scalar.
vec_flags = $(if $(filter runtime/ops/%,$(1)),-fvect-cost-model=dynamic)
CC_TRIPLE := $(shell $(CC) -dumpmachine 2>/dev/null)
ifneq (,$(findstring aarch64,$(CC_TRIPLE)))
FOREIGN_ISAS = $(X86_ISAS)
else
FOREIGN_ISAS = $(ARM_ISAS)
endif

PROTO_SRC   := $(sort $(wildcard proto/*.c))
KERNELS_ALL := $(sort $(wildcard kernels/*.c kernels/*/*.c))
KERNELS_SRC := $(foreach f,$(KERNELS_ALL),$(if $(filter $(FOREIGN_ISAS),$(call isa_of,$(f))),,$(f)))
CLIENT_SRC  := $(sort $(wildcard clients/c/*.c))
RUNTIME_SRC := $(sort $(wildcard runtime/*.c runtime/ops/*.c))
RUNNER_SRC  := $(sort $(wildcard runtime/runner/*.c))
POLICY_SRC  := $(sort $(wildcard policies/*.c))
DAEMON_SRC  := $(sort $(filter-out %.bpf.c,$(wildcard daemon/*.c daemon/telemetry/*.c)))
CTL_SRC     := $(sort $(wildcard ctl/*.c))
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
KTEST_SRC   := $(sort $(wildcard tests/unit/kernels/test_*.c))
MAN_SRC     := $(sort $(wildcard docs/man/*.scd))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
PROTO_LIB   = $(BUILD)/libhwproto.a
KERNELS_LIB = $(BUILD)/libhwk.a
CLIENT_LIB  = $(BUILD)/libhwoptclient.a
RUNTIME_LIB = $(BUILD)/libhwrt.a
POLICY_LIB  = $(BUILD)/libhwpol.a
GEN         = $(BUILD)/gen
ONNX_PROTO ?= /usr/lib/python3/dist-packages/onnx/onnx.proto
DAEMON_OBJ  = $(call obj,$(DAEMON_SRC))
DAEMON_LIBOBJ = $(filter-out $(BUILD)/obj/daemon/main.o,$(DAEMON_OBJ))
UNIT_BIN    = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
KTEST_BIN   = $(patsubst tests/unit/kernels/%.c,$(BUILD)/ktests/%,$(KTEST_SRC))
MAN_OUT     = $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(MAN_SRC))

.PHONY: FORCE all deps probe run check check-unit check-integration check-conformance check-models docs-ops \
        fuzz man install uninstall clean golden bench bench-telemetry bench-daemon bench-kernels bench-models bench-dispatch bench-policy \
        check-kernels check-arm

all: $(BIN)/hwoptd $(BIN)/hwoptctl $(BIN)/hwopt-run man $(CLIENT_LIB) $(BUILD)/libhwoptclient.so $(BUILD)/hwoptclient.pc

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call isa_flags,$<) $(call vec_flags,$<) -c -o $@ $<

$(PROTO_LIB): $(call obj,$(PROTO_SRC))
$(KERNELS_LIB): $(call obj,$(KERNELS_SRC))
$(CLIENT_LIB): $(call obj,$(CLIENT_SRC))
$(POLICY_LIB): $(call obj,$(POLICY_SRC))
$(RUNTIME_LIB): $(call obj,$(RUNTIME_SRC)) $(GEN)/onnx.pb-c.o

# The ONNX protobuf decoder is generated from Debian's onnx.proto, and the
# operator table from the RT_OP_DEFINE and RT_BINARY_OP_DEFINE lines of
# runtime/ops/*.c (rewritten only when the list changes, so adding an op
# rebuilds one file).
$(GEN)/onnx.pb-c.c $(GEN)/onnx.pb-c.h: $(ONNX_PROTO)
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)
$(GEN)/onnx.pb-c.o: $(GEN)/onnx.pb-c.c
	$(CC) -std=c11 $(CFLAGS) $(SANFLAGS) -w -I$(GEN) -c -o $@ $<
$(GEN)/runtime_op_list.h: FORCE
	@mkdir -p $(GEN)
	@sed -n 's/^RT_\(BINARY_\|VARIADIC_\)\{0,1\}OP_DEFINE(\([A-Za-z0-9_]*\)[,)].*/X(\2)/p' runtime/ops/*.c | sort > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(call obj,$(RUNTIME_SRC) $(RUNNER_SRC) $(DAEMON_SRC)): | $(GEN)/onnx.pb-c.h $(GEN)/runtime_op_list.h
$(BUILD)/obj/runtime/ops/registry.o: $(GEN)/runtime_op_list.h
FORCE:
$(BUILD)/%.a:
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# --- eBPF (schedlat) ---
# The schedlat source's BPF programs (CO-RE) and their libbpf skeleton,
# built against this kernel's BTF with clang alone (never the host CFLAGS
# or sanitizers). Without BTF, bpftool or clang (or with BPF=0) schedlat.c
# is built with -DHWOPT_NO_BPF and the source reports itself unavailable.
BPF         ?= 1
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux
BPFTOOL     ?= $(shell PATH="$$PATH:/usr/sbin:/sbin" command -v bpftool 2>/dev/null)
BPFTOOL     := $(BPFTOOL)
BPF_ARCH    := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(filter x86_64 aarch64,$(shell uname -m))))
SCHEDLAT_OBJ = $(BUILD)/obj/daemon/telemetry/schedlat.o
ifneq ($(BPF),1)
SCHEDLAT_NO_BPF = BPF=$(BPF)
else ifeq ($(wildcard $(BTF_VMLINUX)),)
SCHEDLAT_NO_BPF = no BTF at $(BTF_VMLINUX)
else ifeq ($(BPFTOOL),)
SCHEDLAT_NO_BPF = no bpftool
else ifeq ($(shell command -v $(CLANG) 2>/dev/null),)
SCHEDLAT_NO_BPF = no $(CLANG)
else ifeq ($(BPF_ARCH),)
SCHEDLAT_NO_BPF = no BPF target for $(shell uname -m)
endif
ifeq ($(SCHEDLAT_NO_BPF),)
$(SCHEDLAT_OBJ): $(GEN)/schedlat.skel.h
$(GEN)/vmlinux.h: $(BTF_VMLINUX)
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $< format c > $@.tmp && mv $@.tmp $@
# gen object links the program and drops its DWARF (the skeleton embeds it).
$(GEN)/schedlat.bpf.o: daemon/telemetry/schedlat.bpf.c $(GEN)/vmlinux.h
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -I$(GEN) \
	  $(shell $(PKG_CONFIG) --cflags-only-I libbpf 2>/dev/null) -c -o $(GEN)/schedlat.tmp.bpf.o $<
	$(BPFTOOL) gen object $@ $(GEN)/schedlat.tmp.bpf.o
$(GEN)/schedlat.skel.h: $(GEN)/schedlat.bpf.o
	$(BPFTOOL) gen skeleton $< name schedlat_bpf > $@.tmp && mv $@.tmp $@
else
$(SCHEDLAT_OBJ): private ALL_CFLAGS += -DHWOPT_NO_BPF -DHWOPT_NO_BPF_WHY='"$(SCHEDLAT_NO_BPF)"'
$(BUILD)/tests/test_tm_schedlat: private ALL_CFLAGS += -DHWOPT_NO_BPF
endif
# schedlat.o is rebuilt when the choice changes.
$(SCHEDLAT_OBJ): $(GEN)/schedlat.mode
$(GEN)/schedlat.mode: FORCE
	@mkdir -p $(@D)
	@echo '$(or $(SCHEDLAT_NO_BPF),bpf)' > $@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
	$(if $(SCHEDLAT_NO_BPF),@echo "schedlat: no BTF at $(BTF_VMLINUX) (or no bpftool/clang):" \
	  "building without eBPF ($(SCHEDLAT_NO_BPF)); the daemon reports schedlat unavailable")
# --- end eBPF (schedlat) ---

$(BIN)/hwoptd: $(DAEMON_OBJ) $(POLICY_LIB) $(RUNTIME_LIB) $(KERNELS_LIB) $(PROTO_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(BIN)/hwopt-run: $(call obj,$(RUNNER_SRC)) $(RUNTIME_LIB) $(KERNELS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libprotobuf-c libcjson) -lpthread -lm

$(BIN)/hwoptctl: $(call obj,$(CTL_SRC)) $(CLIENT_LIB) $(RUNTIME_LIB) $(KERNELS_LIB) $(PROTO_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libprotobuf-c libcjson) -lpthread -lm

# libhwoptclient carries the base64 codec it shares with the daemon. The
# shared library is built from objects compiled apart with -fPIC; the .pc
# is rewritten only when PREFIX or VERSION changed.
CLIENT_PIC_OBJ = $(patsubst %.c,$(BUILD)/pic/%.o,$(CLIENT_SRC) proto/base64.c)
$(CLIENT_LIB): $(BUILD)/obj/proto/base64.o
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<
$(BUILD)/libhwoptclient.so: $(CLIENT_PIC_OBJ)
	$(CC) -shared $(ALL_LDFLAGS) -Wl,-soname,libhwoptclient.so.0 -o $@ $^ \
	  $(shell $(PKG_CONFIG) --libs libcjson)
$(BUILD)/hwoptclient.pc: clients/c/hwoptclient.pc.in FORCE
	@mkdir -p $(@D)
	@sed 's|@PREFIX@|$(PREFIX)|g; s|@VERSION@|$(VERSION)|g' $< > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# Unit tests link the daemon's modules (all but main) and every library.
$(BUILD)/tests/%: tests/unit/%.c $(DAEMON_LIBOBJ) $(POLICY_LIB) $(CLIENT_LIB) $(RUNTIME_LIB) $(KERNELS_LIB) $(PROTO_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) \
	  -DSRCDIR='"$(CURDIR)"' $(ALL_LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) \
	  $(shell $(PKG_CONFIG) --libs $(TEST_PKGS)) $(PKG_LIBS) -lpthread -lm

# libhwoptclient's test runs against a fake daemon (clients/c/tests).
$(BUILD)/ctests/test_client: clients/c/tests/test_client.c $(CLIENT_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(CLIENT_LIB) $(shell $(PKG_CONFIG) --libs libcjson) -lm

# Kernel tests need libhwk and libc only, so they also build for aarch64.
$(BUILD)/ktests/%: tests/unit/kernels/%.c tests/unit/kernels/harness.h $(KERNELS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(KERNELS_LIB) -lpthread -lm

man: $(MAN_OUT)
$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(@D)
	scdoc < $< > $@

# --- set-up ---------------------------------------------------------------

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y -q $$missing || \
	  { $$sudo apt-get update -q && $$sudo apt-get install -y -q $$missing; }

# Fails when anything the build or tests need is missing.
probe:
	@$(PKG_CONFIG) --exists $(PKGS) $(TEST_PKGS) && command -v scdoc >/dev/null && \
	  command -v $(CLANG) >/dev/null && $(PYTHON) -c 'import pytest' 2>/dev/null && \
	  command -v systemd-analyze >/dev/null && command -v systemd-socket-activate >/dev/null && \
	  command -v $(ARM_CC) >/dev/null && command -v qemu-aarch64 >/dev/null && \
	  command -v protoc-c >/dev/null && test -e /usr/include/perfmon/pfmlib.h && \
	  command -v bpftool >/dev/null && command -v promtool >/dev/null

run:
	@$(MAKE) -s probe 2>/dev/null || $(MAKE) deps
	@$(MAKE) all
	exec $(BIN)/hwoptd --config etc/hwoptd.conf

check:
	@$(MAKE) -s probe 2>/dev/null || $(MAKE) deps
	@$(MAKE) all $(UNIT_BIN) $(KTEST_BIN) $(BUILD)/ctests/test_client
	@$(MAKE) check-unit check-kernels check-integration check-conformance check-models
ifeq ($(SANITIZE),)
	@$(MAKE) check-arm
endif

check-kernels: $(KTEST_BIN)
	@fail=0; for t in $(KTEST_BIN); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# libhwk and its tests for aarch64, run under qemu: NEON on -cpu max, then
# SVE at vector lengths of 128, 256 and 512 bits.
ARM_CC ?= aarch64-linux-gnu-gcc
ARM_VLS ?= 16 32 64
check-arm:
	@$(MAKE) -s BUILD=build-arm CC=$(ARM_CC) SANITIZE= LDFLAGS=-static PKG_CFLAGS= \
	  $(patsubst tests/unit/kernels/%.c,build-arm/ktests/%,$(KTEST_SRC))
	@fail=0; for t in $(patsubst tests/unit/kernels/%.c,build-arm/ktests/%,$(KTEST_SRC)); do \
	  echo "== $$t (qemu-aarch64 -cpu max, SVE off)"; \
	  qemu-aarch64 -cpu max,sve=off $$t || fail=1; \
	  for vl in $(ARM_VLS); do \
	    echo "== $$t (qemu-aarch64 -cpu max, SVE $$((vl * 8)) bits)"; \
	    qemu-aarch64 -cpu max,sve-default-vector-length=$$vl $$t || fail=1; \
	  done; \
	done; exit $$fail

# Rewrites tests/fixtures/golden/*.prom from the fixture trees; review the diff.
golden: $(BUILD)/tests/test_tm_golden
	HWOPT_REGEN_GOLDEN=1 $(BUILD)/tests/test_tm_golden

check-unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
	  echo "== $$t"; CMOCKA_MESSAGE_OUTPUT=stdout $$t || fail=1; \
	done; exit $$fail

check-integration: $(BIN)/hwoptd $(BIN)/hwoptctl $(BUILD)/ctests/test_client
	HWOPTD=$(CURDIR)/$(BIN)/hwoptd HWOPTCTL=$(CURDIR)/$(BIN)/hwoptctl \
	  HWOPT_CCLIENT_TEST=$(CURDIR)/$(BUILD)/ctests/test_client \
	  HWOPT_SRCDIR=$(CURDIR) HWOPT_SANITIZE=$(SANITIZE) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# Models built with onnx.helper, run by hwopt-run against numpy references.
check-models: $(BIN)/hwopt-run
	HWOPT_RUN=$(CURDIR)/$(BIN)/hwopt-run $(PYTHON) -m pytest -q -p no:cacheprovider tests/models

# The ONNX backend node tests, generated on the machine by python3-onnx.
check-conformance: $(BIN)/hwopt-run
	$(PYTHON) tests/conformance/run.py $(BIN)/hwopt-run $(BUILD)/conformance --check-doc docs/ops.md

docs-ops: $(BIN)/hwopt-run
	$(PYTHON) tests/conformance/run.py $(BIN)/hwopt-run $(BUILD)/conformance --write-doc docs/ops.md

# --- fuzzing (clang libFuzzer) ------------------------------------------------

FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(PROTO_SRC)
	@mkdir -p $(@D)
	$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 -I. $(shell $(PKG_CONFIG) --cflags libcjson) \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $^ $(shell $(PKG_CONFIG) --libs libcjson) -lm

# The model loader target links the runtime built with clang and the
# instrumentation, and the gcc-built kernels (the loader is what it tests).
FUZZ_RT_SRC = $(RUNTIME_SRC) $(GEN)/onnx.pb-c.c
$(BUILD)/fuzz/fuzz_model: tests/fuzz/fuzz_model.c $(GEN)/onnx.pb-c.c $(GEN)/runtime_op_list.h \
		$(RUNTIME_SRC) $(KERNELS_LIB)
	@mkdir -p $(@D)
	$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 -I. -I$(GEN) -w \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ \
	  tests/fuzz/fuzz_model.c $(FUZZ_RT_SRC) $(KERNELS_LIB) \
	  $(shell $(PKG_CONFIG) --libs libprotobuf-c) -lpthread -lm

fuzz: $(FUZZ_TARGETS)
	@for f in $(FUZZ_TARGETS); do \
	  n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "== $$n for $(FUZZ_SECONDS)s"; \
	  dict=tests/fuzz/$$n.dict; [ -f $$dict ] && dict="-dict=$$dict" || dict=""; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dict \
	    -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-$$n tests/fuzz/seeds-$$n \
	    2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Done' || true; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# --- install ------------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/hwoptd \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLDIR) \
	  $(DESTDIR)$(PREFIX)/include/hwopt $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(BIN)/hwoptd $(DESTDIR)$(SBINDIR)/hwoptd
	install -m 0755 $(BIN)/hwoptctl $(DESTDIR)$(BINDIR)/hwoptctl
	install -m 0755 $(BIN)/hwopt-run $(DESTDIR)$(BINDIR)/hwopt-run
	install -m 0644 etc/hwoptd.conf $(DESTDIR)$(SYSCONFDIR)/hwoptd/hwoptd.conf.example
	install -d $(DESTDIR)$(SYSCONFDIR)/hwoptd/devices
	install -m 0644 etc/devices/*.conf $(DESTDIR)$(SYSCONFDIR)/hwoptd/devices/
	test -e $(DESTDIR)$(SYSCONFDIR)/hwoptd/hwoptd.conf || \
	  install -m 0644 etc/hwoptd.conf $(DESTDIR)$(SYSCONFDIR)/hwoptd/hwoptd.conf
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/hwoptd.service \
	  > $(DESTDIR)$(UNITDIR)/hwoptd.service
	install -m 0644 systemd/hwoptd.socket $(DESTDIR)$(UNITDIR)/hwoptd.socket
	for m in $(MAN_OUT); do s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -m 0644 ctl/hwoptctl.bash-completion $(DESTDIR)$(COMPLDIR)/hwoptctl
	install -m 0644 clients/c/hwoptclient.h $(DESTDIR)$(PREFIX)/include/hwopt/hwoptclient.h
	install -m 0644 $(CLIENT_LIB) $(DESTDIR)$(PREFIX)/lib/libhwoptclient.a
	install -m 0755 $(BUILD)/libhwoptclient.so $(DESTDIR)$(PREFIX)/lib/libhwoptclient.so.0
	ln -sf libhwoptclient.so.0 $(DESTDIR)$(PREFIX)/lib/libhwoptclient.so
	install -m 0644 $(BUILD)/hwoptclient.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/hwoptclient.pc

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/hwoptd $(DESTDIR)$(BINDIR)/hwoptctl $(DESTDIR)$(BINDIR)/hwopt-run \
	  $(DESTDIR)$(UNITDIR)/hwoptd.service $(DESTDIR)$(UNITDIR)/hwoptd.socket \
	  $(DESTDIR)$(COMPLDIR)/hwoptctl $(DESTDIR)$(SYSCONFDIR)/hwoptd/hwoptd.conf.example \
	  $(DESTDIR)$(PREFIX)/include/hwopt/hwoptclient.h $(DESTDIR)$(PREFIX)/lib/libhwoptclient.a \
	  $(DESTDIR)$(PREFIX)/lib/libhwoptclient.so.0 $(DESTDIR)$(PREFIX)/lib/libhwoptclient.so \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/hwoptclient.pc
	rmdir $(DESTDIR)$(PREFIX)/include/hwopt 2>/dev/null || true
	rm -f $(addprefix $(DESTDIR)$(SYSCONFDIR)/hwoptd/devices/,$(notdir $(wildcard etc/devices/*.conf)))
	rmdir $(DESTDIR)$(SYSCONFDIR)/hwoptd/devices 2>/dev/null || true
	for m in $(MAN_OUT); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

# Benchmarks print figures; no test asserts a time.
$(BUILD)/bench/bench_rpc: bench/bench_rpc.c $(CLIENT_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libcjson) -lpthread -lm

# The dispatch benchmark runs models in process too, as the daemon's peer.
# (Its .d file adds the headers to $^: they are left off the link.)
$(BUILD)/bench/bench_dispatch: bench/bench_dispatch.c $(CLIENT_LIB) $(RUNTIME_LIB) $(KERNELS_LIB) \
		$(PROTO_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c %.a,$^) \
	  $(shell $(PKG_CONFIG) --libs libcjson libprotobuf-c) -lpthread -lm

# Kernel benchmarks link the peers (OpenBLAS, oneDNN) and nothing else links
# them. Each prints a table plus "JSON {...}" rows; the rows are gathered
# into $(BUILD)/bench/kernels.json.
BENCH_K_SRC := $(sort $(wildcard bench/kernels/bench_*.c))
BENCH_K_BIN  = $(patsubst bench/kernels/%.c,$(BUILD)/bench/%,$(BENCH_K_SRC))
BENCH_PEER_LIBS = -lopenblas -ldnnl
$(BUILD)/bench/bench_%: bench/kernels/bench_%.c bench/kernels/common.h $(KERNELS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -I/usr/include/x86_64-linux-gnu/openblas-pthread $(ALL_LDFLAGS) \
	  -o $@ $< $(KERNELS_LIB) $(BENCH_PEER_LIBS) -lpthread -lm

bench-kernels:
	@$(MAKE) -s deps
	@$(MAKE) $(BENCH_K_BIN)
	@mkdir -p $(BUILD)/bench; : > $(BUILD)/bench/kernels.json; \
	for b in $(BENCH_K_BIN); do \
	  OPENBLAS_NUM_THREADS=1 $$b > $(BUILD)/bench/last.out || exit 1; \
	  grep -v '^JSON ' $(BUILD)/bench/last.out; \
	  sed -n 's/^JSON //p' $(BUILD)/bench/last.out >> $(BUILD)/bench/kernels.json; \
	done; echo "JSON rows: $(BUILD)/bench/kernels.json"

# ONNX Runtime for bench-models: npm's onnxruntime-node, scripts not run,
# in a cache outside the repository; skipped when node is missing.
ORT_DIR ?= $(HOME)/.cache/hwoptd-ort
ORT_VERSION ?= 1.30
bench-models: $(BIN)/hwopt-run
	@if command -v npm >/dev/null && [ ! -d $(ORT_DIR)/node_modules/onnxruntime-node ]; then \
	  mkdir -p $(ORT_DIR) && cd $(ORT_DIR) && \
	  npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@$(ORT_VERSION) >/dev/null || \
	  echo "bench-models: npm install of onnxruntime-node failed"; fi
	$(PYTHON) bench/models.py $(BIN)/hwopt-run $(BUILD)/bench/models $(ORT_DIR)

bench: bench-daemon bench-kernels bench-models bench-dispatch bench-telemetry bench-policy

# What a policy decision costs: replayed over a synthetic hour, and live on
# the laptop fixture beside the telemetry sample it reads.
bench-policy: $(BIN)/hwoptd
	$(PYTHON) bench/policy.py --hwoptd $(BIN)/hwoptd --json $(BUILD)/bench/policy.json

# What telemetry costs: per-source sample time, idle CPU over 60 s at 1 Hz
# and scrape latency, beside Debian's node_exporter (installed here: a
# benchmark peer, not a build or test dependency). JSON rows in
# $(BUILD)/bench/telemetry.json.
BENCH_IDLE_SECONDS ?= 60
bench-telemetry: $(BIN)/hwoptd
	@dpkg-query -W -f='$${Status}' prometheus-node-exporter 2>/dev/null | grep -q 'ok installed' || \
	  { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q prometheus-node-exporter || \
	    echo "bench-telemetry: node_exporter not installed; measuring hwoptd alone"; }
	$(PYTHON) bench/telemetry.py --hwoptd $(BIN)/hwoptd --out-dir $(BUILD)/bench/telemetry \
	  --json $(BUILD)/bench/telemetry.json --idle-seconds $(BENCH_IDLE_SECONDS)

# What dispatch through hwoptd costs against in-process runs, a socket echo
# and ONNX Runtime processes (installed as for bench-models); JSON rows in
# $(BUILD)/bench/dispatch.json.
bench-dispatch: $(BIN)/hwoptd $(BIN)/hwopt-run $(BUILD)/bench/bench_dispatch
	@if command -v npm >/dev/null && [ ! -d $(ORT_DIR)/node_modules/onnxruntime-node ]; then \
	  mkdir -p $(ORT_DIR) && cd $(ORT_DIR) && \
	  npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@$(ORT_VERSION) >/dev/null || \
	  echo "bench-dispatch: npm install of onnxruntime-node failed"; fi
	$(PYTHON) bench/dispatch.py --hwoptd $(BIN)/hwoptd --hwopt-run $(BIN)/hwopt-run \
	  --bench $(BUILD)/bench/bench_dispatch --out-dir $(BUILD)/bench/dispatch \
	  --json $(BUILD)/bench/dispatch.json --ort-dir $(ORT_DIR)

bench-daemon: $(BIN)/hwoptd $(BUILD)/bench/bench_rpc
	HWOPTD=$(BIN)/hwoptd BENCH_RPC=$(BUILD)/bench/bench_rpc bench/daemon.sh

clean:
	rm -rf build build-san build-arm bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
