#include "scenarios.h"
#include "legacy.h"
#include "slrt.h"
#include "../common/console.h"
#include "../common/string.h"

#define TAG_BOGUS 0x7777 /* a tag no SLRT revision defines */

static struct slr_dl_info *dl_info(struct slr_table *t)
{
	struct slr_dl_info *dl = slrt_find(t, SLR_TAG_DL_INFO);
	if (!dl)
		fail("scenario: no DL_INFO to patch");
	return dl;
}

static struct slr_log_info *log_info(struct slr_table *t)
{
	struct slr_log_info *log = slrt_find(t, SLR_TAG_LOG_INFO);
	if (!log)
		fail("scenario: no LOG_INFO to patch");
	return log;
}

static void bad_magic(struct launch *l, struct slr_table *t) { (void)l; t->magic = 0xDEADBEEF; }
static void bad_revision(struct launch *l, struct slr_table *t) { (void)l; t->revision = 2; }
static void bad_arch(struct launch *l, struct slr_table *t) { (void)l; t->architecture = 1; /* TXT */ }

static void no_end(struct launch *l, struct slr_table *t)
{
	(void)l;
	struct slr_entry_hdr *end = slrt_find(t, SLR_TAG_END);
	end->tag = TAG_BOGUS; /* size stays 8 */
}

static void size_over_max(struct launch *l, struct slr_table *t) { (void)l; t->size = SLRT_MAX_SIZE + 1; }

static void size_truncated(struct launch *l, struct slr_table *t)
{
	(void)l;
	uint32_t dl_off = (uint32_t)dl_info(t) - (uint32_t)t;
	t->size = dl_off + sizeof(struct slr_dl_info) / 2; /* 16 + 36 = 52 */
}

static void zero_size_entry(struct launch *l, struct slr_table *t) { (void)l; log_info(t)->hdr.size = 0; }
static void dl_info_wrong_size(struct launch *l, struct slr_table *t) { (void)l; dl_info(t)->hdr.size = 64; }

static void duplicate_dl_info(struct launch *l, struct slr_table *t)
{
	(void)l;
	struct slr_dl_info copy = *dl_info(t);
	struct slr_dl_info *dup = slrt_add(t, SLR_TAG_DL_INFO, sizeof(copy));
	*dup = copy;
}

static void no_dl_info(struct launch *l, struct slr_table *t) { (void)l; dl_info(t)->hdr.tag = TAG_BOGUS; }

static void entry_outside_dlme(struct launch *l, struct slr_table *t)
{
	(void)l;
	struct slr_dl_info *dl = dl_info(t);
	dl->dlme_entry = dl->dlme_size;
}

static void dlme_overlaps_slb(struct launch *l, struct slr_table *t)
{
	struct slr_dl_info *dl = dl_info(t);
	dl->dlme_base = l->slb_base - 0x1000;
	dl->dlme_size = 0x2000;
}

static void dlme_above_4g(struct launch *l, struct slr_table *t) { (void)l; dl_info(t)->dlme_base |= 1ull << 32; }
static void dlme_wraps(struct launch *l, struct slr_table *t) { (void)l; dl_info(t)->dlme_size = 0xFFFFFFFFFFFFF000ull; }
static void log_overlaps_slb(struct launch *l, struct slr_table *t) { log_info(t)->addr = l->slb_base + 0x8000; }

static struct slr_amd_info *amd_info(struct slr_table *t)
{
	struct slr_amd_info *a = slrt_find(t, SLR_TAG_AMD_INFO);
	if (!a)
		fail("scenario: no AMD_INFO to patch");
	return a;
}

static struct slr_dl_info88 *dl_info88(struct slr_table *t)
{
	struct slr_dl_info88 *dl = slrt_find(t, SLR_TAG_DL_INFO);
	if (!dl || dl->hdr.size != sizeof(*dl))
		fail("scenario: needs dl_info_size=88");
	return dl;
}

/* AMD_INFO dropped (GRUB tb-dev appends it last, right before END): the table shrinks by it. */
static void no_amd_info(struct launch *l, struct slr_table *t)
{
	(void)l;
	struct slr_amd_info *a = amd_info(t);
	uint32_t size = a->hdr.size;
	if ((uint8_t *)a + size + sizeof(struct slr_entry_hdr) != (uint8_t *)t + t->size)
		fail("scenario: AMD_INFO is not the last entry");
	memset(a, 0, size);
	a->hdr.tag = SLR_TAG_END;
	a->hdr.size = sizeof(struct slr_entry_hdr);
	t->size -= size;
}

