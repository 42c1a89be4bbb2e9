/*
 * The Multiboot2 information in the tag order of grub_multiboot2_make_mbi (TrenchBoot GRUB
 * aem-qubes-4.2.3-rebase, grub-core/loader/multiboot_mbi2.c): load base address, command line,
 * boot loader name, APM (BIOS), modules, memory map, ELF sections, basic meminfo, boot device
 * (BIOS), framebuffer, EFI64 system table (UEFI), ACPI old/new RSDP, EFI memory map (UEFI, boot
 * services exited) or EFI_BS + EFI64 image handle (UEFI, boot services kept), end.
 */
#include "mbi.h"
#include "alloc.h"
#include "../common/string.h"

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_BOOTLOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_BOOTDEV 5
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ELF_SECTIONS 9
#define MB2_TAG_APM 10
#define MB2_TAG_EFI64 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18
#define MB2_TAG_EFI64_IH 20
#define MB2_TAG_LOAD_BASE 21

#define GRUB_PACKAGE_STRING "GRUB 2.06" /* AC_INIT in the branch's configure.ac */
#define MBI_SCRATCH_MAX 0x10000u
#define EFI_DESC_SIZE 48
#define ALIGN8(x) (((x) + 7u) & ~7u)

static uint8_t scratch[MBI_SCRATCH_MAX] __attribute__((aligned(8)));
static uint8_t *cur;

static uint32_t *tag_begin(uint32_t type)
{
	uint32_t *t = (uint32_t *)cur;
	t[0] = type;
	t[1] = 8;
	return t;
}

/* Closes a tag of `size` bytes; the next starts 8-byte aligned (padding zeroed). */
static void tag_end(uint32_t *t, uint32_t size)
{
	t[1] = size;
	cur = (uint8_t *)t + size;
	while ((uint32_t)cur & 7)
		*cur++ = 0;
	if ((uint32_t)cur > (uint32_t)scratch + MBI_SCRATCH_MAX - 1024)
		fail("MBI larger than the launcher's scratch buffer");
}

static void tag_string(uint32_t type, const char *s)
{
	uint32_t *t = tag_begin(type);
	uint32_t n = strlen(s) + 1;
	memcpy(t + 2, s, n);
	tag_end(t, 8 + n);
}

static uint8_t checksum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* GRUB's RSDP search (kern/i386/pc/acpi.c): EBDA first KiB, then 0xE0000-0xFFFFF, 16-byte steps;
 * v1 wants revision 0, v2 revision != 0 with a good extended checksum. */
static const uint8_t *find_rsdp(int v2)
{
	uint16_t seg;
	uint32_t ebda;
	memcpy(&seg, (const void *)(uint32_t)0x40E, 2); /* BDA word: EBDA segment */
	ebda = (uint32_t)seg << 4;
	const uint8_t *ranges[2][2] = { { (const uint8_t *)ebda, (const uint8_t *)ebda + 0x400 },
					{ (const uint8_t *)0xE0000, (const uint8_t *)0x100000 } };
	uint16_t ebda_len = 0;
	if (ebda)
		memcpy(&ebda_len, (const void *)ebda, 2);
	for (int r = ebda && ebda_len ? 0 : 1; r < 2; r++)
		for (const uint8_t *p = ranges[r][0]; p < ranges[r][1]; p += 16) {
			uint32_t len;
			if (memcmp(p, "RSD PTR ", 8) || checksum(p, 20))
				continue;
			if (!v2 && p[15] == 0)
				return p;
			len = *(const uint32_t *)(p + 20);
			if (v2 && p[15] != 0 && len < 1024 && !checksum(p, len))
				return p;
		}
	return 0;
}

static void tag_mmap(void)
{
	struct mem_region m[64];
	uint32_t n = mem_map_grub(m, 64);
	uint32_t *t = tag_begin(MB2_TAG_MMAP);
	uint8_t *e = (uint8_t *)(t + 4);
	t[2] = 24; /* entry_size */
	t[3] = 0;  /* entry_version */
	for (uint32_t i = 0; i < n; i++, e += 24) {
		put64(e, m[i].addr);
		put64(e + 8, m[i].len);
		put32(e + 16, m[i].type);
		put32(e + 20, 0);
	}
	tag_end(t, (uint32_t)(e - (uint8_t *)t));
}

/* EFI memory descriptors (UEFI spec 2.x, 48 bytes as firmware reports them) from the map:
 * conventional memory for RAM, reserved otherwise; 4 KiB pages. */
