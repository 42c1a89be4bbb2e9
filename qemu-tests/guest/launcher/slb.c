#include "slb.h"
#include "../common/string.h"

#define SLB_MAX_FILE (SLB_SIZE - 0x1000) /* GRUB keeps 4 KiB for the SLRT */
#define SLRT_AREA 0x1000u

static const uint8_t skl_uuid[16] = { 0x78, 0xf1, 0x26, 0x8e, 0x04, 0x92, 0x11, 0xe9,
				      0x83, 0x2a, 0xc8, 0x5b, 0x76, 0xc4, 0xcc, 0x02 };

/* The six checks of GRUB-B grub_skinit_is_slb (abi-grub-xen.md §1.4), in its order. */
static void grub_checks(const uint8_t *f, uint32_t size, const uint16_t *w)
{
	if (size > SLB_MAX_FILE)
		fail_hex("SLB file larger than 0xF000:", size);
	if (w[1] > size)
		fail_hex("SLB measured size beyond the file:", w[1]);
	if (w[0] >= w[1])
		fail_hex("SLB entry not inside the measured part:", w[0]);
	if (w[1] < 16 || w[2] > w[1] - 16)
		fail_hex("SLB skl_info beyond the measured part:", w[2]);
	if (w[3] > SLB_MAX_FILE)
		fail_hex("SLB bootloader data offset above 0xF000:", w[3]);
	if (memcmp(f + w[2], skl_uuid, 16))
		fail("SLB skl_info UUID mismatch");
}

void slb_place(struct launch *l, const void *file, uint32_t size)
{
	uint8_t *slb;

	if (size < 8)
		fail("SLB file shorter than its header");
	memcpy(l->word, file, 8);
	grub_checks(file, size, l->word);

	if (l->cfg.slb_base & (SLB_SIZE - 1))
		fail_hex("slb_base not 64 KiB aligned:", l->cfg.slb_base);
	/* Overlaps with anything else in use were refused when the base was reserved (alloc.c). */
	if (l->cfg.slb_base < 0x100000 || l->cfg.slb_base > 0xFFFFFFFFu - SLB_SIZE)
		fail_hex("slb_base outside [1 MiB, 4 GiB - 64 KiB]:", l->cfg.slb_base);
	l->slb_base = l->cfg.slb_base;
	l->slrt_addr = l->slb_base + l->word[3];
	slb = (uint8_t *)l->slb_base;

	/* GRUB leaves the SLB past the measured bytes uninitialised: make that visible. */
	memset(slb, 0xA5, SLB_SIZE);
	memcpy(slb, file, l->word[1]);
	memset(slb + l->word[3], 0, SLRT_AREA);

	say_hex("SLB placed at", l->slb_base);
	say_hex("SLB entry offset", l->word[0]);
	say_hex("SLB measured size", l->word[1]);
	say_hex("SLRT at", l->slrt_addr);
}
