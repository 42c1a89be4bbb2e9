# Secure Kernel Loader (Rust) — top-level build.
#   make setup   install what the build and the tests need (idempotent)
#   make         build/skl.bin (+ test guests)
#   make run     demo launch in QEMU + swtpm, prints PCRs and the event log
#   make test    every test: host unit tests, layout checks, QEMU launches, RPM, fuzz smoke
#   make quick-test  the same without the fuzz smoke run and the RPM build
#   make bench   benchmarks (see bench/)
#   make rpm     Qubes RPM into build/rpm/
#   make psp-sign  sign the AMD SL image for the PSP (test key by default)

SHELL      := /bin/bash
BUILD      ?= build
CARGO      ?= cargo
PAYLOAD_TARGET := x86_64-unknown-none
PROFILE    ?= release
# Debian packages the build and the tests use.
DEB_PKGS   := qemu-system-x86 swtpm swtpm-tools tpm2-tools binutils gcc python3 openssl rpm rpmlint cpio

export SKL_BUILD_DIR := $(abspath $(BUILD))

.PHONY: all setup payload payload-debug test quick-test unit-test run bench rpm fmt clippy lint clean \
        psp-sign psp-sign-format-exercise
all: payload guests

## ---- setup -------------------------------------------------------------
SETUP_STAMP := $(BUILD)/.setup-done
setup: $(SETUP_STAMP)
$(SETUP_STAMP): Makefile rust-toolchain.toml
	@mkdir -p $(BUILD)
	rustup toolchain install            # reads rust-toolchain.toml (RUSTUP_AUTO_INSTALL=0 here)
	@missing=""; for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "Debian packages present"; fi
	@touch $@

## ---- payload -----------------------------------------------------------
# Three payloads from one crate: skl.bin (AMD SKINIT SLB, Qubes 4.2.3
# generation, 8-byte header), skl-amdsl.bin (the same SLB with AMD's
# extended SL header: GRUB tb-dev / Xen v3 / Linux v16) and skl-txt.bin
# (Intel TXT MLE), each checked and sized by check-image.py. skl-txt.bin is
# the flat MLE image (skl-txt.image) in an ELF32 Multiboot2 wrapper that
# TrenchBoot GRUB loads with multiboot2 + slaunch (skl/mle-elf.py).
PAYLOAD_DIR := target/$(PAYLOAD_TARGET)/$(PROFILE)
payload: $(SETUP_STAMP)
	$(CARGO) build -p skl --target $(PAYLOAD_TARGET) --profile $(PROFILE)
	@mkdir -p $(BUILD)
	objcopy -O binary $(PAYLOAD_DIR)/skl $(BUILD)/skl.bin
	python3 skl/check-image.py $(PAYLOAD_DIR)/skl $(BUILD)/skl.bin
	objcopy -O binary $(PAYLOAD_DIR)/skl-amdsl $(BUILD)/skl-amdsl.bin
	python3 skl/check-image.py $(PAYLOAD_DIR)/skl-amdsl $(BUILD)/skl-amdsl.bin --amdsl
	objcopy -O binary $(PAYLOAD_DIR)/skl-txt $(BUILD)/skl-txt.image
	python3 skl/check-image.py $(PAYLOAD_DIR)/skl-txt $(BUILD)/skl-txt.image --mle
	python3 skl/mle-elf.py $(BUILD)/skl-txt.image $(BUILD)/skl-txt.bin

# Debug build: logging to port 0xE9/COM1 compiled in (never shipped).
payload-debug: $(SETUP_STAMP)
	$(CARGO) build -p skl --target $(PAYLOAD_TARGET) --profile slb-debug --features debug-log
	@mkdir -p $(BUILD)
	objcopy -O binary target/$(PAYLOAD_TARGET)/slb-debug/skl $(BUILD)/skl-debug.bin
	python3 skl/check-image.py target/$(PAYLOAD_TARGET)/slb-debug/skl $(BUILD)/skl-debug.bin
	objcopy -O binary target/$(PAYLOAD_TARGET)/slb-debug/skl-amdsl $(BUILD)/skl-amdsl-debug.bin
	python3 skl/check-image.py target/$(PAYLOAD_TARGET)/slb-debug/skl-amdsl $(BUILD)/skl-amdsl-debug.bin --amdsl
	objcopy -O binary target/$(PAYLOAD_TARGET)/slb-debug/skl-txt $(BUILD)/skl-txt-debug.image
	python3 skl/check-image.py target/$(PAYLOAD_TARGET)/slb-debug/skl-txt $(BUILD)/skl-txt-debug.image --mle
	python3 skl/mle-elf.py $(BUILD)/skl-txt-debug.image $(BUILD)/skl-txt-debug.bin

