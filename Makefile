# Secure Kernel Loader (Rust) — top-level build.
#   make setup   install what the build and the tests need (idempotent)
#   make         build/skl.bin (+ test guests)
#   make run     demo launch in QEMU + swtpm, prints PCRs and the event log
#   make test    every test: host unit tests, layout checks, QEMU launches, RPM, fuzz smoke
#   make quick-test  the same without the fuzz smoke run and the RPM build
#   make bench   benchmarks (see bench/)
#   make rpm     Qubes RPM into build/rpm/
#   make psp-sign  sign an AMD SL image for the PSP (test key by default)

SHELL      := /bin/bash
BUILD      ?= build
CARGO      ?= cargo
PAYLOAD_TARGET := x86_64-unknown-none
PROFILE    ?= payload
# Debian packages the build and the tests use.
DEB_PKGS   := qemu-system-x86 swtpm swtpm-tools tpm2-tools binutils gcc python3 openssl rpm rpmlint cpio

export SKL_BUILD_DIR := $(abspath $(BUILD))

.PHONY: all setup payload payload-debug test quick-test unit-test run bench rpm fmt clippy lint clean \
        psp-sign payload-psp-signed
all: payload payload-psp-signed guests

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
# skl-amdsl-psp.bin, the PSP path (docs/psp-drtm.md), has its own cargo
# invocation with the psp feature, so the three others stay without it. Its
# file is the measured part + the 0x740-byte $$AS1 area (zeros until signed),
# which the header's total length at 0x18 already counts.
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
	python3 skl/seal-stage2.py $(BUILD)/skl-amdsl.bin
	python3 skl/check-image.py $(PAYLOAD_DIR)/skl-amdsl $(BUILD)/skl-amdsl.bin --amdsl --two-stage
	objcopy -O binary $(PAYLOAD_DIR)/skl-txt $(BUILD)/skl-txt.image
	python3 skl/check-image.py $(PAYLOAD_DIR)/skl-txt $(BUILD)/skl-txt.image --mle
	python3 skl/mle-elf.py $(BUILD)/skl-txt.image $(BUILD)/skl-txt.bin
	$(CARGO) build -p skl --target $(PAYLOAD_TARGET) --profile $(PROFILE) --features psp --bin skl-amdsl-psp
	objcopy -O binary $(PAYLOAD_DIR)/skl-amdsl-psp $(BUILD)/skl-amdsl-psp.bin
	truncate -s $$(( $$(stat -c %s $(BUILD)/skl-amdsl-psp.bin) + 0x740 )) $(BUILD)/skl-amdsl-psp.bin
	python3 skl/check-image.py $(PAYLOAD_DIR)/skl-amdsl-psp $(BUILD)/skl-amdsl-psp.bin --amdsl --psp

# The PSP image signed with the TEST key (generated under build/, never
# committed) and verified: what the tests launch. Distributions sign the
# unsigned skl-amdsl-psp.bin with their own key (README, "Signing for the PSP").
PSP_TEST_KEY := $(BUILD)/psp-test-key.pem
payload-psp-signed: payload $(PSP_TEST_KEY)
	$(CARGO) run -q -p skl-tool -- psp sign --key $(PSP_TEST_KEY) $(BUILD)/skl-amdsl-psp.bin -o $(BUILD)/skl-amdsl-psp.signed.bin
	$(CARGO) run -q -p skl-tool -- psp verify --key $(PSP_TEST_KEY) $(BUILD)/skl-amdsl-psp.signed.bin
	python3 skl/check-image.py $(PAYLOAD_DIR)/skl-amdsl-psp $(BUILD)/skl-amdsl-psp.signed.bin --amdsl --psp --signed

