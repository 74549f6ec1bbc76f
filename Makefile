# SPDX-License-Identifier: MIT
# pocketvec: one Makefile for the library, the CLI, the tests and the benchmark.
#
#   make                 library + CLI into build/
#   make run             build, then run the demo on the embedded default dataset
#   make test            C unit, model and fault-injection tests
#   make test SANITIZE=address,undefined   the same under ASan + UBSan (build-san/)
#   make test SANITIZE=thread              the same under TSan (build-tsan/)
#   make bench           native benchmark -> bench/results/native.json
#   make bench-filter    filtered search by selectivity -> bench/results/filter.json
#   make bench-check     the callgrind regression gate (bench/baseline.json)
#   make bench-peers-smoke  the peer benchmark's harness on a small set; the
#                        benchmark itself: cd bench && npm run bench
#   make check           every test: C (gcc, sanitizers, clang), WASM and JS
#   make wasm            dist/pocketvec.wasm and the JS package (wasm/wasm.mk)
#   make fuzz-run        the loader, the API, attributes and filters under
#                        libFuzzer (fuzz/fuzz.mk)

CC       ?= cc
OPT      ?= -O2
SANITIZE ?=
WARN      = -std=c11 -Wall -Wextra -Werror -ffp-contract=off
CFLAGS   ?=
ALL_CFLAGS = $(WARN) $(OPT) -g -Iinclude -Isrc -Icommon $(CFLAGS)
# -pthread: the CLI's query --threads and tests/test_threads.c start threads.
LDLIBS    = -lm -pthread

ifneq ($(SANITIZE),)
  # TSan and ASan each claim the address space their own way: one at a time.
  ifneq ($(and $(findstring thread,$(SANITIZE)),$(findstring address,$(SANITIZE))),)
    $(error SANITIZE=$(SANITIZE): ThreadSanitizer cannot be combined with AddressSanitizer; run them one after the other)
  endif
  ifneq ($(findstring thread,$(SANITIZE)),)
    BUILD ?= build-tsan
    # TSan's runtime in GCC 12 and LLVM before 18 stops at "unexpected memory
    # mapping" on kernels that randomise more than 28 bits of mmap addresses
    # (vm.mmap_rnd_bits = 32 on recent distributions). Address randomisation
    # off fixes it; setarch -R does that for a process and its children,
    # where the container allows it (checked here, else tests run as usual).
    RUN := $(shell setarch $$(uname -m) -R true >/dev/null 2>&1 && echo setarch $$(uname -m) -R)
  else
    BUILD ?= build-san
  endif
  OPT = -O1
  ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=$(SANITIZE)
else
  BUILD ?= build
endif