static void amd_info_type(struct launch *l, struct slr_table *t) { (void)l; amd_info(t)->type = 11; }
static void amd_info_slrt_base(struct launch *l, struct slr_table *t) { (void)l; amd_info(t)->slrt_base += 0x10; }
static void boot_params_zero(struct launch *l, struct slr_table *t) { (void)l; amd_info(t)->boot_params_base = 0; }
static void boot_params_in_slb(struct launch *l, struct slr_table *t) { amd_info(t)->boot_params_base = l->slb_base + 0x100; }
static void mle_header_offset_wrong(struct launch *l, struct slr_table *t) { (void)l; dl_info88(t)->dlme_header_offset += 16; }
static void config_table_in_slb(struct launch *l, struct slr_table *t) { dl_info88(t)->dlme_config_table = l->slb_base; }

static void slrt_a_layout(struct launch *l, struct slr_table *t) { (void)t; legacy_write_slrt_a(l); }
static void tag_protocol(struct launch *l, struct slr_table *t) { (void)t; legacy_write_tags(l); }

/*
 * The DLME fields (and the host's good PCR 17 prediction) describe the untouched kernel. Flip the
 * last byte of the DLME range: the top of the test kernel's stack, never read before written.
 */
static void kernel_tampered(struct launch *l, struct slr_table *t)
{
	(void)t;
	uint8_t *b = (uint8_t *)(l->dlme_base + l->dlme_size - 1);
	*b ^= 0xFF;
	say_hex("scenario: flipped kernel byte at", (uint32_t)b);
}

/*
 * Module 1 moved to start inside module 0 (the last 16 bytes), in the MBI's module tag and in its
 * policy entry alike, so the policy still matches the MBI: only the overlap is wrong.
 */
static void modules_overlap(struct launch *l, struct slr_table *t)
{
	if (l->nr_modules < 2)
		fail("scenario modules_overlap: needs two modules");
	uint32_t old = l->modules[1].start, len = l->modules[1].end - old;
	uint32_t now = l->modules[0].end - 16;
	uint8_t *mbi = (uint8_t *)MBI_ADDR;
	uint32_t total = *(uint32_t *)mbi;
	for (uint32_t off = 8; off + 16 <= total;) {
		uint32_t *tag = (uint32_t *)(mbi + off);
		if (tag[0] == 0)
			break;
		if (tag[0] == 3 && tag[2] == old) {
			tag[2] = now;
			tag[3] = now + len;
		}
		off += (tag[1] + 7) & ~7u;
	}
	struct slr_drtm_policy *p = slrt_find(t, SLR_TAG_DRTM_POLICY);
	if (!p)
		fail("scenario modules_overlap: no policy");
	for (unsigned i = 0; i < p->nr_entries; i++)
		if (p->entries[i].entity == old)
			p->entries[i].entity = now;
	l->modules[1].start = now;
	l->modules[1].end = now + len;
}

static const struct {
	const char *name;
	void (*apply)(struct launch *, struct slr_table *);
} scenarios[] = {
	{ "good", 0 },
	{ "bad_magic", bad_magic },
	{ "bad_revision", bad_revision },
	{ "bad_arch", bad_arch },
	{ "no_end", no_end },
	{ "size_over_max", size_over_max },
	{ "size_truncated", size_truncated },
	{ "zero_size_entry", zero_size_entry },
	{ "dl_info_wrong_size", dl_info_wrong_size },
	{ "duplicate_dl_info", duplicate_dl_info },
	{ "no_dl_info", no_dl_info },
	{ "entry_outside_dlme", entry_outside_dlme },
	{ "dlme_overlaps_slb", dlme_overlaps_slb },
	{ "dlme_above_4g", dlme_above_4g },
	{ "dlme_wraps", dlme_wraps },
	{ "log_overlaps_slb", log_overlaps_slb },
	{ "slrt_a_layout", slrt_a_layout },
	{ "tag_protocol", tag_protocol },
	{ "kernel_tampered", kernel_tampered },
	{ "no_amd_info", no_amd_info },
	{ "amd_info_type", amd_info_type },
	{ "amd_info_slrt_base", amd_info_slrt_base },
	{ "boot_params_zero", boot_params_zero },
	{ "boot_params_in_slb", boot_params_in_slb },
	{ "mle_header_offset_wrong", mle_header_offset_wrong },
	{ "config_table_in_slb", config_table_in_slb },
	{ "modules_overlap", modules_overlap },
};

static unsigned find(const char *name)
{
	for (unsigned i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, name))
			return i;
	fail("unknown scenario");
}

void scenario_check(const char *name) { (void)find(name); }

void scenario_apply(struct launch *l)
{
	unsigned i = find(l->cfg.scenario);

	con_puts("LAUNCHER: scenario ");
	con_puts(l->cfg.scenario);
	con_putc('\n');
	if (scenarios[i].apply)
		scenarios[i].apply(l, (struct slr_table *)l->slrt_addr);
}
