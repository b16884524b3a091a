# dmpd - build, test, install.  GNU make; safe with -j.
#
#   make                 bin/pdata_tools and one symlink per tool in bin/
#   make test            unit and functional tests, then "N passed, N failed"
#   make demo            build, then run the tools on a bundled example
#   make bench           benchmarks against the reference tools
#   make bench-big       a 16 GiB pool, warm and cold cache (BIG_GIB=)
#   make bench-big-ref   the same at 2 GiB with the reference beside ours
#   make kernel-test     the real kernel (in a VM) reads what our tools wrote
#   make lvm-test        LVM2 (in a VM) drives our tools
#   make fuzz            libFuzzer targets (clang), FUZZ_TIME seconds each
#   make fuzz-fields     every field of every structure mutated (the full table)
#   make install         PREFIX=/usr/local DESTDIR= SBINDIR=$(PREFIX)/sbin
#   make deb             a Debian package replacing thin-provisioning-tools
#   make deb-test        that package installed beside lvm2 in a chroot
#   make STATIC=1        a fully static binary
#   make SANITIZE=1 BUILD=asan test         all tests under ASan+UBSan
#   make tsan            the threaded code under ThreadSanitizer (tsan/)
#   make clean

BUILD ?= .
OBJDIR := $(BUILD)/obj
BINDIR := $(BUILD)/bin

CXX ?= g++
CXXSTD := -std=c++20
OPT ?= -O2 -g
WERROR ?= 1
WARN := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
CPPFLAGS += -I. -MMD -MP
CXXFLAGS += $(CXXSTD) $(OPT) $(WARN) -pthread
LDFLAGS += -pthread

# The fuzz build: clang, libFuzzer instrumentation, ASan and UBSan.
ifeq ($(FUZZ),1)
override CXX := clang++
CXXFLAGS += -Wno-error -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=fuzzer,address,undefined
endif

# (GCC's maybe-uninitialized warning misfires on libstdc++'s <regex> under
# the sanitizers at -O1; the normal build keeps it.)
ifeq ($(SANITIZE),1)
CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -Wno-maybe-uninitialized
LDFLAGS += -fsanitize=address,undefined
endif
# ThreadSanitizer (make tsan): the threaded readers, the XML reader's two
# threads, the count feeder.
ifeq ($(SANITIZE),thread)
CXXFLAGS += -fsanitize=thread -fno-omit-frame-pointer -Wno-maybe-uninitialized
LDFLAGS += -fsanitize=thread
endif

# Boost and expat are linked statically so the installed binary needs only
# libc, libstdc++ and libgcc at run time (it is copied into initramfs images).
STATIC_LIBS := -lboost_program_options -lboost_iostreams -lexpat -lz -lbz2
ifeq ($(STATIC),1)
LDFLAGS += -static
TOOL_LIBS := $(STATIC_LIBS)
else
TOOL_LIBS := -Wl,-Bstatic $(STATIC_LIBS) -Wl,-Bdynamic
endif
TEST_LIBS := -lgmock -lgtest_main -lgtest

