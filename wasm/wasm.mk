# SPDX-License-Identifier: MIT
# pocketvec: the WebAssembly build and the JS package. Included from the top
# Makefile (`include wasm/wasm.mk`), whose LIB_SRC, WARN, HEADERS, BUILD,
# CC and LDLIBS it uses.
#
#   make wasm            dist/pocketvec.wasm (+ a copy in js/ for the package)
#                        and js/pocketvec.js, the package's bundled JS
#   make test-js         the JS package's tests (node --test), the size budget,
#                        and npm pack installed into a fresh directory
#   make wasm-size       gzip -9 sizes of the .wasm and the JS glue, vs budget
#   make wasm-deps       install the Debian packages the build needs
#   make test-browser    the package in headless Chromium (needs chromium):
#                        cd js && npm run test:browser
#
# Toolchain: clang-14's wasm32 target and wasm-ld (no emscripten), Binaryen's
# wasm-opt after the link, libc from
# Debian's wasi-libc, builtins from libclang-rt-14-dev-wasm32 (found by the
# clang driver in its resource directory). No WASI function is called at run
# time: the module imports one function only, env.decimal, the host's
# decimal-to-double (PV_HOST_DECIMAL below; js/test checks the import
# section).
#
# Read at most once, so `make -f Makefile -f wasm/wasm.mk` (what js/'s npm
# scripts run) works whether or not the top Makefile includes this file.
ifndef PV_WASM_MK
PV_WASM_MK := 1

WASM_CC     ?= clang-14
WASM_BUILD  ?= build-wasm
WASM_TARGET  = --target=wasm32-wasi
WASM_CFLAGS  = $(WASM_TARGET) $(WARN) -O3 -msimd128 -mbulk-memory \
               -ffunction-sections -fdata-sections -Iinclude -Isrc \
               -DPV_OMIT_JSON -DPV_HOST_DECIMAL -DPV_TERSE_NULL -DPV_HEAP_OUTLINE
# PV_HOST_DECIMAL: the filter language's numbers are converted to doubles by
# the host (src/attr/num.c, js/src/wasm.js: JS's Number() is correctly
# rounded too) instead of by our big-integer code: 1.2 KB gzip less.
# PV_TERSE_NULL: one message for every NULL argument the API rejects
# (src/core/core.h; the JS never passes one): 176 B gzip less.
# PV_HEAP_OUTLINE: the heap functions of src/core/heap.h out of line, one
# copy in heap.c, not one inlined per caller: 190 B gzip less.
# The size budget (.wasm + JS glue <= 40 KB gzip, for every feature of the
# database to come) is kept by building everything but the hand-written
# kernels for size (-Oz, no unrolling, no auto-vectoriser). That saves about 2.3 KB gzip against -O3; the code it
# affects (validation, encoding, the graph walk) is bound by memory or O(dim)
# per call, and the distance kernels, where the time goes, keep full -O3.
# Measured on 10k x 384 under Node: build and search times within noise.
# These objects are also LLVM bitcode (-flto), optimised again as one at
# the link: calls across files inline or fold (pvw_search takes in
# pv__search, small helpers shared by two files lose their copies), 32 B
# gzip less, and each function keeps its -Oz (minsize) attribute through
# the link's pipeline. ThinLTO was tried: 0.8 KB gzip more.
# simd128.c stays an ordinary -O3 object.
WASM_SMALL   = -Oz -fno-unroll-loops -fno-vectorize -fno-slp-vectorize -flto
# A reactor: crt1-reactor.o defines _initialize, which JS calls once; no
# _start, and no per-export ctor/dtor wrappers as a "command" would get.
# Exports are named explicitly, everything else is garbage-collected. The
# memory is exported ("memory") and grows when malloc asks for more, up to
# the wasm32 ceiling of 4 GiB.
WASM_LDFLAGS = $(WASM_TARGET) -mexec-model=reactor -Wl,--no-entry -Wl,--gc-sections \
               -Wl,--max-memory=4294967296 -Wl,-z,stack-size=65536 -Wl,--global-base=1024
WASM_EXPORTS = malloc free pv_free pv_errmsg pv_errcode pv_count pv_deleted_count \
               pv_memory_usage pv_contains pv_delete pv_compact pv_check pv_version \
               pv_kernels_name pv_lookup pv_delete_key pv_get_key pv_get_attributes_encoded \
               pv_set_attributes pv_filter_compile pv_filter_free pv_find pv_fields pv_log_start \
               pv_batch_commit pv_batch_free
