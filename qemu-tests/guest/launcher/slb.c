#include "slb.h"
#include "alloc.h"
#include "slrt.h"
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

static uint16_t u16_at(const uint8_t *f, uint32_t o) { return (uint16_t)(f[o] | f[o + 1] << 8); }

/*
 * GRUB tb-dev grub_skl_set_module (grub-core/loader/slaunch/skl.c @66aec2e2) on the 0x46-byte AMD
 * SL header {u16 entry, u16 length, u8 reserved[62], u16 skl_info_offset, u16 bootloader_data_offset}
 * (its u8[62] covers our GUID, total length and SOC flags), in its order.
 */
static void tbdev_checks(const uint8_t *f, uint32_t size)
{
	uint16_t entry = u16_at(f, 0), len = u16_at(f, 2), info = u16_at(f, 0x42), bl = u16_at(f, 0x44);

	if (size > SLB_MAX_FILE)
		fail_hex("tb-dev: SKL module too large:", size);
	if (len > size)
		fail_hex("tb-dev: SKL module has wrong measured size:", len);
	if (entry >= len)
		fail_hex("tb-dev: SKL module doesn't measure its entry:", entry);
	if (len < 16 || info > len - 16)
		fail_hex("tb-dev: SKL module doesn't measure info:", info);
	if (SLB_SIZE - bl < SLRT_AREA)
		fail_hex("tb-dev: SKL module has not enough space for SLRT:", bl);
	if (len > bl)
		fail_hex("tb-dev: SKL module measures bootloader data:", bl);
	/* skl_info: uuid[16], u32 version (GRUB_SKL_VERSION 0), msb_key_algo, msb_key_hash[64] */
	if (f[info + 16] | f[info + 17] | f[info + 18] | f[info + 19])
		fail("tb-dev: SKL module has unexpected version");
	if (memcmp(f + info, skl_uuid, 16))
		fail("tb-dev: SKL module has unexpected UUID");
}

void slb_place(struct launch *l, const void *file, uint32_t size)
{
	uint8_t *slb;
	const uint8_t *f = file;

	if (size < (g_grub.tbdev || g_grub.slrt_field == 0x44 ? 0x46u : 8u))
		fail("SLB file shorter than its header");
	memcpy(l->word, file, 8);
	g_grub.file_size = size;
	if (g_grub.grub_checks && g_grub.tbdev)
		tbdev_checks(f, size);
	else if (g_grub.grub_checks)
		grub_checks(file, size, l->word);
	else
		say("SLB header checks skipped (grub_checks=0)");
	/* Where the SLRT goes: the u16 at 0x06 (GRUB-B) or at 0x44 (tb-dev, AMD SL header). */
	l->word[3] = u16_at(f, g_grub.slrt_field);
	if (l->word[3] > SLB_SIZE - SLRT_AREA)
		fail_hex("SLRT offset leaves less than 4 KiB:", l->word[3]);

	if (l->cfg.slb_base == SLB_BASE_HIGH) /* tb-dev grub_skl_setup_module: HIGH, below 4 GiB */
		l->cfg.slb_base = mem_alloc(0, 0xFFFFFFFFu - SLB_SIZE, SLB_SIZE, SLB_SIZE, PREF_HIGH, "SLB");

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
	if (g_grub.tbdev) {
		/* tb-dev copies the whole file and writes the SLRT without zeroing the area first. */
		memcpy(slb, file, size);
	} else {
		memcpy(slb, file, l->word[1]);
		memset(slb + l->word[3], 0, SLRT_AREA);
	}

	say_hex("SLB placed at", l->slb_base);
	say_hex("SLB entry offset", l->word[0]);
	say_hex("SLB measured size", l->word[1]);
	say_hex("SLRT at", l->slrt_addr);
}