static uint32_t efi_mmap(uint8_t *out)
{
	struct mem_region m[64];
	uint32_t n = mem_map_grub(m, 64);
	for (uint32_t i = 0; i < n; i++, out += EFI_DESC_SIZE) {
		if (out) {
			memset(out, 0, EFI_DESC_SIZE);
			put32(out, m[i].type == 1 ? 7 : m[i].type == 3 ? 9 : m[i].type == 4 ? 10 : 0);
			put64(out + 8, m[i].addr);
			put64(out + 24, (m[i].len + 0xFFF) >> 12);
			put64(out + 32, 0xF); /* UC WC WT WB */
		}
	}
	return n * EFI_DESC_SIZE;
}

/* A dummy EFI system table / image handle: SKL only has to parse the pointers. */
static uint32_t efi_dummy(struct launch *l)
{
	static uint32_t at;
	(void)l;
	if (!at) {
		at = mem_alloc(0x1000, 0xFFFFF000u, 0x1000, 0x1000, PREF_LOW, "dummy EFI system table");
		memset((void *)at, 0, 0x1000);
		memcpy((void *)at, "IBI SYST", 8); /* EFI_SYSTEM_TABLE_SIGNATURE */
		put32((uint8_t *)at + 8, (2u << 16) | 70); /* revision 2.70 */
		put32((uint8_t *)at + 12, 120);	   /* header size */
	}
	return at;
}

/* grub_multiboot2_get_mbi_size: the chunk GRUB allocates before writing (an upper bound). */
static uint32_t grub_mbi_bound(struct launch *l, uint32_t mmap_n, int uefi)
{
	const uint8_t *v2 = find_rsdp(1);
	uint32_t modcmd = 0, n;
	for (uint32_t i = 0; i < l->nr_modules; i++)
		modcmd += ALIGN8(strlen(l->modules[i].cmdline) + 1);
	n = 8 + 8 + 8 + (8 + ALIGN8(strlen(l->cfg.cmdline) + 1)) + (8 + ALIGN8(sizeof(GRUB_PACKAGE_STRING))) +
	    l->nr_modules * 16 + modcmd + 16 + ALIGN8(20) + ALIGN8(20) + ALIGN8(l->shentsize * l->shnum) +
	    ALIGN8(16 + mmap_n * 24) + 40 + ALIGN8(8 + 20) + 16 +
	    (v2 ? ALIGN8(8 + *(const uint32_t *)(v2 + 20)) : 0);
	if (uefi)
		n += 16 + 16 + 16 + 16 + ALIGN8(16 + mmap_n * EFI_DESC_SIZE);
	return n + 784 + 7 + 28 + 7; /* VBE and APM tags, each with alignment slack */
}

static int built;

uint32_t mbi_scratch(void)
{
	return built ? (uint32_t)scratch : 0;
}

