## ---- QEMU test guests (included by the top-level Makefile) -------------
# 32-bit freestanding C + GNU as: the launcher (Multiboot1, plays GRUB slaunch + SKINIT) and the
# test kernel (Multiboot2 + TXT MLE header, the DLME). See qemu-tests/guest/README.md.

GUEST_DIR   := qemu-tests/guest
GUEST_BUILD := $(BUILD)/qemu-tests
GUEST_CC    ?= gcc
GUEST_LD    ?= ld
GUEST_CFLAGS := -m32 -ffreestanding -fno-pic -fno-stack-protector -nostdlib -O2 -Wall -Wextra -Werror \
	-std=gnu11 -march=i686 -mno-sse -mno-mmx -mno-80387 -fno-asynchronous-unwind-tables \
	-fcf-protection=none -MMD -MP
GUEST_ASFLAGS := -m32 -fno-pic -Wall -Werror -MMD -MP
# Bare-metal images without paging: one RWX segment is expected, there is no stack to protect.
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static --build-id=none -z noexecstack --no-warn-rwx-segments

GUEST_COMMON   := console.c string.c
LAUNCHER_SRCS  := start.S skinit.S txt_enter.S main.c config.c fwcfg.c alloc.c elf.c mbi.c slb.c slrt.c legacy.c scenarios.c drtm.c txt.c
KERNEL_SRCS    := entry.S main.c tis.c pcr.c mbi.c dma.c

guest_objs = $(patsubst %,$(GUEST_BUILD)/$(1)/%.o,$(2)) $(patsubst %,$(GUEST_BUILD)/common/%.o,$(GUEST_COMMON))
LAUNCHER_OBJS := $(call guest_objs,launcher,$(LAUNCHER_SRCS))
KERNEL_OBJS   := $(call guest_objs,kernel,$(KERNEL_SRCS))

.PHONY: guests
guests: $(GUEST_BUILD)/launcher.elf $(GUEST_BUILD)/kernel.elf $(GUEST_BUILD)/kernel-plain.elf

$(GUEST_BUILD)/launcher.elf: $(LAUNCHER_OBJS) $(GUEST_DIR)/launcher/launcher.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -T $(GUEST_DIR)/launcher/launcher.ld -o $@ $(LAUNCHER_OBJS)

$(GUEST_BUILD)/kernel.elf: $(KERNEL_OBJS) $(GUEST_DIR)/kernel/kernel.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -T $(GUEST_DIR)/kernel/kernel.ld -o $@ $(KERNEL_OBJS)

# The same kernel without a TXT MLE header: a plain Multiboot2 kernel, which SKL enters in
# Multiboot2 mode after measuring the DRTM policy itself.
KERNEL_PLAIN_OBJS := $(patsubst $(GUEST_BUILD)/kernel/entry.S.o,$(GUEST_BUILD)/kernel-plain/entry.S.o,$(KERNEL_OBJS))
$(GUEST_BUILD)/kernel-plain/entry.S.o: $(GUEST_DIR)/kernel/entry.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_ASFLAGS) -DSKL_PLAIN_MB2 -c $< -o $@

$(GUEST_BUILD)/kernel-plain.elf: $(KERNEL_PLAIN_OBJS) $(GUEST_DIR)/kernel/kernel.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -T $(GUEST_DIR)/kernel/kernel.ld -o $@ $(KERNEL_PLAIN_OBJS)

# Objects mirror the source tree: $(GUEST_BUILD)/{launcher,kernel,common}/x.c.o
$(GUEST_BUILD)/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_BUILD)/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_ASFLAGS) -c $< -o $@

-include $(sort $(LAUNCHER_OBJS:.o=.d) $(KERNEL_OBJS:.o=.d))
