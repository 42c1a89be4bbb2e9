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

static void policy_entry(struct slr_policy_entry *pe, uint16_t pcr, uint16_t type, uint16_t flags,
			 uint64_t entity, uint64_t size, const char *evt)
{
	pe->pcr = pcr;
	pe->entity_type = type;
	pe->flags = flags;
	pe->entity = entity;
	pe->size = size;
	memcpy(pe->evt_info, evt, strlen(evt)); /* rest stays zero (NUL padded) */
}

void slrt_build(struct launch *l)
{
	struct slr_table *t = (struct slr_table *)l->slrt_addr;
	struct slr_entry_hdr *end = (struct slr_entry_hdr *)(t + 1);
	struct slr_dl_info *dl;
	struct slr_log_info *log;
	struct slr_drtm_policy *pol;
	uint32_t n = 2 + l->nr_modules;

	/* GRUB starts with header + END (size 24) and inserts every entry before END. */
	t->magic = SLRT_MAGIC;
	t->revision = SLRT_REVISION;
	t->architecture = l->cfg.txt ? SLRT_ARCH_TXT : SLRT_ARCH_SKINIT;
	t->max_size = SLRT_MAX_SIZE;
	t->size = sizeof(*t) + sizeof(*end);
	end->tag = SLR_TAG_END;
	end->size = sizeof(*end);

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

	log = slrt_add(t, SLR_TAG_LOG_INFO, sizeof(*log));
	log->format = l->cfg.log_format;
	log->size = LOG_SIZE;
	log->addr = LOG_ADDR;

	pol = slrt_add(t, SLR_TAG_DRTM_POLICY, sizeof(*pol) + n * sizeof(struct slr_policy_entry));
	pol->revision = 1;
	pol->nr_entries = (uint16_t)n;
	policy_entry(&pol->entries[0], 18, SLR_ET_MULTIBOOT2_INFO, 0, MBI_ADDR, l->mbi_size,
		     "Measured MB2 information");
	policy_entry(&pol->entries[1], 18, SLR_ET_SLRT, SLR_POLICY_IMPLICIT_SIZE, l->slrt_addr, 0,
		     "Measured SLR Table");
	for (uint32_t i = 0; i < l->nr_modules; i++)
		policy_entry(&pol->entries[2 + i], 17, SLR_ET_MULTIBOOT2_MODULE, 0, l->modules[i].start,
			     l->modules[i].end - l->modules[i].start, "Measured MB2 module");

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
