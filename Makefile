# libgpatch — non-recursive build. `make` builds build/libgpatch.so and the
# load generator `gpatch compare` uses (build/bench/loadgen);
# `make demo`, `make check`, `make bench`, `make install PREFIX=…`.
# CONTEXT=ucontext builds without the assembly switch. SAN=1 builds with
# AddressSanitizer and UBSan into build-asan/ (make check-asan does this),
# SAN=tsan with ThreadSanitizer into build-tsan/ (make check-tsan).
# DEBUG=1 adds the runtime's hot-path checks (on in the sanitizer builds).

PREFIX ?= /usr/local
CONTEXT ?= asm
SAN ?= 0
B ?= $(if $(filter 1,$(SAN)),build-asan,$(if $(filter tsan,$(SAN)),build-tsan,build))

CC ?= cc
ARCH := $(shell uname -m)
PKGS := libuv libunwind
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
comma := ,
SANFLAGS := $(if $(filter 1,$(SAN)),-fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined) \
  $(if $(filter tsan,$(SAN)),-fsanitize=thread)
# Link-time optimization, but for the sanitizer builds: the create + join
# path runs through core's and shim's files (switch, park, wake, release),
# and inlining across them took thread_create from 1.15x to 1.01x a3521cf's
# time with one scheduler (README, Performance). Fat objects: the unit tests
# link the core's archive either way. LTO= builds without.
LTO ?= $(if $(filter 0,$(SAN)),-flto=auto -ffat-lto-objects)
ALL_CFLAGS = -std=gnu11 -fPIC -fvisibility=hidden -pthread $(WARN) \
  $(PKG_CFLAGS) $(SANFLAGS) $(if $(filter ucontext,$(CONTEXT)),-DGP_FORCE_UCONTEXT) \
  $(if $(filter 1,$(DEBUG)),-DGP_DEBUG) $(LTO) \
  -Iinclude $(CFLAGS)
LIBS = $(PKG_LIBS) -ldl -pthread

ARCH_SRC := arch/ctx.c arch/ucontext.c
ifneq ($(CONTEXT),ucontext)
ifneq ($(wildcard arch/$(ARCH)/switch.S),)
ARCH_SRC += arch/$(ARCH)/switch.S
endif
endif
CORE_SRC := $(wildcard core/*.c)
SHIM_SRC := $(wildcard shim/*.c)
LIB_SRC := $(ARCH_SRC) $(CORE_SRC) $(SHIM_SRC)
obj = $(patsubst %,$(B)/obj/%.o,$(1))
LIB_OBJ := $(call obj,$(LIB_SRC))
CORE_OBJ := $(call obj,$(ARCH_SRC) $(CORE_SRC))
# core/ sees its own structs (GP__CORE); shim/ sees only their names.
$(CORE_OBJ): ALL_CFLAGS += -DGP__CORE

LIB := $(B)/libgpatch.so
DEPS_STAMP := build/.deps-ok

UNIT_SRC := $(wildcard test/unit/test_*.c)
UNIT_BIN := $(patsubst test/unit/%.c,$(B)/test/%,$(UNIT_SRC))
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLE_BIN := $(patsubst examples/%.c,$(B)/examples/%,$(EXAMPLE_SRC))
SHIM_TEST_SRC := $(wildcard test/shim/[dp]_*.c)
SHIM_TEST_BIN := $(patsubst test/shim/%.c,$(B)/shim/%,$(SHIM_TEST_SRC))
BENCH_SRC := $(wildcard test/bench/bench_*.c)
BENCH_BIN := $(patsubst test/bench/%.c,$(B)/bench/%,$(BENCH_SRC))
# The I/O benchmark's echo server and load generator: plain programs.
IO_BENCH_BIN := $(B)/bench/epoll_echo $(B)/bench/loadgen
# The threads benchmark's plain pthreads programs and idle-connection client.
THREADS_BENCH_BIN := $(B)/bench/thread_create $(B)/bench/sleepers \
  $(B)/bench/holdconns $(B)/bench/cpu_srv $(B)/bench/stdio_echo

.PHONY: all deps check check-unit check-asan check-tsan check-valgrind \
  check-aarch64 \
  check-ucontext demo bench install uninstall format format-files clean examples tests

all: $(LIB) $(B)/bench/loadgen

# Installs what a fresh Debian machine lacks (apt-get only when needed).
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps
	@scripts/deps
	@mkdir -p build && touch $@

$(B)/obj/%.c.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.S.o: %.S | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ) gpatch.map
	$(CC) -shared $(SANFLAGS) $(LTO) $(CFLAGS) -Wl,--version-script=gpatch.map \
	  -Wl,-soname,libgpatch.so -Wl,-z,noexecstack -o $@ $(LIB_OBJ) $(LIBS)

$(B)/libgpatch-core.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Unit tests link the core statically (they test internal functions too).
$(B)/test/%: test/unit/%.c $(B)/libgpatch-core.a test/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fno-lto -DGP__CORE -Icore -o $@ $< \
	  $(B)/libgpatch-core.a $(shell pkg-config --libs cmocka) $(LIBS) -lm

$(B)/examples/%: examples/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B) -lgpatch -Wl,-rpath,'$$ORIGIN/..' $(LIBS)

# thread_echo knows nothing of libgpatch: built plain, run preloaded.
$(B)/examples/thread_echo: examples/thread_echo.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -pthread $(WARN) -o $@ $<

$(B)/bench/%: test/bench/%.c $(B)/libgpatch-core.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DGP__CORE -Icore -o $@ $< $(B)/libgpatch-core.a $(LIBS) \
	  $(if $(wildcard /usr/lib/*/libboost_context.so),-DHAVE_BOOST_CONTEXT -lboost_context)

