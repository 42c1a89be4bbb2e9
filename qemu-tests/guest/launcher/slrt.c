#include "slrt.h"
#include "txt.h"
#include "../common/string.h"

_Static_assert(sizeof(struct slr_table) == 16, "SLRT header");
_Static_assert(sizeof(struct slr_dl_info) == 72, "DL_INFO");
_Static_assert(__builtin_offsetof(struct slr_dl_info, context) == 56, "DL_INFO context");
_Static_assert(sizeof(struct slr_log_info) == 24, "LOG_INFO");
_Static_assert(sizeof(struct slr_drtm_policy) == 16, "DRTM_POLICY");
_Static_assert(sizeof(struct slr_policy_entry) == 56, "policy entry");
_Static_assert(sizeof(struct slr_amd_info) == 56, "AMD_INFO");
_Static_assert(sizeof(struct slr_intel_info) == 552, "INTEL_INFO");
_Static_assert(sizeof(struct slr_dl_info88) == 88, "DL_INFO (88)");
_Static_assert(__builtin_offsetof(struct slr_dl_info88, context) == 72, "DL_INFO (88) context");
_Static_assert(__builtin_offsetof(struct slr_amd_info, psp_version) == 48, "AMD_INFO psp_version");

#define SETUP_SECURE_LAUNCH 10 /* Linux setup_data type of AMD_INFO (Secure Launch spec) */

static struct slr_entry_hdr *end_entry(struct slr_table *t)
{
	return (struct slr_entry_hdr *)((uint8_t *)t + t->size - sizeof(struct slr_entry_hdr));
}

void *slrt_add(struct slr_table *t, uint32_t tag, uint32_t size)
{
	struct slr_entry_hdr *e = end_entry(t), *end;

	if (t->size + size > t->max_size)
		fail("SLRT full");
	memset(e, 0, size);
	e->tag = tag;
	e->size = size;
	end = (struct slr_entry_hdr *)((uint8_t *)e + size);
	end->tag = SLR_TAG_END;
	end->size = sizeof(*end);
	t->size += size;
	return e;
}

void *slrt_find(struct slr_table *t, uint32_t tag)
{
	uint8_t *p = (uint8_t *)(t + 1), *end = (uint8_t *)t + t->size;
	while (p + sizeof(struct slr_entry_hdr) <= end) {
		struct slr_entry_hdr *e = (struct slr_entry_hdr *)p;
		if (e->tag == tag)
			return e;
		if (e->tag == SLR_TAG_END || e->size < sizeof(*e))
			break;
		p += e->size;
	}
	return 0;
}

void policy_entry(struct slr_policy_entry *pe, uint16_t pcr, uint16_t type, uint16_t flags, uint64_t entity,
		  uint64_t size, const char *evt)
{
	pe->pcr = pcr;
	pe->entity_type = type;
	pe->flags = flags;
	pe->entity = entity;
	pe->size = size;
	memcpy(pe->evt_info, evt, strlen(evt)); /* rest stays zero (NUL padded) */
}

void slrt_init(struct slr_table *t, uint16_t architecture, uint32_t max_size)
{
	struct slr_entry_hdr *end = (struct slr_entry_hdr *)(t + 1);

	t->magic = SLRT_MAGIC;
	t->revision = SLRT_REVISION;
	t->architecture = architecture;
	t->max_size = max_size;
	t->size = sizeof(*t) + sizeof(*end);
	end->tag = SLR_TAG_END;
	end->size = sizeof(*end);
}

void slrt_add_log_info(struct slr_table *t, uint32_t format)
{
	struct slr_log_info *log = slrt_add(t, SLR_TAG_LOG_INFO, sizeof(*log));

	log->format = format;
	log->size = LOG_SIZE;
	log->addr = LOG_ADDR;
}

struct slr_drtm_policy *slrt_add_policy(struct slr_table *t, const struct launch *l, uint32_t slots,
					 uint32_t first_module)
{
	struct slr_drtm_policy *pol =
		slrt_add(t, SLR_TAG_DRTM_POLICY, sizeof(*pol) + slots * sizeof(struct slr_policy_entry));

	pol->revision = 1;
	pol->nr_entries = (uint16_t)slots;
	for (uint32_t i = 2; i < slots; i++)
		pol->entries[i].entity_type = SLR_ET_UNUSED;
	policy_entry(&pol->entries[0], 18, SLR_ET_MULTIBOOT2_INFO, 0, MBI_ADDR, l->mbi_size,
		     "Measured MB2 information");
	policy_entry(&pol->entries[1], 18, SLR_ET_SLRT, SLR_POLICY_IMPLICIT_SIZE, l->slrt_addr, 0,
		     "Measured SLR Table");
	for (uint32_t i = 0; i < l->nr_modules; i++)
		policy_entry(&pol->entries[first_module + i], 17, SLR_ET_MULTIBOOT2_MODULE, 0, l->modules[i].start,
			     l->modules[i].end - l->modules[i].start, "Measured MB2 module");
	return pol;
}

/*
 * GRUB tb-dev's DL_INFO context is its own `slparams` and dl_handler its `dl_entry_trampoline`:
 * addresses inside the loader, never the MBI. These two play them (launcher range, 1-4 MiB).
 */
static uint8_t tbdev_slparams[256];
static void tbdev_dl_entry_trampoline(void) { fail("tb-dev: dl_handler called"); }

/* First TXT MLE header in the DLME's first 4 KiB (16-byte steps, as GRUB and SKL scan), or -1. */
static int32_t mle_header_offset(const struct launch *l)
{
	static const uint8_t uuid[16] = { 0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74,
					  0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42 };
	for (uint32_t o = 0; o + 16 <= 4096 && o + 16 <= l->dlme_size; o += 16)
		if (!memcmp((const void *)(l->dlme_base + o), uuid, 16))
			return (int32_t)o;
	return -1;
}