ARCH := $(shell $(CC) -dumpmachine)
# The library, by module (docs/ARCHITECTURE.md); kernels/ holds one file
# per instruction set, added below for the machines that have it.
LIB_SRC = src/api.c src/api_doc.c src/api_text.c $(wildcard src/core/*.c) src/kernels/scalar.c $(wildcard src/store/*.c) \
          $(wildcard src/codec/*.c) $(wildcard src/graph/*.c) $(wildcard src/query/*.c) \
          $(wildcard src/persist/*.c) \
          $(wildcard src/doc/*.c) $(wildcard src/fidx/*.c) $(wildcard src/attr/*.c) $(wildcard src/filter/*.c) \
          $(wildcard src/text/*.c)
ifneq ($(findstring x86_64,$(ARCH))$(findstring i686,$(ARCH)),)
  LIB_SRC += src/kernels/avx2.c
endif
COMMON_SRC = $(wildcard common/*.c)
TEST_SRC   = $(wildcard tests/*.c)
CLI_SRC    = $(wildcard cli/*.c)

LIB_OBJ    = $(LIB_SRC:%.c=$(BUILD)/%.o)
COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ   = $(TEST_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    = $(CLI_SRC:%.c=$(BUILD)/%.o)
HEADERS    = include/pocketvec.h $(wildcard src/*.h src/*/*.h) $(wildcard common/*.h) $(wildcard tests/*.h)

.PHONY: all lib cli run test test-cli bench bench-filter bench-scale bench-check bench-baseline bench-peers-deps bench-peers-smoke check clean
all: lib cli
lib: $(BUILD)/libpocketvec.a
cli: $(BUILD)/pocketvec

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The CLI's own header: a struct of it that changes must rebuild every
# command (a stale object reads the old layout and crashes).
$(CLI_OBJ): $(wildcard cli/*.h)

# Only this file may contain AVX2 instructions; it is called after a CPU check.
$(BUILD)/src/kernels/avx2.o: src/kernels/avx2.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -mavx2 -mfma -c $< -o $@

$(BUILD)/libpocketvec.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pocketvec: $(CLI_OBJ) $(COMMON_OBJ) $(BUILD)/libpocketvec.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/test_pocketvec: $(TEST_OBJ) $(COMMON_OBJ) $(BUILD)/libpocketvec.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

run: cli
	./$(BUILD)/pocketvec demo

test: $(BUILD)/test_pocketvec
	$(RUN) ./$(BUILD)/test_pocketvec

# End-to-end tests of the command-line tool; need only bash and a C compiler.
test-cli: cli
	$(RUN) bash cli/test_cli.sh $(BUILD)/pocketvec

# The benchmark is always optimised, whatever OPT says.
$(BUILD)/bench_native: bench/bench_native.c $(COMMON_SRC) $(LIB_SRC) $(HEADERS)
	@$(MAKE) --no-print-directory OPT=-O3 BUILD=build-bench lib
	$(CC) $(WARN) -O3 -g -Iinclude -Isrc -Icommon bench/bench_native.c $(COMMON_SRC) \
	  build-bench/libpocketvec.a $(LDLIBS) -o $@

# The selectivity benchmark of filtered search (bench/bench_filter.c).
$(BUILD)/bench_filter: bench/bench_filter.c $(COMMON_SRC) $(LIB_SRC) $(HEADERS)
	@$(MAKE) --no-print-directory OPT=-O3 BUILD=build-bench lib
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O3 -g -Iinclude -Icommon bench/bench_filter.c $(COMMON_SRC) \
	  build-bench/libpocketvec.a $(LDLIBS) -o $@

bench-filter: $(BUILD)/bench_filter
	$(BUILD)/bench_filter

# The scale benchmark (bench/scale/run.mjs; not in CI: building a 1M x 768
# set takes about 25 minutes the first time): its data generator streams
# (a 3 GB .npy is never whole in memory).
$(BUILD)/scale/gen_scale: bench/scale/gen_scale.c common/datagen.c common/datagen.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O3 -ffp-contract=off -Icommon bench/scale/gen_scale.c common/datagen.c -lm -lpthread -o $@

bench-scale: $(BUILD)/scale/gen_scale $(BUILD)/pocketvec wasm
	node bench/scale/run.mjs

# One contestant of the peer benchmark (bench/peers/run.mjs, npm run bench).
$(BUILD)/peer_native: bench/peer_native.c common/stats.c $(LIB_SRC) $(HEADERS)
	@$(MAKE) --no-print-directory OPT=-O3 BUILD=build-bench lib
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O3 -g -Iinclude -Icommon bench/peer_native.c common/stats.c build-bench/libpocketvec.a $(LDLIBS) -o $@

# The peers, from bench/'s lock file. They are optionalDependencies: npm
# goes on when one fails to install, and the benchmark reports it missing.
bench/node_modules/.installed: bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench-peers-deps: bench/node_modules/.installed $(BUILD)/peer_native

# The peer harness itself on a small set (not a benchmark: it checks that
# every contestant runs or is recorded as failed, and the report is made).
bench-peers-smoke: wasm bench-peers-deps
	cd bench && node peers/run.mjs --smoke

bench: $(BUILD)/bench_native
	./$(BUILD)/bench_native $(BENCH_ARGS)

# The regression gate: instructions per query of a fixed search workload,
# counted by callgrind (repeatable on a shared machine, unlike seconds),
# against bench/baseline.json. bench-baseline rewrites the baseline: commit
# it on purpose.
$(BUILD)/bench_check: bench/bench_check.c $(COMMON_OBJ) $(BUILD)/libpocketvec.a
	$(CC) $(ALL_CFLAGS) $^ $(LDFLAGS) $(LDLIBS) -o $@

# A native A/B's program (bench/results/prefetch-ab.md); bench-check
# builds it so that it keeps compiling.
$(BUILD)/ab_native: bench/ab_native.c $(COMMON_OBJ) $(BUILD)/libpocketvec.a
	$(CC) $(ALL_CFLAGS) $^ $(LDFLAGS) $(LDLIBS) -o $@

bench-check: $(BUILD)/bench_check $(BUILD)/ab_native
	bash scripts/check-prefetch.sh $(BUILD)
	node bench/check.mjs $(BUILD)/bench_check

bench-baseline: $(BUILD)/bench_check
	node bench/check.mjs $(BUILD)/bench_check --update

# What the README's test command and CI run: install what is missing (the
# wasm32 toolchain), the C tests with gcc, the same under ASan + UBSan,
# then under TSan (tests/test_threads.c and query --threads search one
# index from several threads), everything again built by clang, the WASM
# build and the JS package (in Node, in headless Chromium, and through
# Vite), then the loader fuzzed for FUZZ_SECONDS (60) under ASan + UBSan,
# and the API, attributes and filters for shorter times.
check:
	bash scripts/install-deps.sh
	$(MAKE) --no-print-directory test test-cli
	$(MAKE) --no-print-directory test test-cli SANITIZE=address,undefined
	$(MAKE) --no-print-directory test test-cli SANITIZE=thread BUILD=build-tsan
	$(MAKE) --no-print-directory CC=clang BUILD=build-clang all test test-cli
	$(MAKE) --no-print-directory test-js test-browser vite-example
	$(MAKE) --no-print-directory fuzz-run bench-check bench-peers-smoke

clean:
	rm -rf build build-san build-tsan build-bench build-clang
include wasm/wasm.mk
include fuzz/fuzz.mk

# The text benchmark (bench/text/README.md): pocketvec's BM25 and hybrid
# search against minisearch, flexsearch and Orama, on the GCIDE dictionary
# (Debian's dict-gcide) and the SAP Fiori docs with their MiniLM vectors.
# bench-text writes bench/results/text.json and bench/text/REPORT-text.md:
# run it on an idle machine. bench-text-smoke checks the harness on tiny
# sizes in under a minute and fails only when the harness is broken.
.PHONY: bench-text bench-text-smoke bench-text-deps
bench/text/node_modules/.installed: bench/text/package.json bench/text/package-lock.json
	cd bench/text && npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench-text-deps: bench/text/node_modules/.installed

bench-text: wasm bench-text-deps
	node bench/text/data.mjs
	node bench/text/bench_text.mjs

# The same data through the C library, natively, for profiling (perf).
$(BUILD)/bench_text_native: bench/text/bench_text_native.c $(LIB_SRC) $(HEADERS)
	@$(MAKE) --no-print-directory OPT=-O3 BUILD=build-bench lib
	$(CC) $(WARN) -O3 -g -Iinclude bench/text/bench_text_native.c \
	  build-bench/libpocketvec.a $(LDLIBS) -o $@

bench-text-smoke: wasm bench-text-deps
	node bench/text/data.mjs
	node bench/text/bench_text.mjs --smoke