# Plain epoll programs for scripts/bench-io: no libgpatch, always -O2.
$(IO_BENCH_BIN): $(B)/bench/%: test/bench/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -o $@ $<

# Plain pthreads programs for scripts/bench-threads, run as they are and
# preloaded: no libgpatch, always -O2.
$(THREADS_BENCH_BIN): $(B)/bench/%: test/bench/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -pthread $(WARN) -o $@ $<

# Differential test programs: built without libgpatch (it is preloaded).
# A d_fortify_* program is built with _FORTIFY_SOURCE, as distributions do;
# a *_fexceptions one with -fexceptions.
$(B)/shim/%: test/shim/%.c $(wildcard test/shim/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -g -pthread $(WARN) $(if $(findstring fortify,$*),-O2 -D_FORTIFY_SOURCE=2,-O1) \
	  $(if $(findstring fexceptions,$*),-fexceptions) \
	  -o $@ $< -ldl -lm

# d_sud_uring links liburing when its headers are there (scripts/deps
# installs liburing-dev); without, it says so, plain and patched alike.
HAVE_LIBURING := $(shell pkg-config --exists liburing 2>/dev/null && echo 1)
$(B)/shim/d_sud_uring: test/shim/d_sud_uring.c test/shim/compat.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -g -O1 -pthread $(WARN) \
	  $(if $(HAVE_LIBURING),-DHAVE_LIBURING) -o $@ $< \
	  $(if $(HAVE_LIBURING),-luring) -ldl

# d_ctor links libctor.so, whose constructor calls interposed functions
# before libgpatch's constructors have necessarily run.
$(B)/shim/libctor.so: test/shim/ctorlib.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -g -O1 -fPIC -shared $(WARN) -o $@ $<

$(B)/shim/d_ctor: test/shim/d_ctor.c test/shim/compat.h $(B)/shim/libctor.so
	$(CC) -std=gnu11 -g -O1 -pthread $(WARN) -o $@ $< \
	  -L$(B)/shim -lctor -Wl,-rpath,'$$ORIGIN' -ldl

examples: $(EXAMPLE_BIN)
tests: $(LIB) $(UNIT_BIN) $(EXAMPLE_BIN) $(SHIM_TEST_BIN) $(B)/bench/loadgen

check: tests
	@B=$(B) FULL=1 scripts/runtests

check-unit: $(UNIT_BIN)
	@B=$(B) scripts/runtests unit

# (B is named: make check passes B=build in the environment, which would
# otherwise win over the sanitizer's directory.)
check-asan:
	@$(MAKE) --no-print-directory SAN=1 OPT=-O1 B=build-asan check-unit

# The unit tests of the runtime's concurrent parts under ThreadSanitizer
# (told about every context switch through its fiber API).
TSAN_TESTS := test_mn test_event test_coro
check-tsan:
	@$(MAKE) --no-print-directory SAN=tsan OPT=-O1 B=build-tsan \
	  $(patsubst %,build-tsan/test/%,$(TSAN_TESTS))
	@B=build-tsan TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  scripts/runtests unit $(TSAN_TESTS)

check-valgrind: $(UNIT_BIN)
	@B=$(B) VALGRIND=1 scripts/runtests unit

check-ucontext:
	@$(MAKE) --no-print-directory CONTEXT=ucontext B=build-ucontext check-unit

# The arch tests, cross-compiled and run under qemu, when the tools exist.
check-aarch64:
	@scripts/aarch64-check

# What scripts/demo runs: the library, thread_echo and the load generator.
demo: $(LIB) $(B)/examples/thread_echo $(B)/bench/loadgen
	@B=$(B) scripts/demo

bench: $(LIB) $(BENCH_BIN) $(IO_BENCH_BIN) $(THREADS_BENCH_BIN) \
  $(EXAMPLE_BIN)
	@B=$(B) scripts/bench

# gpatch compare: scripts/gpatch-compare goes beside the launcher and the
# load generator into $(PREFIX)/lib/gpatch, where the launcher looks for it.
install: $(LIB) $(B)/bench/loadgen
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/lib/gpatch
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libgpatch.so
	install -m 644 include/gpatch.h $(DESTDIR)$(PREFIX)/include/gpatch.h
	sed 's|@LIBDIR@|$(PREFIX)/lib|' scripts/gpatch > $(DESTDIR)$(PREFIX)/bin/gpatch
	chmod 755 $(DESTDIR)$(PREFIX)/bin/gpatch
	install -m 755 scripts/gpatch-compare $(DESTDIR)$(PREFIX)/bin/gpatch-compare
	install -m 755 $(B)/bench/loadgen $(DESTDIR)$(PREFIX)/lib/gpatch/gpatch-load
	sed 's|@PREFIX@|$(PREFIX)|' gpatch.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gpatch.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libgpatch.so $(DESTDIR)$(PREFIX)/include/gpatch.h \
	  $(DESTDIR)$(PREFIX)/bin/gpatch $(DESTDIR)$(PREFIX)/lib/pkgconfig/gpatch.pc \
	  $(DESTDIR)$(PREFIX)/bin/gpatch-compare \
	  $(DESTDIR)$(PREFIX)/lib/gpatch/gpatch-load
	-rmdir $(DESTDIR)$(PREFIX)/lib/gpatch 2>/dev/null

FORMAT_FILES = $(wildcard arch/*.[ch] core/*.[ch] shim/*.[ch] include/*.h \
  test/unit/*.[ch] test/bench/*.c test/shim/*.[ch] examples/*.c)
format:
	@command -v clang-format >/dev/null || \
	  { echo "make format needs clang-format (apt-get install clang-format)"; exit 1; }
	clang-format -i $(FORMAT_FILES)
# (test/unit/test_format.sh checks the same files.)
format-files:
	@echo $(FORMAT_FILES)

clean:
	rm -rf build build-asan build-tsan build-ucontext build-aarch64

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