WASM_EXPORT_FLAGS = $(addprefix -Wl$(comma)--export=,$(WASM_EXPORTS))
comma := ,

WASM_LIB_SRC = $(filter-out src/kernels/avx2.c,$(LIB_SRC)) src/kernels/simd128.c
WASM_LIB_OBJ = $(WASM_LIB_SRC:%.c=$(WASM_BUILD)/%.o)
# Our malloc/free/realloc/calloc (wasm/alloc.c), linked into every module
# in place of wasi-libc's dlmalloc: 1.1 KB of code instead of 12 KB (and
# libc's memcpy goes too), 4 KB less after gzip.
WASM_ALLOC_OBJ = $(WASM_BUILD)/wasm/alloc.o
# Objects depend on this file too, so a change of flags rebuilds them.
WASM_HEADERS = $(HEADERS) $(wildcard wasm/*.h) wasm/wasm.mk

.PHONY: wasm wasm-deps wasm-size test-js test-js-deps js-pack-test test-browser vite-example clean-wasm

wasm: dist/pocketvec.wasm js/pocketvec.wasm js/pocketvec.js js/LICENSE

wasm-deps:
	bash scripts/install-deps.sh

$(WASM_BUILD)/%.o: %.c $(WASM_HEADERS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) $(WASM_SMALL) -c $< -o $@

$(WASM_BUILD)/src/kernels/simd128.o: src/kernels/simd128.c $(WASM_HEADERS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) -c $< -o $@

# The text search's inner loops (posting decoding, scoring, MaxScore) are
# where a text query's time goes, like the distance kernels for vectors:
# built for speed.
$(WASM_BUILD)/src/text/bm25.o: WASM_SMALL = -O2 -flto

# No builtins in the allocator: the compiler must not treat its malloc as
# libc's (e.g. turn calloc's malloc + memset into a call to calloc).
$(WASM_BUILD)/wasm/alloc.o: WASM_SMALL += -fno-builtin

# After linking, Binaryen's wasm-opt shrinks the module further (about
# 0.9 KB gzip): it keeps IEEE float semantics, and the tests check the
# results stay bit-identical to the native library's.
#   --low-memory-unused: nothing lives below address 1024 (the data starts
#     at --global-base=1024, the stack and the heap above it: js/test's
#     binary test checks), so a constant under 1024 added to a pointer can
#     move into the load's or store's offset field: x + c cannot wrap to a
#     real address. 0.55 KB gzip less.
#   --converge: the passes again until the module stops shrinking, 0.1 KB.
WASM_OPT_FEATURES = --enable-simd --enable-bulk-memory --enable-sign-ext \
                    --enable-mutable-globals --enable-nontrapping-float-to-int
WASM_OPT = wasm-opt -Oz --converge --low-memory-unused $(WASM_OPT_FEATURES)

# Linked and optimised once, with the name section kept: the tests use it
# to tell which function is which in the shipped module, whose code is the
# same byte for byte.
$(WASM_BUILD)/pocketvec.names.wasm: $(WASM_LIB_OBJ) $(WASM_ALLOC_OBJ) $(WASM_BUILD)/wasm/exports.o
	@mkdir -p $(WASM_BUILD)
	$(WASM_CC) $(WASM_LDFLAGS) -Wl,--strip-debug $(WASM_EXPORT_FLAGS) $^ -o $(WASM_BUILD)/pocketvec.linked.wasm
	$(WASM_OPT) -g $(WASM_BUILD)/pocketvec.linked.wasm -o $@

# The shipped module: the same, stripped of names, debug info and producers.
dist/pocketvec.wasm: $(WASM_BUILD)/pocketvec.names.wasm
	@mkdir -p $(dir $@)
	node scripts/wasm-strip.mjs $< $@

# The kernels one by one, for the scalar-vs-simd128 test.
$(WASM_BUILD)/kernels_test.wasm: $(WASM_LIB_OBJ) $(WASM_ALLOC_OBJ) $(WASM_BUILD)/wasm/test/kernels_test.o
	$(WASM_CC) $(WASM_LDFLAGS) -Wl,--export=malloc -Wl,--export=free \
	  -Wl,--export=pv_kernels_name $^ -o $@

# The allocator alone, for js/test/alloc.test.mjs: realloc, calloc, the
# heap checker and the file's strlen exported too.
$(WASM_BUILD)/alloc_test.wasm: $(WASM_ALLOC_OBJ)
	$(WASM_CC) $(WASM_LDFLAGS) $(addprefix -Wl$(comma)--export=,malloc free realloc calloc \
	  pv__alloc_check strlen) $^ -o $@

js/pocketvec.wasm: dist/pocketvec.wasm
	cp $< $@

# npm packs the LICENSE of the package's own directory; the one file is the root's.
js/LICENSE: LICENSE
	cp $< $@

# The package's dev dependencies (esbuild, fake-indexeddb), from the lock file.
js/node_modules/.installed: js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The package ships one ESM file, js/pocketvec.js, bundled from index.js
# and src/ (JS_SRC), readable where it matters:
#   - top-level names kept: terser shortens only locals and parameters
#     (0.8 KB gzip), so stack traces and the console still say Index.add
#     and PocketVecError, not h.add and F. (esbuild's
#     --keep-names is left out: it would wrap every function in a __name()
#     call, 0.3 KB gzip, to pin names that bundling renames only on a clash
#     between modules; js/test/bundle.test.mjs checks there is none.)
#   - lines of about 160 columns, so Node quoting the line an uncaught
#     error came from prints that line, not the whole bundle;
#   - a source map, pocketvec.js.map (shipped, sources inside), which
#     `node --enable-source-maps` and browsers' devtools follow back to
#     src/*.js.
# Whitespace and syntax are minified: that keeps .wasm + JS within the
# size budget (scripts/size-budget.sh). Node's modules stay imports
# (--external), loaded at run time under Node only. The suite runs the
# sources; the bundle test, the pack smoke test, the Vite example and the
# tests that need a fresh copy of the package run what ships.
JS_SRC = js/index.js $(wildcard js/src/*.js js/src/*/*.js)