void mbi_build(struct launch *l)
{
	int uefi = l->cfg.firmware == FW_UEFI, keep_bs = uefi && l->cfg.efi_bs;
	struct mem_region m[64];
	const uint8_t *rsdp;
	uint32_t *t;

	cur = scratch + 8; /* total_size, reserved */
	t = tag_begin(MB2_TAG_LOAD_BASE);
	t[2] = l->load_base;
	tag_end(t, 12);
	tag_string(MB2_TAG_CMDLINE, l->cfg.cmdline);
	tag_string(MB2_TAG_BOOTLOADER, GRUB_PACKAGE_STRING);
	if (!uefi && l->cfg.apm) {
		/* grub_apm_get_info (int 15h AX=5300h...) is a BIOS call the launcher cannot make from
		 * protected mode: SeaBIOS-like values (APM 1.2, 32-bit PM interface in the F segment). */
		uint8_t *p;
		t = tag_begin(MB2_TAG_APM);
		p = (uint8_t *)(t + 2);
		put16(p + 0, 0x0102); /* version */
		put16(p + 2, 0xF000); /* cseg */
		put32(p + 4, 0x0000); /* offset */
		put16(p + 8, 0xF000); /* cseg_16 */
		put16(p + 10, 0xF000); /* dseg */
		put16(p + 12, 0x0003); /* flags: 16- and 32-bit PM interfaces */
		put16(p + 14, 0xFFF0); /* cseg_len */
		put16(p + 16, 0xFFF0); /* cseg_16_len */
		put16(p + 18, 0xFFF0); /* dseg_len */
		tag_end(t, 28);
	}
	for (uint32_t i = 0; i < l->nr_modules; i++) {
		const struct module *mod = &l->modules[i];
		uint32_t n = strlen(mod->cmdline) + 1;
		t = tag_begin(MB2_TAG_MODULE);
		t[2] = mod->start;
		t[3] = mod->end;
		memcpy(t + 4, mod->cmdline, n);
		tag_end(t, 16 + n);
	}
	if (!keep_bs)
		tag_mmap();
	t = tag_begin(MB2_TAG_ELF_SECTIONS);
	t[2] = l->shnum;
	t[3] = l->shentsize;
	t[4] = l->shstrndx;
	memcpy(t + 5, l->shdrs, l->shnum * l->shentsize);
	tag_end(t, 20 + l->shnum * l->shentsize);
	if (!keep_bs) {
		t = tag_begin(MB2_TAG_BASIC_MEMINFO);
		t[2] = mem_lower_kib();
		t[3] = mem_upper_kib();
		tag_end(t, 16);
	}
	if (!uefi) {
		/* grub_multiboot2_set_bootdev: root on the first partition of BIOS disk 0x80. */
		t = tag_begin(MB2_TAG_BOOTDEV);
		t[2] = 0x80;
		t[3] = 0;
		t[4] = 0xFFFFFFFF;
		tag_end(t, 20);
	}
	t = tag_begin(MB2_TAG_FRAMEBUFFER);
	if (!uefi) {
		/* VGA text mode 3, as GRUB reports it when no video driver is active. */
		put64(t + 2, 0xB8000);
		t[4] = 160;			 /* pitch */
		t[5] = 80;			 /* width */
		t[6] = 25;			 /* height */
		put32((uint8_t *)(t + 7), 16 | 2 << 8); /* bpp 16, type EGA text, reserved 0 */
		tag_end(t, 32);
	} else {
		/* A GOP framebuffer: RGB, 1024x768x32. */
		uint8_t *c = (uint8_t *)(t + 8);
		put64(t + 2, 0x80000000u);
		t[4] = 4096;
		t[5] = 1024;
		t[6] = 768;
		put32((uint8_t *)(t + 7), 32 | 1 << 8);
		c[0] = 16, c[1] = 8, c[2] = 8, c[3] = 8, c[4] = 0, c[5] = 8;
		tag_end(t, 38);
	}
	if (uefi) {
		t = tag_begin(MB2_TAG_EFI64);
		put64(t + 2, efi_dummy(l));
		tag_end(t, 16);
	}
	if ((rsdp = find_rsdp(0))) {
		t = tag_begin(MB2_TAG_ACPI_OLD);
		memcpy(t + 2, rsdp, 20);
		tag_end(t, 8 + 20);
	}
	if ((rsdp = find_rsdp(1))) {
		uint32_t len = *(const uint32_t *)(rsdp + 20);
		t = tag_begin(MB2_TAG_ACPI_NEW);
		memcpy(t + 2, rsdp, len);
		tag_end(t, 8 + len);
	}
	if (uefi && !keep_bs) {
		uint32_t n;
		t = tag_begin(MB2_TAG_EFI_MMAP);
		t[2] = EFI_DESC_SIZE; /* descr_size */
		t[3] = 1;	      /* descr_vers */
		n = efi_mmap((uint8_t *)(t + 4));
		tag_end(t, 16 + n);
	}
	if (keep_bs) {
		t = tag_begin(MB2_TAG_EFI_BS);
		tag_end(t, 8);
		t = tag_begin(MB2_TAG_EFI64_IH);
		put64(t + 2, efi_dummy(l) + 0x800);
		tag_end(t, 16);
	}
	t = tag_begin(MB2_TAG_END);
	tag_end(t, 8);

	l->mbi_size = (uint32_t)(cur - scratch);
	put32(scratch, l->mbi_size);
	put32(scratch + 4, 0);
	l->mbi_alloc = grub_mbi_bound(l, mem_map_grub(m, 64), uefi);
	if (l->mbi_alloc < l->mbi_size)
		l->mbi_alloc = l->mbi_size;
	MBI_ADDR = mem_alloc(0x1000, 0xFFFFFFFFu - l->mbi_alloc + 1, l->mbi_alloc, 8, PREF_LOW, "MBI");
	memcpy((void *)MBI_ADDR, scratch, l->mbi_size);
	built = 1;
	say_hex("MBI at", MBI_ADDR);
	say_hex("MBI built, total_size", l->mbi_size);
}

uint32_t *mbi_module_tag(uint32_t i)
{
	uint8_t *p = (uint8_t *)MBI_ADDR + 8, *end = (uint8_t *)MBI_ADDR + *(uint32_t *)MBI_ADDR;
	while (p + 8 <= end) {
		uint32_t *t = (uint32_t *)p;
		if (t[0] == 0)
			break;
		if (t[0] == 3 && i-- == 0)
			return t;
		p += (t[1] + 7) & ~7u;
	}
	fail("no such module tag in the MBI");
}