# Debug build: logging to port 0xE9/COM1 compiled in (never shipped).
payload-debug: $(SETUP_STAMP)
	$(CARGO) build -p skl --target $(PAYLOAD_TARGET) --profile slb-debug --features debug-log
	@mkdir -p $(BUILD)
	objcopy -O binary target/$(PAYLOAD_TARGET)/slb-debug/skl $(BUILD)/skl-debug.bin
	python3 skl/check-image.py target/$(PAYLOAD_TARGET)/slb-debug/skl $(BUILD)/skl-debug.bin
	objcopy -O binary target/$(PAYLOAD_TARGET)/slb-debug/skl-amdsl $(BUILD)/skl-amdsl-debug.bin
	python3 skl/seal-stage2.py $(BUILD)/skl-amdsl-debug.bin
	python3 skl/check-image.py target/$(PAYLOAD_TARGET)/slb-debug/skl-amdsl $(BUILD)/skl-amdsl-debug.bin --amdsl --two-stage
	objcopy -O binary target/$(PAYLOAD_TARGET)/slb-debug/skl-txt $(BUILD)/skl-txt-debug.image
	python3 skl/check-image.py target/$(PAYLOAD_TARGET)/slb-debug/skl-txt $(BUILD)/skl-txt-debug.image --mle
	python3 skl/mle-elf.py $(BUILD)/skl-txt-debug.image $(BUILD)/skl-txt-debug.bin
	$(CARGO) build -p skl --target $(PAYLOAD_TARGET) --profile slb-debug --features debug-log,psp --bin skl-amdsl-psp
	objcopy -O binary target/$(PAYLOAD_TARGET)/slb-debug/skl-amdsl-psp $(BUILD)/skl-amdsl-psp-debug.bin
	truncate -s $$(( $$(stat -c %s $(BUILD)/skl-amdsl-psp-debug.bin) + 0x740 )) $(BUILD)/skl-amdsl-psp-debug.bin
	python3 skl/check-image.py target/$(PAYLOAD_TARGET)/slb-debug/skl-amdsl-psp $(BUILD)/skl-amdsl-psp-debug.bin --amdsl --psp

-include qemu-tests/guest/guest.mk
-include qemu-tests/qemu/qemu.mk
-include rpm/rpm.mk
-include fuzz/fuzz.mk
-include qemu-tests/realkernels.mk

## ---- PSP signature (docs/psp-drtm.md) ---------------------------------
# psp-sign: sign PSP_SIGN_IMAGE (by default the PSP image, skl-amdsl-psp.bin)
# with PSP_KEY into $(PSP_SIGN_IMAGE:.bin=.signed.bin), then
# verify it. The default key is a TEST key generated here under build/ and
# never committed; a production key comes from outside (PSP_KEY=...).
PSP_KEY        ?= $(BUILD)/psp-test-key.pem
PSP_SIGN_IMAGE ?= $(BUILD)/skl-amdsl-psp.bin
PSP_SIGNED     := $(PSP_SIGN_IMAGE:.bin=.signed.bin)
SKL_TOOL_RUN   := $(CARGO) run -q -p skl-tool --

$(BUILD)/psp-test-key.pem:
	@mkdir -p $(BUILD)
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out $@ 2>/dev/null

psp-sign: $(PSP_KEY)
	$(SKL_TOOL_RUN) psp sign --key $(PSP_KEY) $(PSP_SIGN_IMAGE) -o $(PSP_SIGNED)
	$(SKL_TOOL_RUN) psp verify --key $(PSP_KEY) $(PSP_SIGNED)

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
	$(CARGO) clippy -p skl --target $(PAYLOAD_TARGET) --profile payload -- -D warnings
	$(CARGO) clippy -p skl --target $(PAYLOAD_TARGET) --profile slb-debug --features debug-log -- -D warnings
	# The PSP path (hw/psp.rs, skl-amdsl-psp): only built with the psp feature.
	$(CARGO) clippy -p skl --target $(PAYLOAD_TARGET) --profile payload --features psp -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: all payload-debug
	python3 bench/run.py

run: all payload-debug
	$(CARGO) run -q -p qemu-tests --bin skl-demo

clean:
	rm -rf $(BUILD) fuzz/target
	$(CARGO) clean
