# SPDX-License-Identifier: MIT
# pocketvec: the libFuzzer targets: the loader and section-table reader
# (fuzz_load.c), the API as call sequences against a model (fuzz_ops.c),
# attributes as JSON, as untrusted encodings and as numbers (fuzz_attr.c),
# the filter compiler and evaluator (fuzz_filter.c), the text section
# of a file (fuzz_text.c), the tokenizer (fuzz_token.c), and the change
# log after a file (fuzz_log.c). Included
# from the top Makefile (`include fuzz/fuzz.mk`), whose LIB_SRC, WARN,
# HEADERS, BUILD, CC and LDLIBS it uses;
# `make -f Makefile -f fuzz/fuzz.mk fuzz-run` works too.
#
#   make fuzz            build-fuzz/fuzz_load, fuzz_ops, fuzz_attr,
#                        fuzz_filter, fuzz_text and fuzz_token (clang-14,
#                        libFuzzer + ASan + UBSan) and the seed corpus of
#                        real saved indexes, generated into
#                        build-fuzz/corpus (nothing committed); attr,
#                        filter and token start from the small text
#                        corpora in fuzz/corpus/ with the dictionaries
#                        fuzz/*.dict
#   make fuzz-run        the loader for FUZZ_SECONDS (default 60) from the
#                        seed corpus, then the call sequences for
#                        FUZZ_OPS_SECONDS (default 30), then attributes,
#                        filters, text sections and the tokenizer for
#                        FUZZ_ATTR_SECONDS, FUZZ_FILTER_SECONDS,
#                        FUZZ_TEXT_SECONDS, FUZZ_TOKEN_SECONDS and
#                        FUZZ_LOG_SECONDS
#                        (default 20 each); fails if a fuzzer
#                        finds a crash, a leak or a broken invariant (the
#                        input is saved under build-fuzz/artifacts/: replay
#                        it with `build-fuzz/fuzz_load FILE`, or the
#                        target that found it)
#
# libFuzzer's runtime comes with Debian's libclang-rt-14-dev (a Recommends
# of clang-14, so not installed with --no-install-recommends): listed in
# scripts/install-deps.sh.
#
# Read at most once, like wasm/wasm.mk.
ifndef PV_FUZZ_MK
PV_FUZZ_MK := 1

FUZZ_CC      ?= clang-14
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_OPS_SECONDS ?= 30
FUZZ_ATTR_SECONDS ?= 20
FUZZ_FILTER_SECONDS ?= 20
FUZZ_TEXT_SECONDS ?= 20
FUZZ_TOKEN_SECONDS ?= 20
FUZZ_LOG_SECONDS ?= 20
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The library is instrumented for coverage (fuzzer-no-link); only the
# target links libFuzzer's main.
FUZZ_CFLAGS   = $(WARN) -O1 -g -Iinclude -Isrc $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LIB_OBJ  = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

.PHONY: fuzz fuzz-run fuzz-corpus clean-fuzz

fuzz: $(FUZZ_BUILD)/fuzz_load $(FUZZ_BUILD)/fuzz_ops $(FUZZ_BUILD)/fuzz_attr $(FUZZ_BUILD)/fuzz_filter \
      $(FUZZ_BUILD)/fuzz_text $(FUZZ_BUILD)/fuzz_token $(FUZZ_BUILD)/fuzz_log fuzz-corpus

$(FUZZ_BUILD)/src/%.o: src/%.c $(HEADERS) fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/src/kernels/avx2.o: src/kernels/avx2.c $(HEADERS) fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -mavx2 -mfma -c $< -o $@

$(FUZZ_BUILD)/fuzz_load: fuzz/fuzz_load.c $(FUZZ_LIB_OBJ) $(HEADERS) fuzz/fuzz.mk
	$(FUZZ_CC) $(WARN) -O1 -g -Iinclude $(FUZZ_SAN) -fsanitize=fuzzer fuzz/fuzz_load.c \
	  $(FUZZ_LIB_OBJ) $(LDLIBS) -o $@

# The API as a whole: bytes decoded into call sequences against a model.
$(FUZZ_BUILD)/fuzz_ops: fuzz/fuzz_ops.c $(FUZZ_LIB_OBJ) $(HEADERS) fuzz/fuzz.mk
	$(FUZZ_CC) $(WARN) -O1 -g -Iinclude $(FUZZ_SAN) -fsanitize=fuzzer fuzz/fuzz_ops.c \
	  $(FUZZ_LIB_OBJ) $(LDLIBS) -o $@

# Attributes and filters: the targets use the internal headers (-Isrc).
$(FUZZ_BUILD)/fuzz_attr: fuzz/fuzz_attr.c $(FUZZ_LIB_OBJ) $(HEADERS) fuzz/fuzz.mk
	$(FUZZ_CC) $(WARN) -O1 -g -Iinclude -Isrc $(FUZZ_SAN) -fsanitize=fuzzer fuzz/fuzz_attr.c \
	  $(FUZZ_LIB_OBJ) $(LDLIBS) -o $@

$(FUZZ_BUILD)/fuzz_filter: fuzz/fuzz_filter.c $(FUZZ_LIB_OBJ) $(HEADERS) fuzz/fuzz.mk
	$(FUZZ_CC) $(WARN) -O1 -g -Iinclude -Isrc $(FUZZ_SAN) -fsanitize=fuzzer fuzz/fuzz_filter.c \
	  $(FUZZ_LIB_OBJ) $(LDLIBS) -o $@