js/pocketvec.js: $(JS_SRC) js/node_modules/.installed
	js/node_modules/.bin/esbuild js/index.js --bundle --external:'node:*' --format=esm \
	  --target=es2022 --minify-whitespace --minify-syntax --line-limit=160 --sourcemap \
	  --legal-comments=none --log-level=warning --outfile=js/pocketvec.esbuild.js
	js/node_modules/.bin/terser js/pocketvec.esbuild.js --mangle --format max_line_len=160 \
	  --source-map "content='js/pocketvec.esbuild.js.map',url='pocketvec.js.map',includeSources" -o $@
	echo >> $@
	rm -f js/pocketvec.esbuild.js js/pocketvec.esbuild.js.map

# Native reference for the WASM-vs-native test: same library, built natively.
$(BUILD)/pv_native_ref: wasm/test/native_ref.c $(BUILD)/libpocketvec.a
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/libpocketvec.a $(LDFLAGS) $(LDLIBS) -o $@

# Everything js/test needs (npm test runs this first, as its pretest).
test-js-deps: wasm js/node_modules/.installed $(WASM_BUILD)/pocketvec.names.wasm $(WASM_BUILD)/kernels_test.wasm \
              $(WASM_BUILD)/alloc_test.wasm $(BUILD)/pv_native_ref $(BUILD)/pocketvec

wasm-size: wasm
	bash scripts/size-budget.sh

js-pack-test: wasm
	bash scripts/pack-smoke.sh

# npm test's pretest runs `make test-js-deps` again: a no-op by then.
test-js: test-js-deps
	cd js && PV_NATIVE_REF=$(abspath $(BUILD)/pv_native_ref) npm test
	bash scripts/size-budget.sh
	bash scripts/pack-smoke.sh

# The package in headless Chromium (js/test/browser/run.mjs: module script,
# Web Worker, bytes fallback, IndexedDB across a reload and interrupted
# saves, an index the CLI built, errors shown in a page; then demo/'s
# check): Debian's chromium, which scripts/install-deps.sh installs, driven
# by playwright-core from js/'s dev dependencies. npm's script makes the
# .wasm and the CLI again: a no-op by then.
test-browser: wasm js/node_modules/.installed $(BUILD)/pocketvec
	cd js && npm run test:browser

# The package through a bundler: Vite builds the example, and the built page
# and the dev server run in headless Chromium.
vite-example: wasm
	bash scripts/vite-example.sh

clean-wasm:
	rm -rf $(WASM_BUILD) dist js/pocketvec.wasm js/pocketvec.js js/pocketvec.js.map js/LICENSE

clean: clean-wasm

endif # PV_WASM_MK