/*
 * GRUB tb-dev @66aec2e2 for a Multiboot2 kernel on AMD: grub_skl_prepare_bootloader_data
 * (slaunch/skl.c) -> grub_slr_init_table(max_size = 64 KiB - offset), then grub_setup_slr_table
 * (slaunch/slrt.c): DL_INFO, LOG_INFO, DRTM_POLICY (16 slots: the fill_policy_hook's MBI first,
 * the SLRT, five Linux slots UNUSED, the modules from slot 7 on, the rest UNUSED), AMD_INFO.
 */
static void slrt_build_tbdev(struct launch *l)
{
	struct slr_table *t = (struct slr_table *)l->slrt_addr;
	struct slr_amd_info *amd;
	uint32_t bl_size = SLB_SIZE - (l->slrt_addr - l->slb_base);

	if (7 + l->nr_modules > TBDEV_POLICY_SLOTS)
		fail("tb-dev: more modules than policy slots");
	slrt_init(t, SLRT_ARCH_SKINIT, bl_size);

	if (g_grub.dl_info_size == 88) {
		struct slr_dl_info88 *dl = slrt_add(t, SLR_TAG_DL_INFO, sizeof(*dl));
		int32_t mle = mle_header_offset(l);
		dl->dce_size = g_grub.file_size;
		dl->dce_base = l->slb_base;
		dl->dlme_size = l->dlme_size;
		dl->dlme_base = l->dlme_base;
		dl->dlme_entry = l->dlme_entry;
		dl->dlme_header_offset = mle < 0 ? 0 : (uint32_t)mle;
		dl->dlme_config_table = 0;
		dl->bootloader = 1;
		dl->context = (uint32_t)tbdev_slparams;
		dl->dl_launch = (uint32_t)tbdev_dl_entry_trampoline;
	} else {
		struct slr_dl_info *dl = slrt_add(t, SLR_TAG_DL_INFO, sizeof(*dl));
		dl->dce_size = g_grub.file_size; /* grub_skl_setup_module: dce_size = skl_size */
		dl->dce_base = l->slb_base;
		dl->dlme_size = l->dlme_size;
		dl->dlme_base = l->dlme_base;
		dl->dlme_entry = l->dlme_entry;
		dl->bootloader = 1;
		dl->context = (uint32_t)tbdev_slparams;
		dl->dl_handler = (uint32_t)tbdev_dl_entry_trampoline;
	}

	slrt_add_log_info(t, g_grub.tb_log_format); /* GRUB: TPM20_LOG whatever the TPM */
	/* The five Linux slots (2-6) stay UNUSED: an MB2 boot has no boot_params. */
	slrt_add_policy(t, l, TBDEV_POLICY_SLOTS, 7);

	amd = slrt_add(t, SLR_TAG_AMD_INFO, g_grub.amd_info_size);
	amd->next = 0;
	amd->type = SETUP_SECURE_LAUNCH;
	amd->len = g_grub.amd_info_size;
	amd->slrt_size = bl_size;
	amd->slrt_base = l->slrt_addr;
	amd->boot_params_base = MBI_ADDR; /* grub_multiboot2_perform_slaunch: boot_params_base = MBI */
	if (g_grub.amd_info_size >= sizeof(*amd))
		amd->psp_version = g_grub.psp_version;
	say_hex("SLRT (GRUB tb-dev) written, size", t->size);
}

void slrt_build(struct launch *l)
{
	struct slr_table *t = (struct slr_table *)l->slrt_addr;
	struct slr_dl_info *dl;

	if (g_grub.tbdev && !l->cfg.txt) {
		slrt_build_tbdev(l);
		return;
	}
	/* GRUB starts with header + END (size 24) and inserts every entry before END. */
	slrt_init(t, l->cfg.txt ? SLRT_ARCH_TXT : SLRT_ARCH_SKINIT, SLRT_MAX_SIZE);

	dl = slrt_add(t, SLR_TAG_DL_INFO, sizeof(*dl));
	/* AMD: the SLB's measured part; TXT: the SINIT ACM (GRUB txt.c fills it so). */
	dl->dce_size = l->cfg.txt ? TXT_SINIT_SIZE : l->word[1];
	dl->dce_base = l->cfg.txt ? TXT_SINIT_BASE : l->slb_base;
	dl->dlme_size = l->dlme_size;
	dl->dlme_base = l->dlme_base;
	dl->dlme_entry = l->dlme_entry;
	dl->bootloader = 1; /* GRUB */
	dl->context = MBI_ADDR;
	dl->dl_handler = 0;

	slrt_add_log_info(t, l->cfg.log_format);
	slrt_add_policy(t, l, 2 + l->nr_modules, 2);

	if (l->cfg.txt)
		txt_intel_info(slrt_add(t, SLR_TAG_INTEL_INFO, sizeof(struct slr_intel_info)));

	if (l->cfg.amd_info) {
		/* As the newest TrenchBoot GRUB fills it: len = whole entry, slrt_size = allocation. */
		struct slr_amd_info *amd = slrt_add(t, SLR_TAG_AMD_INFO, sizeof(*amd));
		amd->next = 0;
		amd->type = SETUP_SECURE_LAUNCH;
		amd->len = sizeof(*amd);
		amd->slrt_size = t->max_size;
		amd->slrt_base = l->slrt_addr;
		amd->boot_params_base = MBI_ADDR;
		amd->psp_version = 0;
	}
	say_hex("SLRT-B written, size", t->size);
}
