#include "legacy.h"
#include "slrt.h"
#include "../common/string.h"

/* ---- SLRT-A: 16-bit entry headers, DL_INFO 52 B, LOG_INFO 20 B, END 4 B ---- */

struct slra_hdr {
	uint16_t tag, size;
} __attribute__((packed));

struct slra_dl_info {
	struct slra_hdr hdr;
	uint16_t bootloader, reserved;
	uint64_t context;
	uint64_t dl_handler;
	uint64_t dce_base;
	uint32_t dce_size;
	uint64_t dlme_base;
	uint32_t dlme_size;
	uint32_t dlme_entry;
} __attribute__((packed));

struct slra_log_info {
	struct slra_hdr hdr;
	uint16_t format, reserved;
	uint64_t addr;
	uint32_t size;
} __attribute__((packed));

struct slra_policy_entry {
	uint16_t pcr, entity_type, flags, reserved;
	uint64_t entity, size; /* swapped against SLRT-B */
	char evt_info[32];
} __attribute__((packed));

struct slra_drtm_policy {
	struct slra_hdr hdr;
	uint16_t revision, nr_entries;
} __attribute__((packed));

_Static_assert(sizeof(struct slra_dl_info) == 52, "SLRT-A DL_INFO");
_Static_assert(__builtin_offsetof(struct slra_dl_info, dlme_base) == 36, "SLRT-A dlme_base");
_Static_assert(sizeof(struct slra_log_info) == 20, "SLRT-A LOG_INFO");
_Static_assert(sizeof(struct slra_policy_entry) == 56, "SLRT-A policy entry");

static uint8_t *put_entry(uint8_t *p, uint16_t tag, uint16_t size)
{
	struct slra_hdr *h = (struct slra_hdr *)p;
	h->tag = tag;
	h->size = size;
	return p;
}

static void slra_policy(struct slra_policy_entry *pe, uint16_t pcr, uint16_t type, uint16_t flags,
			uint64_t entity, uint64_t size, const char *evt)
{
	pe->pcr = pcr;
	pe->entity_type = type;
	pe->flags = flags;
	pe->entity = entity;
	pe->size = size;
	memcpy(pe->evt_info, evt, strlen(evt));
}

void legacy_write_slrt_a(struct launch *l)
{
	struct slr_table *t = (struct slr_table *)l->slrt_addr;
	uint8_t *p = (uint8_t *)(t + 1);
	struct slra_dl_info *dl;
	struct slra_log_info *log;
	struct slra_drtm_policy *pol;
	struct slra_policy_entry *pe;
	uint16_t n = (uint16_t)(2 + l->nr_modules);

	memset(t, 0, SLRT_MAX_SIZE);
	t->magic = SLRT_MAGIC;
	t->revision = SLRT_REVISION;
	t->architecture = SLRT_ARCH_SKINIT;
	t->max_size = SLRT_MAX_SIZE;

	dl = (struct slra_dl_info *)put_entry(p, SLR_TAG_DL_INFO, sizeof(*dl));
	dl->bootloader = 1;
	dl->context = MBI_ADDR;
	dl->dce_base = l->slb_base;
	dl->dce_size = l->word[1];
	dl->dlme_base = l->dlme_base;
	dl->dlme_size = l->dlme_size;
	dl->dlme_entry = l->dlme_entry;
	p += sizeof(*dl);

	log = (struct slra_log_info *)put_entry(p, SLR_TAG_LOG_INFO, sizeof(*log));
	log->format = l->cfg.log_format;
	log->addr = LOG_ADDR;
	log->size = LOG_SIZE;
	p += sizeof(*log);

	pol = (struct slra_drtm_policy *)put_entry(p, SLR_TAG_DRTM_POLICY,
						   (uint16_t)(sizeof(*pol) + n * sizeof(*pe)));
	pol->revision = 1;
	pol->nr_entries = n;
	pe = (struct slra_policy_entry *)(pol + 1);
	slra_policy(pe++, 18, SLR_ET_MULTIBOOT2_INFO, 0, MBI_ADDR, l->mbi_size, "Measured MB2 information");
	slra_policy(pe++, 18, SLR_ET_SLRT, SLR_POLICY_IMPLICIT_SIZE, l->slrt_addr, 0, "Measured SLR Table");
	for (uint32_t i = 0; i < l->nr_modules; i++)
		slra_policy(pe++, 17, SLR_ET_MULTIBOOT2_MODULE, 0, l->modules[i].start,
			    l->modules[i].end - l->modules[i].start, "Measured MB2 module");
	p = (uint8_t *)pe;

	put_entry(p, SLR_TAG_END, sizeof(struct slra_hdr));
	p += sizeof(struct slra_hdr);
	t->size = (uint32_t)(p - (uint8_t *)t);
	say_hex("scenario: SLRT-A written, size", t->size);
}

/* ---- SKL `master` tag list, as GRUB PR #4 writes it for Multiboot2 (90 bytes) ---- */

#define TAG_END 0x00
#define TAG_BOOT_MB2 0x11
#define TAG_EVENT_LOG 0x20
#define TAG_SKL_HASH 0x21
#define TAG_TAGS_SIZE 0x0F

static uint8_t *tag(uint8_t *p, uint8_t type, uint8_t len)
{
	memset(p, 0, len);
	p[0] = type;
	p[1] = len;
	return p;
}


void legacy_write_tags(struct launch *l)
{
	uint8_t *start = (uint8_t *)l->slrt_addr, *p = start;

	memset(start, 0, SLRT_MAX_SIZE);
	p = tag(p, TAG_TAGS_SIZE, 4) + 4; /* size patched below */
	/*
	 * SKL_HASH bodies: GRUB puts SHA-256 / SHA-1 of the SLB here. Left zero: SKL must refuse the
	 * format before it could use them, and the launcher carries no hash code.
	 */
	put16(tag(p, TAG_SKL_HASH, 36) + 2, 0x000B);
	p += 36;
	put16(tag(p, TAG_SKL_HASH, 24) + 2, 0x0004);
	p += 24;
	tag(p, TAG_BOOT_MB2, 14);
	put32(p + 2, MBI_ADDR); /* kernel_entry, kernel_size: 0 as GRUB writes them */
	p += 14;
	tag(p, TAG_EVENT_LOG, 10);
	put32(p + 2, LOG_ADDR);
	put32(p + 6, LOG_SIZE);
	p += 10;
	p = tag(p, TAG_END, 2) + 2;
	put16(start + 2, (uint16_t)(p - start));
	say_hex("scenario: tag list written, size", (uint32_t)(p - start));
}