# The text section's body, loaded into a fixed index; its seeds are the
# sections of real indexes, written by the target itself (PV_TEXT_SEEDS).
$(FUZZ_BUILD)/fuzz_text: fuzz/fuzz_text.c $(FUZZ_LIB_OBJ) $(HEADERS) fuzz/fuzz.mk
	$(FUZZ_CC) $(WARN) -O1 -g -Iinclude -Isrc $(FUZZ_SAN) -fsanitize=fuzzer fuzz/fuzz_text.c \
	  $(FUZZ_LIB_OBJ) $(LDLIBS) -o $@

# The change log after a fixed base: raw bytes, or calls in a valid frame;
# its seeds are records of real changes, written by the target itself
# (PV_LOG_SEEDS).
$(FUZZ_BUILD)/fuzz_log: fuzz/fuzz_log.c $(FUZZ_LIB_OBJ) $(HEADERS) fuzz/fuzz.mk
	$(FUZZ_CC) $(WARN) -O1 -g -Iinclude -Isrc $(FUZZ_SAN) -fsanitize=fuzzer fuzz/fuzz_log.c \
	  $(FUZZ_LIB_OBJ) $(LDLIBS) -o $@

# The tokenizer: every option combination on arbitrary bytes.
$(FUZZ_BUILD)/fuzz_token: fuzz/fuzz_token.c $(FUZZ_LIB_OBJ) $(HEADERS) fuzz/fuzz.mk
	$(FUZZ_CC) $(WARN) -O1 -g -Iinclude -Isrc $(FUZZ_SAN) -fsanitize=fuzzer fuzz/fuzz_token.c \
	  $(FUZZ_LIB_OBJ) $(LDLIBS) -o $@

# The corpus generator is an ordinary program on the ordinary library.
$(FUZZ_BUILD)/make_corpus: fuzz/make_corpus.c $(BUILD)/libpocketvec.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -Iinclude fuzz/make_corpus.c $(BUILD)/libpocketvec.a $(LDLIBS) -o $@

fuzz-corpus: $(FUZZ_BUILD)/corpus/.done
$(FUZZ_BUILD)/corpus/.done: $(FUZZ_BUILD)/make_corpus $(FUZZ_BUILD)/fuzz_text $(FUZZ_BUILD)/fuzz_log
	rm -rf $(FUZZ_BUILD)/corpus
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_BUILD)/make_corpus $(FUZZ_BUILD)/corpus
	rm -rf $(FUZZ_BUILD)/corpus-text
	@mkdir -p $(FUZZ_BUILD)/corpus-text
	PV_TEXT_SEEDS=$(FUZZ_BUILD)/corpus-text $(FUZZ_BUILD)/fuzz_text
	rm -rf $(FUZZ_BUILD)/corpus-log
	@mkdir -p $(FUZZ_BUILD)/corpus-log
	PV_LOG_SEEDS=$(FUZZ_BUILD)/corpus-log $(FUZZ_BUILD)/fuzz_log
	@touch $@

# New inputs go to a scratch directory, so the seeds stay as generated.
# libFuzzer exits non-zero on a finding, which fails the target.
fuzz-run: fuzz
	@mkdir -p $(FUZZ_BUILD)/work $(FUZZ_BUILD)/artifacts
	$(FUZZ_BUILD)/fuzz_load -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	  -max_len=16384 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ \
	  $(FUZZ_BUILD)/work $(FUZZ_BUILD)/corpus
	@mkdir -p $(FUZZ_BUILD)/ops-work
	$(FUZZ_BUILD)/fuzz_ops -max_total_time=$(FUZZ_OPS_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	  -max_len=4096 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ \
	  $(FUZZ_BUILD)/ops-work
	@mkdir -p $(FUZZ_BUILD)/attr-work $(FUZZ_BUILD)/filter-work
	$(FUZZ_BUILD)/fuzz_attr -max_total_time=$(FUZZ_ATTR_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	  -max_len=8192 -dict=fuzz/attr.dict -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/attr-work fuzz/corpus/attr
	$(FUZZ_BUILD)/fuzz_filter -max_total_time=$(FUZZ_FILTER_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	  -max_len=4096 -dict=fuzz/filter.dict -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/filter-work fuzz/corpus/filter
	@mkdir -p $(FUZZ_BUILD)/text-work
	$(FUZZ_BUILD)/fuzz_text -max_total_time=$(FUZZ_TEXT_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	  -max_len=16384 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ \
	  $(FUZZ_BUILD)/text-work $(FUZZ_BUILD)/corpus-text
	@mkdir -p $(FUZZ_BUILD)/log-work
	$(FUZZ_BUILD)/fuzz_log -max_total_time=$(FUZZ_LOG_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	  -max_len=8192 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ \
	  $(FUZZ_BUILD)/log-work $(FUZZ_BUILD)/corpus-log
	@mkdir -p $(FUZZ_BUILD)/token-work
	$(FUZZ_BUILD)/fuzz_token -max_total_time=$(FUZZ_TOKEN_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	  -max_len=4096 -dict=fuzz/token.dict -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/token-work fuzz/corpus/token

clean-fuzz:
	rm -rf $(FUZZ_BUILD)

clean: clean-fuzz

endif # PV_FUZZ_MK