-include qemu-tests/guest/guest.mk
-include qemu-tests/qemu/qemu.mk
-include rpm/rpm.mk
-include fuzz/fuzz.mk
-include qemu-tests/realkernels.mk

## ---- PSP signature (docs/psp-drtm.md) ---------------------------------
# psp-sign: sign PSP_SIGN_IMAGE (the AMD SL image, skl-amdsl.bin, once the
# build makes it) with PSP_KEY into $(PSP_SIGN_IMAGE:.bin=.signed.bin), then
# verify it. The default key is a TEST key generated here under build/ and
# never committed; a production key comes from outside (PSP_KEY=...).
PSP_KEY        ?= $(BUILD)/psp-test-key.pem
PSP_SIGN_IMAGE ?= $(BUILD)/skl-amdsl.bin
PSP_SIGNED     := $(PSP_SIGN_IMAGE:.bin=.signed.bin)
SKL_TOOL_RUN   := $(CARGO) run -q -p skl-tool --

$(BUILD)/psp-test-key.pem:
	@mkdir -p $(BUILD)
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out $@ 2>/dev/null

psp-sign: $(PSP_KEY)
	$(SKL_TOOL_RUN) psp sign --key $(PSP_KEY) $(PSP_SIGN_IMAGE) -o $(PSP_SIGNED)
	$(SKL_TOOL_RUN) psp verify --key $(PSP_KEY) $(PSP_SIGNED)

# A FORMAT EXERCISE ONLY, until skl-amdsl.bin exists here: a copy of
# skl.bin whose header's measured length is rounded up to 16 (zero padding),
# signed and verified. Not launchable: its header no longer matches the
# build, and skl.bin has the 8-byte header, not the AMD SL one.
PSP_EXERCISE := $(BUILD)/psp-format-exercise.bin
psp-sign-format-exercise: payload $(PSP_KEY)
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); m = int.from_bytes(b[2:4], "little"); r = (m + 15) & ~15; b = b[:m] + bytes(r - m); b[2:4] = r.to_bytes(2, "little"); open(sys.argv[2], "wb").write(b)' $(BUILD)/skl.bin $(PSP_EXERCISE)
	$(MAKE) --no-print-directory psp-sign PSP_SIGN_IMAGE=$(PSP_EXERCISE)

## ---- tests -------------------------------------------------------------
unit-test: $(SETUP_STAMP)
	$(CARGO) test --workspace --exclude qemu-tests

test: all payload-debug lint
	$(CARGO) test --workspace --no-fail-fast -- --test-threads=2
	$(MAKE) rpm-test
	$(MAKE) fuzz-smoke

# Every test but the fuzz smoke run and the second (RPM) build: the loop
# while developing.
quick-test: all payload-debug
	$(CARGO) test --workspace --no-fail-fast -- --test-threads=2

lint: $(SETUP_STAMP) clippy
	$(CARGO) fmt --all -- --check
	rustfmt --check --edition 2021 --config-path rustfmt.toml fuzz/src/*.rs fuzz/fuzz_targets/*.rs

clippy: $(SETUP_STAMP)
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p skl --target $(PAYLOAD_TARGET) --release -- -D warnings
	$(CARGO) clippy -p skl --target $(PAYLOAD_TARGET) --profile slb-debug --features debug-log -- -D warnings
	# The PSP path (hw/psp.rs, the skl-psp prototype): in no shipped image yet, so linted here.
	$(CARGO) clippy -p skl --target $(PAYLOAD_TARGET) --release --features psp -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: all payload-debug
	python3 bench/run.py

run: all payload-debug
	$(CARGO) run -q -p qemu-tests --bin skl-demo

clean:
	rm -rf $(BUILD) fuzz/target
	$(CARGO) clean
