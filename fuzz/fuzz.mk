## ---- fuzzing (fuzz/, included by the top Makefile) ---------------------
# libFuzzer (libfuzzer-sys) targets built with plain cargo on the pinned
# stable toolchain: the sanitizer-coverage instrumentation cargo-fuzz would
# add is passed as -C flags, which stable rustc accepts. No nightly, no
# cargo-fuzz, no cargo install. See fuzz/README.md.
#
#   make fuzz-smoke   every target for FUZZ_SMOKE_SECS (20 s) each; part of `make test`
#   make fuzz-long    every target for FUZZ_LONG_SECS (600 s) each; report in $(BUILD)/fuzz/report.txt
#                     (-j2: two targets at a time; fuzz-long-<target> for one)
#   make fuzz-seeds   regenerate fuzz/corpus/ (the committed seed corpora)
#   make fuzz-repro FUZZ_TARGET=launch FUZZ_INPUT=crash-file   run one input
#
# Both runs fail on a crash, a panic, a timeout or an out-of-memory; the
# input is left in $(BUILD)/fuzz/artifacts/<target>/. New corpus entries go
# to $(BUILD)/fuzz/corpus/<target>/ (kept between runs), never into fuzz/.

FUZZ_TARGETS    := slrt mbi event_log launch dma txt_heap txt_mle sl_header
FUZZ_SMOKE_SECS ?= 20
FUZZ_LONG_SECS  ?= 600
FUZZ_FLAGS      ?= -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_HOST       := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
FUZZ_TARGET_DIR := $(abspath fuzz/target)
FUZZ_BIN        := $(FUZZ_TARGET_DIR)/$(FUZZ_HOST)/release
FUZZ_WORK       := $(abspath $(BUILD))/fuzz
# What `cargo fuzz build -s none` passes, minus the nightly-only parts.
FUZZ_RUSTFLAGS  := -Cpasses=sancov-module \
	-Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
	-Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares \
	-Cllvm-args=-sanitizer-coverage-stack-depth \
	-Cdebug-assertions -Coverflow-checks

.PHONY: fuzz-setup fuzz-build fuzz-smoke fuzz-long fuzz-seeds fuzz-repro

# libfuzzer-sys compiles libFuzzer (C++): needs a C++ compiler. Idempotent.
fuzz-setup: $(SETUP_STAMP)
	@command -v c++ >/dev/null || { \
	  echo "installing g++ (libFuzzer is C++)"; \
	  SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++; }

# --target keeps the instrumentation off build scripts and proc macros.
# gen_corpus (make fuzz-seeds) is type-checked uninstrumented, so it cannot
# rot unseen (instrumented, it would need libFuzzer's runtime to link).
fuzz-build: fuzz-setup
	cd fuzz && RUSTFLAGS="$(FUZZ_RUSTFLAGS)" $(CARGO) build --locked --release \
	  --target $(FUZZ_HOST) --target-dir $(FUZZ_TARGET_DIR) --bins
	cd fuzz && $(CARGO) check --locked --release --target-dir $(FUZZ_TARGET_DIR) --examples

# One run: $(1) = target, $(2) = seconds. libFuzzer exits non-zero on any
# finding; so does this.
define fuzz_one
	@mkdir -p $(FUZZ_WORK)/corpus/$(1) $(FUZZ_WORK)/artifacts/$(1)
	@echo "== fuzz $(1) for $(2) s"
	@$(FUZZ_BIN)/$(1) $(FUZZ_WORK)/corpus/$(1) fuzz/corpus/$(1) \
	  -max_total_time=$(2) $(FUZZ_FLAGS) -artifact_prefix=$(FUZZ_WORK)/artifacts/$(1)/ \
	  > $(FUZZ_WORK)/$(1).log 2>&1 \
	  || { tail -n 60 $(FUZZ_WORK)/$(1).log; echo "FUZZ FAILURE in $(1): input in $(FUZZ_WORK)/artifacts/$(1)/"; exit 1; }
	@grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' $(FUZZ_WORK)/$(1).log \
	  | sed 's/^/   $(1) /'
endef

# Per-target rules, so `make -j2 fuzz-long` uses both cores.
FUZZ_SMOKE_RUNS := $(addprefix fuzz-smoke-,$(FUZZ_TARGETS))
FUZZ_LONG_RUNS  := $(addprefix fuzz-long-,$(FUZZ_TARGETS))
.PHONY: $(FUZZ_SMOKE_RUNS) $(FUZZ_LONG_RUNS)
$(FUZZ_SMOKE_RUNS): fuzz-smoke-%: fuzz-build
	$(call fuzz_one,$*,$(FUZZ_SMOKE_SECS))
$(FUZZ_LONG_RUNS): fuzz-long-%: fuzz-build
	$(call fuzz_one,$*,$(FUZZ_LONG_SECS))

fuzz-smoke: $(FUZZ_SMOKE_RUNS)

fuzz-long: $(FUZZ_LONG_RUNS)
	@{ echo "fuzz-long: $(FUZZ_LONG_SECS) s per target, $$(date -u +%FT%TZ), $$(git rev-parse --short HEAD 2>/dev/null)"; \
	  for t in $(FUZZ_TARGETS); do \
	    printf '%-10s execs %-10s exec/s %-8s corpus %-5s %s\n' $$t \
	      "$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_WORK)/$$t.log)" \
	      "$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_WORK)/$$t.log)" \
	      "$$(ls $(FUZZ_WORK)/corpus/$$t fuzz/corpus/$$t | grep -vc -e '^$$' -e ':$$')" \
	      "$$(grep -E '^#[0-9]+' $(FUZZ_WORK)/$$t.log | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')"; \
	  done; } | tee $(FUZZ_WORK)/report.txt

# Seeds are built by fuzz/src/seeds.rs, checked (each must parse / launch)
# and written by an uninstrumented example.
fuzz-seeds: fuzz-setup
	cd fuzz && $(CARGO) run --locked --release --target-dir $(FUZZ_TARGET_DIR) --example gen_corpus

fuzz-repro: fuzz-build
	$(FUZZ_BIN)/$(FUZZ_TARGET) $(FUZZ_INPUT)
