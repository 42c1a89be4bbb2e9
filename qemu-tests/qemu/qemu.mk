## ---- our QEMU with SKINIT (included by the top-level Makefile) ---------
# Debian bookworm's qemu source at a pinned version + our series (qemu-tests/qemu/README.md), built
# once into build/qemu/bin/qemu-system-x86_64. Rebuilt only when the version, the configure
# options or the series change: the stamp name is a hash of all three. Firmware (SeaBIOS, the
# option ROMs) comes from Debian's qemu-system-data/seabios, found through --firmwarepath.

QEMU_DEB_VERSION := 1:7.2+dfsg-7+deb12u18
QEMU_PATCH_DIR   := qemu-tests/qemu
QEMU_SRC_DIR     := $(BUILD)/qemu-src
QEMU_PREFIX      := $(BUILD)/qemu
QEMU_BIN         := $(QEMU_PREFIX)/bin/qemu-system-x86_64
# Just what --target-list=x86_64-softmmu with TCG and TPM needs (libfdt: 7.2's x86 target
# requires it). The tests also use q35, amd-iommu, edu, ivshmem, isa-debug-exit, fw_cfg and
# memory-backend-file, all in the default device set.
QEMU_BUILD_DEPS  := dpkg-dev patch xz-utils gcc ninja-build meson pkg-config python3 \
	libglib2.0-dev zlib1g-dev libpixman-1-dev libfdt-dev
QEMU_CONFIGURE   := --target-list=x86_64-softmmu --without-default-features --enable-tcg \
	--enable-tpm --enable-fdt=system --disable-docs --disable-user --disable-tools \
	--disable-guest-agent --disable-werror --disable-install-blobs \
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
QEMU_SERIES      := $(shell grep -v '^[[:space:]]*\(\#\|$$\)' $(QEMU_PATCH_DIR)/series 2>/dev/null)
QEMU_ID          := $(shell (echo '$(QEMU_DEB_VERSION) $(QEMU_CONFIGURE)'; cd $(QEMU_PATCH_DIR) && \
	cat series $(QEMU_SERIES)) | sha256sum | cut -c1-16)
QEMU_STAMP       := $(QEMU_PREFIX)/.built-$(QEMU_ID)
# deb-src for bookworm on the mirror the machine already uses (debian.sources), if none exists.
QEMU_DEBSRC_FILE := /etc/apt/sources.list.d/skl-qemu-deb-src.sources

.PHONY: qemu
qemu: $(QEMU_STAMP)
setup: $(QEMU_STAMP)
test run bench: $(QEMU_STAMP)

$(QEMU_STAMP): $(QEMU_PATCH_DIR)/build-qemu.sh
	@SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	missing=""; for p in $(QEMU_BUILD_DEPS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if ! grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources && \
	   ! grep -qs '^deb-src .* bookworm ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then \
	  mirror=$$(awk '/^URIs:/ { print $$2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null); \
	  echo "qemu: adding deb-src (bookworm, $${mirror:-http://deb.debian.org/debian}) as $(QEMU_DEBSRC_FILE)"; \
	  printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	    "$${mirror:-http://deb.debian.org/debian}" | $$SUDO tee $(QEMU_DEBSRC_FILE) >/dev/null; \
	  update=1; \
	fi; \
	if [ -n "$$missing" ] || [ -n "$$update" ]; then \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "qemu: installing build dependencies:$$missing"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Debian's firmware for our binary (bios-256k.bin, multiboot/linuxboot option ROMs).
	@dpkg-query -W -f='$${Status}' qemu-system-data 2>/dev/null | grep -q 'install ok installed' || \
	  { SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-data seabios; }
	$(QEMU_PATCH_DIR)/build-qemu.sh '$(QEMU_DEB_VERSION)' $(QEMU_SRC_DIR) $(QEMU_PREFIX) $(QEMU_PATCH_DIR) $(QEMU_CONFIGURE)
	@rm -f $(QEMU_PREFIX)/.built-*
	@touch $@

# The SKINIT probe (probe/skinit-probe.S): three tiny guests for tests/skinit_insn.rs.
QEMU_PROBE_DIR := $(BUILD)/qemu-tests
QEMU_PROBES    := $(QEMU_PROBE_DIR)/skinit-probe-svme0.elf $(QEMU_PROBE_DIR)/skinit-probe-svme1.elf \
	$(QEMU_PROBE_DIR)/skinit-probe-cpl3.elf
$(QEMU_PROBE_DIR)/skinit-probe-svme0.elf: QEMU_PROBE_FLAGS := -DSVME=0
$(QEMU_PROBE_DIR)/skinit-probe-svme1.elf: QEMU_PROBE_FLAGS := -DSVME=1
$(QEMU_PROBE_DIR)/skinit-probe-cpl3.elf:  QEMU_PROBE_FLAGS := -DSVME=1 -DCPL3
$(QEMU_PROBE_DIR)/skinit-probe-%.elf: $(QEMU_PATCH_DIR)/probe/skinit-probe.S $(QEMU_PATCH_DIR)/qemu.mk
	@mkdir -p $(@D)
	$(or $(GUEST_CC),gcc) -m32 -fno-pic -Wall -Werror $(QEMU_PROBE_FLAGS) -c $< -o $(@:.elf=.o)
	$(or $(GUEST_LD),ld) -m elf_i386 -nostdlib -static --build-id=none -z noexecstack --no-warn-rwx-segments \
	  -Ttext 0x100000 -e _start -o $@ $(@:.elf=.o)
guests: $(QEMU_PROBES)
