#include "alloc.h"
#include "../common/string.h"

#define MAX_RAW 64
#define MAX_USED 96
#define TOP32 0x100000000ull

/* Multiboot1 information (only the fields read here). */
struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));
#define MB1_FLAG_MMAP (1u << 6)

struct mb1_mmap {
	uint32_t size; /* of the rest of this entry */
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct range {
	uint64_t start, end;
};

static struct mem_region raw[MAX_RAW];
static uint32_t nr_raw;
static struct range used[MAX_USED];
static uint32_t nr_used;

void mem_init(uint32_t mb1_addr)
{
	const struct mb1_info *mb1 = (const struct mb1_info *)mb1_addr;

	nr_raw = 0;
	if (mb1 && (mb1->flags & MB1_FLAG_MMAP)) {
		uint32_t p = mb1->mmap_addr, end = mb1->mmap_addr + mb1->mmap_length;
		while (p < end && nr_raw < MAX_RAW) {
			const struct mb1_mmap *m = (const struct mb1_mmap *)p;
			raw[nr_raw].addr = m->addr;
			raw[nr_raw].len = m->len;
			raw[nr_raw].type = m->type;
			nr_raw++;
			p += m->size + 4;
		}
	} else {
		/* Fixed map for a 1 GiB q35 guest: low RAM, BIOS area, RAM up to 1 GiB. */
		static const struct mem_region fixed[] = {
			{ 0, 0x9FC00, E820_RAM },
			{ 0xF0000, 0x10000, E820_RESERVED },
			{ 0x100000, 0x40000000 - 0x100000, E820_RAM },
		};
		memcpy(raw, fixed, sizeof(fixed));
		nr_raw = sizeof(fixed) / sizeof(fixed[0]);
	}
}

/*
 * GRUB's scan line over region starts and ends: at each point the type is that of the region
 * that became present first; a region is announced when the type changes, so touching regions
 * of one type come out as one. Types GRUB does not know stay as they are (it maps only "hole").
 */
uint32_t mem_map_grub(struct mem_region *out, uint32_t max)
{
	uint64_t pts[2 * MAX_RAW];
	uint32_t n = 0, nout = 0;

	for (uint32_t i = 0; i < nr_raw; i++) {
		pts[n++] = raw[i].addr;
		pts[n++] = raw[i].addr + raw[i].len;
	}
	for (uint32_t i = 1; i < n; i++) /* insertion sort: a handful of points */
		for (uint32_t j = i; j && pts[j - 1] > pts[j]; j--) {
			uint64_t t = pts[j];
			pts[j] = pts[j - 1];
			pts[j - 1] = t;
		}
	for (uint32_t k = 0; k + 1 < n; k++) {
		uint64_t a = pts[k], b = pts[k + 1];
		int type = -1;
		uint64_t first = ~0ull;
		if (a == b)
			continue;
		for (uint32_t i = 0; i < nr_raw; i++)
			if (raw[i].addr <= a && raw[i].addr + raw[i].len >= b && raw[i].addr < first) {
				first = raw[i].addr;
				type = (int)raw[i].type;
			}
		if (type < 0)
			continue;
		if (nout && out[nout - 1].type == (uint32_t)type && out[nout - 1].addr + out[nout - 1].len == a) {
			out[nout - 1].len += b - a;
			continue;
		}
		if (nout == max)
			fail("memory map: too many entries");
		out[nout].addr = a;
		out[nout].len = b - a;
		out[nout].type = (uint32_t)type;
		nout++;
	}
	return nout;
}

/* GRUB's grub_mmap_get_lower/upper: available RAM at 0 and at 1 MiB, in bytes. */
static uint64_t avail_from(uint64_t at)
{
	struct mem_region m[MAX_RAW];
	uint32_t n = mem_map_grub(m, MAX_RAW);
	for (uint32_t i = 0; i < n; i++)
		if (m[i].type == E820_RAM && m[i].addr <= at && m[i].addr + m[i].len > at)
			return m[i].addr + m[i].len - at;
	return 0;
}

uint32_t mem_lower_kib(void)
{
	uint64_t v = avail_from(0);
	return (uint32_t)((v > 0xA0000 ? 0xA0000 : v) / 1024);
}

uint32_t mem_upper_kib(void)
{
	return (uint32_t)(avail_from(0x100000) / 1024);
}

static int is_ram(uint64_t start, uint64_t end)
{
	struct mem_region m[MAX_RAW];
	uint32_t n = mem_map_grub(m, MAX_RAW);
	for (uint32_t i = 0; i < n; i++)
		if (m[i].type == E820_RAM && m[i].addr <= start && m[i].addr + m[i].len >= end)
			return 1;
	return 0;
}

static void add_used(uint64_t start, uint64_t end)
{
	uint32_t i = nr_used;
	if (nr_used == MAX_USED)
		fail("allocator: too many chunks");
	while (i && used[i - 1].start > start) {
		used[i] = used[i - 1];
		i--;
	}
	used[i].start = start;
	used[i].end = end;
	nr_used++;
}

static int overlaps_used(uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; i < nr_used; i++)
		if (used[i].start < end && start < used[i].end)
			return 1;
	return 0;
}

