## ---- real kernels: Debian's Xen + Linux dom0 (qemu-tests/tests/real_xen.rs)
# Included from the top-level Makefile. Downloads three Debian packages with
# `apt-get download` (nothing is installed; nothing goes to /boot), unpacks
# them with `dpkg -x` under build/realkernels/, and builds:
#   build/realkernels/xen.elf     Xen, decompressed from /boot/xen-*.gz (the
#                                 ELF32 GRUB's multiboot2 loader and QEMU's
#                                 -kernel load)
#   build/realkernels/vmlinuz     the dom0 kernel (bzImage)
#   build/realkernels/initrd.gz   busybox + qemu-tests/realkernels/init.sh
#   build/realkernels/versions.txt  package=version actually used
# Re-downloads only when a .deb is missing. The versions are pinned below;
# if the archive no longer carries a pinned version (security updates
# replace them) the current candidate is taken instead and versions.txt
# says which: the test computes every expected value from these files.
RK_DIR        := $(BUILD)/realkernels
RK_XEN_DEB    ?= xen-hypervisor-4.17-amd64=4.17.7+13-g2445b30a44-0+deb12u1
RK_LINUX_DEB  ?= linux-image-6.1.0-57-amd64=6.1.192-3
RK_BUSYBOX_DEB ?= busybox-static=1:1.35.0-4+deb12u1+b1
RK_DEBS       := $(RK_XEN_DEB) $(RK_LINUX_DEB) $(RK_BUSYBOX_DEB)
RK_SRC        := qemu-tests/realkernels

.PHONY: realkernels realkernels-clean
realkernels: $(RK_DIR)/xen.elf $(RK_DIR)/vmlinuz $(RK_DIR)/initrd.gz
test: realkernels

# One directory per package, holding exactly one .deb once downloaded.
$(RK_DIR)/versions.txt: | $(SETUP_STAMP)
	@mkdir -p $(RK_DIR)/debs
	@set -e; cd $(RK_DIR)/debs; for spec in $(RK_DEBS); do \
	  pkg=$${spec%%=*}; \
	  if ls $${pkg}_*.deb >/dev/null 2>&1; then continue; fi; \
	  echo "apt-get download $$spec"; \
	  apt-get download -q "$$spec" 2>/dev/null || { \
	    echo "pinned $$spec not in the archive (or lists missing): apt-get update, then the candidate"; \
	    SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); $$SUDO apt-get update -qq; \
	    apt-get download -q "$$spec" 2>/dev/null || apt-get download -q "$$pkg"; }; \
	done
	@for d in $(RK_DIR)/debs/*.deb; do dpkg-deb -W --showformat='$${Package}=$${Version}\n' "$$d"; done > $@.tmp
	@mv $@.tmp $@
	@cat $@

$(RK_DIR)/root/.unpacked: $(RK_DIR)/versions.txt
	rm -rf $(RK_DIR)/root
	@mkdir -p $(RK_DIR)/root
	for d in $(RK_DIR)/debs/*.deb; do dpkg -x "$$d" $(RK_DIR)/root; done
	@touch $@

$(RK_DIR)/xen.elf: $(RK_DIR)/root/.unpacked
	zcat $(RK_DIR)/root/boot/xen-*-amd64.gz > $@.tmp
	@mv $@.tmp $@

$(RK_DIR)/vmlinuz: $(RK_DIR)/root/.unpacked
	cp $(RK_DIR)/root/boot/vmlinuz-*-amd64 $@

$(RK_DIR)/initrd.gz: $(RK_DIR)/root/.unpacked $(RK_SRC)/init.sh $(RK_SRC)/build-initramfs.py
	python3 $(RK_SRC)/build-initramfs.py --busybox $(RK_DIR)/root/bin/busybox --init $(RK_SRC)/init.sh --out $@

realkernels-clean:
	rm -rf $(RK_DIR)