LIB_DIRS := base persistent-data thin-provisioning caching era snapshot dev-tools
LIB_SRC := $(sort $(wildcard $(addsuffix /*.cc,$(LIB_DIRS))))
LIB_OBJ := $(LIB_SRC:%.cc=$(OBJDIR)/%.o)
UNIT_SRC := $(sort $(wildcard unit-tests/*.cc))
FUZZ_TARGETS := $(notdir $(basename $(wildcard unit-tests/fuzz/*.cc)))
UNIT_OBJ := $(UNIT_SRC:%.cc=$(OBJDIR)/%.o)
FUNC_SRC := $(sort $(wildcard functional-tests/*.cc))
FUNC_OBJ := $(FUNC_SRC:%.cc=$(OBJDIR)/%.o)
MAIN_OBJ := $(OBJDIR)/main.o $(OBJDIR)/tool_registry.o

LIB := $(OBJDIR)/libdmpd.a
PDATA := $(BINDIR)/pdata_tools
UNIT := $(BINDIR)/unit-tests
FUNC := $(BINDIR)/functional-tests
DEPS_OK := $(OBJDIR)/.deps-build
TEST_DEPS_OK := $(OBJDIR)/.deps-test

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
DRACUTDIR ?= $(PREFIX)/lib/dracut

.PHONY: bench-big-ref tsan tsan-run all test unit-test functional-test demo bench bench-big kernel-test lvm-test deb-test fuzz-fields fuzz fuzz-build install install-files deb uninstall clean links
.DELETE_ON_ERROR:

all: links

$(DEPS_OK): build-aux/deps.sh
	@mkdir -p $(@D)
	@build-aux/deps.sh build
	@touch $@

# (After the build's: two apt-get runs at once under -j2 fight over the lock.)
$(TEST_DEPS_OK): build-aux/deps.sh $(DEPS_OK)
	@mkdir -p $(@D)
	@build-aux/deps.sh test
	@touch $@

$(OBJDIR)/%.o: %.cc | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(UNIT_OBJ) $(FUNC_OBJ): | $(TEST_DEPS_OK)

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(PDATA): $(MAIN_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(TOOL_LIBS)

# One symlink per tool; the binary itself is the authority on the list.
links: $(PDATA)
	@for t in $$($(PDATA) --list); do ln -sf pdata_tools $(BINDIR)/$$t; done

$(UNIT): $(UNIT_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(TOOL_LIBS)

$(FUNC): $(FUNC_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) -lcrypto $(TOOL_LIBS)

unit-test: $(UNIT)
	build-aux/run-tests.sh $(UNIT)

functional-test: links $(FUNC)
	DMPD_BIN=$(abspath $(BINDIR)) DMPD_SRC=$(abspath .) build-aux/run-tests.sh $(FUNC)

test: links $(UNIT) $(FUNC)
	DMPD_BIN=$(abspath $(BINDIR)) DMPD_SRC=$(abspath .) build-aux/run-tests.sh $(UNIT) $(FUNC)

demo: links
	build-aux/demo.sh $(abspath $(BINDIR))

# The unit and functional tests and the thin tools on a 2M-mapping pool,
# built with ThreadSanitizer in tsan/ (build-aux/tsan.sh).
# TSAN_DRIVER=bin/functional-tests uses a driver already built: it only
# starts the tools, and compiling it under TSan is time CI need not spend.
tsan:
	$(MAKE) BUILD=tsan SANITIZE=thread OPT="-O1 -g" tsan-run

TSAN_DRIVER_PATH := $(if $(TSAN_DRIVER),$(abspath $(TSAN_DRIVER)),$(abspath $(FUNC)))
tsan-run: links $(UNIT) $(if $(TSAN_DRIVER),,$(FUNC))
	build-aux/tsan.sh $(abspath $(BINDIR)) $(abspath $(UNIT)) $(TSAN_DRIVER_PATH)

$(BINDIR)/fuzz-%: $(OBJDIR)/unit-tests/fuzz/%.o $(OBJDIR)/unit-tests/fuzz_targets.o $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(TOOL_LIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(BINDIR)/fuzz-%)

# Seeds come from our generator (the normal build); targets from the fuzz one.
fuzz: links
	build-aux/deps.sh fuzz
	$(MAKE) BUILD=fuzz FUZZ=1 fuzz-build
	build-aux/fuzz.sh $(abspath fuzz/bin) $(abspath $(BINDIR))

bench: links
	build-aux/bench.sh $(abspath $(BINDIR))

bench-big: links
	build-aux/bench-big.sh $(abspath $(BINDIR))

# The same at BIG_GIB (default 2) with the reference's rows beside ours.
bench-big-ref: links
	BIG_GIB=$(or $(BIG_GIB),2) BIG_REFERENCE=1 build-aux/bench-big.sh $(abspath $(BINDIR))

# Every field of every on-disk structure mutated, every mutation, on every
# fuzz image (make test runs a sample); the table goes to fuzz-fields.tsv.
fuzz-fields: links $(FUNC)
	build-aux/fuzz-fields.sh $(abspath $(BINDIR)) $(abspath $(FUNC)) $(abspath $(BUILD))/fuzz-fields.tsv

# The kernel (6.1, in qemu: ../shared/kernel-lab) opens metadata our restore
# tools wrote from the kernel fixtures' dumps; minutes, so not in `test`.
kernel-test: links
	build-aux/kernel-test.sh $(abspath $(BINDIR))

# LVM2 in the same VM drives our tools (LVM_WITH_REFERENCE=1: the reference's
# run beside ours); about 15 minutes, so not in `test`.
lvm-test: links
	build-aux/lvm-test.sh $(abspath $(BINDIR))

# The files a system install carries, from the binary in BINDIR_IN.
BINDIR_IN ?= $(BINDIR)
install-files:
	install -d $(DESTDIR)$(SBINDIR)
	install -m 755 $(BINDIR_IN)/pdata_tools $(DESTDIR)$(SBINDIR)/pdata_tools
	@for t in $$($(BINDIR_IN)/pdata_tools --list); do ln -sf pdata_tools $(DESTDIR)$(SBINDIR)/$$t; done
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 644 man8/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(DATADIR)/bash-completion/completions
	install -m 644 contrib/bash-completion/dmpd $(DESTDIR)$(DATADIR)/bash-completion/completions/dmpd
	@for t in $$($(BINDIR_IN)/pdata_tools --list); do ln -sf dmpd $(DESTDIR)$(DATADIR)/bash-completion/completions/$$t; done
	install -d $(DESTDIR)$(DATADIR)/initramfs-tools/hooks
	install -m 755 contrib/initramfs-tools/hooks/dmpd $(DESTDIR)$(DATADIR)/initramfs-tools/hooks/dmpd
	install -d $(DESTDIR)$(DRACUTDIR)/modules.d/90dmpd
	install -m 755 contrib/dracut/90dmpd/module-setup.sh $(DESTDIR)$(DRACUTDIR)/modules.d/90dmpd/module-setup.sh

install: links
	$(MAKE) --no-print-directory install-files

deb: links
	build-aux/make-deb.sh $(abspath $(BINDIR)) $(abspath $(BUILD))/deb

# The .deb in a Debian 12 chroot beside lvm2 (root; debootstrap, cached).
deb-test: links
	build-aux/deb-test.sh $(abspath $(BINDIR))

uninstall:
	@if [ -x $(DESTDIR)$(SBINDIR)/pdata_tools ]; then \
		for t in $$($(DESTDIR)$(SBINDIR)/pdata_tools --list); do \
			rm -f $(DESTDIR)$(SBINDIR)/$$t $(DESTDIR)$(MANDIR)/man8/$$t.8 \
			      $(DESTDIR)$(DATADIR)/bash-completion/completions/$$t; done; \
	fi
	rm -f $(DESTDIR)$(SBINDIR)/pdata_tools $(DESTDIR)$(DATADIR)/bash-completion/completions/dmpd \
	      $(DESTDIR)$(DATADIR)/initramfs-tools/hooks/dmpd $(DESTDIR)$(MANDIR)/man8/thin_metadata_unpack.8 \
	      $(DESTDIR)$(MANDIR)/man8/snap_restore.8
	rm -rf $(DESTDIR)$(DRACUTDIR)/modules.d/90dmpd

clean:
	rm -rf obj bin asan static fuzz

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(FUNC_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