void mem_reserve(uint32_t start, uint32_t size, const char *what)
{
	uint64_t end = (uint64_t)start + size;
	if (!size)
		return;
	if (overlaps_used(start, end)) {
		say(what);
		fail_hex("overlaps memory already in use at", start);
	}
	add_used(start, end);
}

/* Free pieces of [a, b) (sorted), at most `max`. */
static uint32_t free_pieces(uint64_t a, uint64_t b, struct range *out, uint32_t max)
{
	uint64_t cur = a;
	uint32_t n = 0;
	for (uint32_t i = 0; i < nr_used && n < max; i++) {
		if (used[i].end <= cur)
			continue;
		if (used[i].start >= b)
			break;
		if (used[i].start > cur) {
			out[n].start = cur;
			out[n].end = used[i].start;
			n++;
		}
		if (used[i].end > cur)
			cur = used[i].end;
	}
	if (cur < b && n < max) {
		out[n].start = cur;
		out[n].end = b;
		n++;
	}
	return n;
}

uint32_t mem_alloc(uint32_t min, uint32_t max, uint32_t size, uint32_t align, int pref, const char *what)
{
	struct mem_region m[MAX_RAW];
	struct range pieces[MAX_USED + 1];
	uint32_t n = mem_map_grub(m, MAX_RAW);
	uint64_t a = ~0ull;

	if (!align)
		align = 1;
	for (uint32_t ri = 0; ri < n; ri++) {
		/* LOW: regions and pieces bottom-up, first fit; HIGH: the highest fit overall. */
		uint32_t np;
		uint64_t rs = m[ri].addr, re = m[ri].addr + m[ri].len;
		if (m[ri].type != E820_RAM || rs >= TOP32)
			continue;
		if (re > TOP32)
			re = TOP32;
		np = free_pieces(rs, re, pieces, MAX_USED + 1);
		for (uint32_t pi = 0; pi < np; pi++) {
			uint64_t s = pieces[pi].start > min ? pieces[pi].start : min, c;
			uint64_t e = pieces[pi].end;
			if (pref == PREF_LOW) {
				c = (s + align - 1) & ~(uint64_t)(align - 1);
				if (c + size <= e && c <= max) {
					a = c;
					goto found;
				}
			} else {
				if (e < (uint64_t)size + s)
					continue;
				c = (e - size) & ~(uint64_t)(align - 1);
				if (c > max)
					c = (uint64_t)max & ~(uint64_t)(align - 1);
				if (c >= s && c + size <= e && (a == ~0ull || c > a))
					a = c;
			}
		}
	}
	if (a == ~0ull) {
		say(what);
		fail_hex("no free memory for a chunk of size", size);
	}
found:
	add_used(a, a + size);
	return (uint32_t)a;
}

int mem_is_ram(uint32_t start, uint32_t size);
int mem_is_ram(uint32_t start, uint32_t size)
{
	return is_ram(start, (uint64_t)start + size);
}
