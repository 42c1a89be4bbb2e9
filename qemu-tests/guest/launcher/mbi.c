#include "mbi.h"
#include "../common/string.h"

/* Multiboot2 tag types used here. */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_BOOTLOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_LOAD_BASE 21

/* Multiboot1 information (only the fields read here). */
struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));
#define MB1_FLAG_MEM (1u << 0)
#define MB1_FLAG_MMAP (1u << 6)

struct mb1_mmap {
	uint32_t size; /* of the rest of this entry */
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct mb2_mmap_entry {
	uint64_t addr, len;
	uint32_t type, reserved;
} __attribute__((packed));

static uint8_t *mbi_cur;

/* Starts a tag at the current (8-byte aligned) position; returns its start. */
static uint32_t *tag_begin(uint32_t type)
{
	uint32_t *t = (uint32_t *)mbi_cur;
	t[0] = type;
	t[1] = 8;
	return t;
}

/* Closes a tag of `size` bytes and aligns the next one to 8 bytes (padding zeroed). */
static void tag_end(uint32_t *t, uint32_t size)
{
	t[1] = size;
	mbi_cur = (uint8_t *)t + size;
	while ((uint32_t)mbi_cur & 7)
		*mbi_cur++ = 0;
	if ((uint32_t)mbi_cur > MBI_ADDR + MBI_MAX)
		fail("MBI larger than 64 KiB");
}

static void tag_string(uint32_t type, const char *s)
{
	uint32_t *t = tag_begin(type);
	uint32_t n = strlen(s) + 1;
	memcpy(t + 2, s, n);
	tag_end(t, 8 + n);
}

static void tag_module(const struct module *m)
{
	uint32_t *t = tag_begin(MB2_TAG_MODULE);
	uint32_t n = strlen(m->cmdline) + 1;
	t[2] = m->start;
	t[3] = m->end;
	memcpy(t + 4, m->cmdline, n);
	tag_end(t, 16 + n);
}

static void tag_memory(uint32_t mb1_addr)
{
	const struct mb1_info *mb1 = (const struct mb1_info *)mb1_addr;
	uint32_t *t;
	struct mb2_mmap_entry *e;

	t = tag_begin(MB2_TAG_BASIC_MEMINFO);
	if (mb1 && (mb1->flags & MB1_FLAG_MEM)) {
		t[2] = mb1->mem_lower;
		t[3] = mb1->mem_upper;
	} else {
		t[2] = 639;
		t[3] = (1u << 20) - 1024; /* KiB above 1 MiB in a 1 GiB guest */
	}
	tag_end(t, 16);

	t = tag_begin(MB2_TAG_MMAP);
	t[2] = sizeof(struct mb2_mmap_entry); /* entry_size */
	t[3] = 0;			      /* entry_version */
	e = (struct mb2_mmap_entry *)(t + 4);
	if (mb1 && (mb1->flags & MB1_FLAG_MMAP)) {
		uint32_t p = mb1->mmap_addr, end = mb1->mmap_addr + mb1->mmap_length;
		while (p < end) {
			const struct mb1_mmap *m = (const struct mb1_mmap *)p;
			e->addr = m->addr;
			e->len = m->len;
			e->type = m->type;
			e->reserved = 0;
			e++;
			p += m->size + 4;
		}
	} else {
		/* Fixed map for the 1 GiB q35 guest: low RAM, BIOS hole, RAM up to 1 GiB. */
		static const struct mb2_mmap_entry fixed[] = {
			{ 0, 0x9FC00, 1, 0 },
			{ 0xF0000, 0x10000, 2, 0 },
			{ 0x100000, 0x40000000 - 0x100000, 1, 0 },
		};
		memcpy(e, fixed, sizeof(fixed));
		e += sizeof(fixed) / sizeof(fixed[0]);
	}
	tag_end(t, (uint32_t)e - (uint32_t)t);
}

void mbi_build(struct launch *l, uint32_t mb1_info)
{
	uint32_t *t;

	mbi_cur = (uint8_t *)MBI_ADDR + 8; /* total_size, reserved */
	tag_string(MB2_TAG_CMDLINE, l->cfg.cmdline);
	tag_string(MB2_TAG_BOOTLOADER, "skl-launcher");
	for (uint32_t i = 0; i < l->nr_modules; i++)
		tag_module(&l->modules[i]);
	tag_memory(mb1_info);
	t = tag_begin(MB2_TAG_LOAD_BASE);
	t[2] = l->dlme_base;
	tag_end(t, 12);
	t = tag_begin(MB2_TAG_END);
	tag_end(t, 8);

	l->mbi_size = (uint32_t)mbi_cur - MBI_ADDR;
	((uint32_t *)MBI_ADDR)[0] = l->mbi_size;
	((uint32_t *)MBI_ADDR)[1] = 0;
	say_hex("MBI built, total_size", l->mbi_size);
}
