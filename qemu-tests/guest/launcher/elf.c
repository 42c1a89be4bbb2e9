#include "elf.h"
#include "alloc.h"
#include "../common/string.h"

#define PT_LOAD 1
#define EM_386 3
#define SHT_REL 9
#define SHT_RELA 4
#define MB2_HEADER_MAGIC 0xE85250D6u
#define MB2_SEARCH 32768 /* GRUB's MULTIBOOT_SEARCH */
#define MB2_HT_END 0
#define MB2_HT_ENTRY 3
#define MB2_HT_EFI_BS 7
#define MB2_HT_RELOCATABLE 10

struct elf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __attribute__((packed));

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __attribute__((packed));

struct elf32_shdr {
	uint32_t name, type, flags, addr, offset, size, link, info, addralign, entsize;
} __attribute__((packed));

/* TXT MLE header (Intel TXT MLE Developer's Guide, version 2.2 layout as Xen writes it). */
struct mle_header {
	uint8_t uuid[16];
	uint32_t header_len, version, entry_point, first_valid_page;
	uint32_t mle_start, mle_end, capabilities, cmdline_start, cmdline_end;
} __attribute__((packed));

static const uint8_t mle_uuid[16] = { 0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74,
				      0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42 };

/* Section headers GRUB hands to the kernel in the ELF-sections tag. */
static uint8_t shdr_copy[64 * 1024];

/* The MLE header lies in the first 4 KiB of the loaded image, 16-byte aligned, as GRUB scans. */
int32_t mle_header_offset(uint32_t lo, uint32_t hi)
{
	for (uint32_t off = 0; off + sizeof(struct mle_header) <= 4096 && lo + off + sizeof(struct mle_header) <= hi;
	     off += 16)
		if (!memcmp((const void *)(lo + off), mle_uuid, 16))
			return (int32_t)off;
	return -1;
}

static const struct elf32_phdr *phdr(const uint8_t *file, const struct elf32_ehdr *eh, int i)
{
	return (const struct elf32_phdr *)(file + eh->phoff + (uint32_t)i * eh->phentsize);
}

struct mb2_header_info {
	int relocatable, efi_bs, entry_specified;
	uint32_t min_addr, max_addr, align, preference, entry;
};

/* GRUB's multiboot_mbi2.c: the header is 8-byte aligned in the first 32 KiB, checksummed. */
static void mb2_header(const uint8_t *f, uint32_t size, struct mb2_header_info *h)
{
	uint32_t lim = size < MB2_SEARCH ? size : MB2_SEARCH;
	memset(h, 0, sizeof(*h));
	for (uint32_t off = 0; off + 16 <= lim; off += 8) {
		const uint32_t *w = (const uint32_t *)(f + off);
		uint32_t p;
		if (w[0] != MB2_HEADER_MAGIC || w[0] + w[1] + w[2] + w[3] != 0)
			continue;
		if (w[1] != 0)
			fail("Multiboot2 header: not i386");
		for (p = off + 16; p + 8 <= off + w[2] && p + 8 <= size;) {
			uint16_t type = *(const uint16_t *)(f + p);
			uint32_t tsize = *(const uint32_t *)(f + p + 4);
			if (type == MB2_HT_END)
				return;
			if (type == MB2_HT_RELOCATABLE && tsize >= 24) {
				h->relocatable = 1;
				h->min_addr = *(const uint32_t *)(f + p + 8);
				h->max_addr = *(const uint32_t *)(f + p + 12);
				h->align = *(const uint32_t *)(f + p + 16);
				h->preference = *(const uint32_t *)(f + p + 20);
			}
			if (type == MB2_HT_ENTRY && tsize >= 12) {
				h->entry_specified = 1;
				h->entry = *(const uint32_t *)(f + p + 8);
			}
			if (type == MB2_HT_EFI_BS)
				h->efi_bs = 1;
			if (tsize < 8)
				fail("Multiboot2 header: tag size < 8");
			p += (tsize + 7) & ~7u;
		}
		return;
	}
	fail("no Multiboot2 header in the kernel's first 32 KiB");
}

/* Non-allocated sections with contents get a chunk of their own (GRUB: NONE, sh_addralign). */
static void load_sections(struct launch *l, const uint8_t *f, uint32_t size, const struct elf32_ehdr *eh)
{
	uint32_t bytes = (uint32_t)eh->shnum * eh->shentsize;
	l->shnum = eh->shnum;
	l->shentsize = eh->shentsize;
	l->shstrndx = eh->shstrndx;
	l->shdrs = shdr_copy;
	if (!eh->shnum)
		return;
	if (bytes > sizeof(shdr_copy) || eh->shoff + bytes > size || eh->shentsize < sizeof(struct elf32_shdr))
		fail("kernel section headers out of file");
	memcpy(shdr_copy, f + eh->shoff, bytes);
	for (uint32_t i = 0; i < eh->shnum; i++) {
		struct elf32_shdr *sh = (struct elf32_shdr *)(shdr_copy + i * eh->shentsize);
		uint32_t at;
		if (sh->type == SHT_REL || sh->type == SHT_RELA)
			fail("ELF files with relocs are not supported (GRUB refuses them too)");
		if (sh->addr || !sh->size)
			continue;
		if (sh->offset + sh->size > size)
			fail("kernel section out of file");
		at = mem_alloc(0, 0xFFFFFFFFu - sh->size, sh->size, sh->addralign, PREF_LOW, "ELF section");
		memcpy((void *)at, f + sh->offset, sh->size);
		sh->addr = at;
	}
}

void elf_load_kernel(struct launch *l, const void *file, uint32_t size)
{
	const uint8_t *f = file;
	const struct elf32_ehdr *eh = file;
	uint32_t lo = 0xFFFFFFFF, hi = 0, base, entry_paddr = 0;
	const struct mle_header *mle = 0;
	struct mb2_header_info h;
	int32_t off;
	int i;

	if (size < sizeof(*eh) || memcmp(eh->ident, "\x7f" "ELF", 4) || eh->ident[4] != 1 ||
	    eh->machine != EM_386)
		fail("kernel is not an ELF32 i386 image");
	if (eh->phentsize < sizeof(struct elf32_phdr) ||
	    eh->phoff + (uint32_t)eh->phnum * eh->phentsize > size)
		fail("kernel program headers out of file");
	mb2_header(f, size, &h);
	l->efi_bs_requested = h.efi_bs;

	/* Link range = [lowest p_paddr, highest p_paddr + p_memsz) over PT_LOAD, as GRUB. */
	for (i = 0; i < eh->phnum; i++) {
		const struct elf32_phdr *ph = phdr(f, eh, i);
		if (ph->type != PT_LOAD)
			continue;
		if (ph->filesz > ph->memsz || ph->offset + ph->filesz > size ||
		    ph->offset + ph->filesz < ph->offset)
			fail("kernel segment out of file");
		if (ph->paddr < lo)
			lo = ph->paddr;
		if (ph->paddr + ph->memsz > hi)
			hi = ph->paddr + ph->memsz;
	}
	if (hi <= lo)
		fail("kernel has no PT_LOAD segment");
	l->link_base = lo;
	l->load_size = hi - lo;
	if (l->fixed_load_base) {
		/* Replay: where the captured SLRT says the DLME starts. */
		base = l->fixed_load_base;
		mem_reserve(base, l->load_size, "kernel (replay)");
	} else if (h.relocatable) {
		/* multiboot_elfxx.c: one chunk for the whole range, zeroed, segments at their offset. */
		if (l->load_size > h.max_addr || h.min_addr > h.max_addr - l->load_size)
			fail("invalid min/max address and/or load size");
		base = mem_alloc(h.min_addr, h.max_addr - l->load_size, l->load_size, h.align,
				 h.preference == 2 ? PREF_HIGH : PREF_LOW, "kernel (relocatable)");
		memset((void *)base, 0, l->load_size);
		say_hex("relocatable kernel: min", h.min_addr);
		say_hex("relocatable kernel: max", h.max_addr);
		say_hex("relocatable kernel: align", h.align);
		say_hex("relocatable kernel: preference", h.preference);
	} else {
		/* GRUB refuses this for slaunch ("Non-relocatable ELF not supported"); the test kernel
		 * is linked at 16 MiB and is loaded there, each segment a chunk at its address. */
		base = lo;
		for (i = 0; i < eh->phnum; i++) {
			const struct elf32_phdr *ph = phdr(f, eh, i);
			if (ph->type == PT_LOAD && ph->memsz)
				mem_reserve(ph->paddr, ph->memsz, "kernel segment");
		}
		say("kernel has no relocatable tag: loaded at its link address");
	}
	l->load_base = base;
	for (i = 0; i < eh->phnum; i++) {
		const struct elf32_phdr *ph = phdr(f, eh, i);
		uint8_t *dst;
		if (ph->type != PT_LOAD)
			continue;
		dst = (uint8_t *)(base + (ph->paddr - lo));
		memcpy(dst, f + ph->offset, ph->filesz);
		memset(dst + ph->filesz, 0, ph->memsz - ph->filesz);
	}
	/* Entry: e_entry in the segment whose vaddr range holds it, moved with the image. */
	for (i = 0; i < eh->phnum; i++) {
		const struct elf32_phdr *ph = phdr(f, eh, i);
		if (ph->vaddr <= eh->entry && ph->vaddr + ph->memsz > eh->entry) {
			entry_paddr = eh->entry - ph->vaddr + ph->paddr + (base - lo);
			break;
		}
	}
	if (i == eh->phnum)
		fail("entry point isn't in a segment");
	/* An entry address tag wins over e_entry and moves with the image (multiboot_mbi2.c). */
	if (h.entry_specified)
		entry_paddr = h.entry + (base - lo);
	load_sections(l, f, size, eh);

	off = mle_header_offset(base, base + l->load_size);
	if (off >= 0)
		mle = (const struct mle_header *)(base + (uint32_t)off);
	l->kernel_entry_elf = entry_paddr;
	l->dlme_base = base; /* GRUB: mle_start = load base */
	if (!mle) {
		/* A plain Multiboot2 kernel (no Secure Launch support; Debian's Xen): the whole load
		 * range is the DLME and the ELF entry point its entry; SKL runs in Multiboot2 mode.
		 * (GRUB itself refuses such a kernel for slaunch: "MLE header not found".) */
		l->dlme_size = l->load_size;
		l->dlme_entry = entry_paddr - base;
		say("no MLE header: plain Multiboot2 kernel");
	} else {
		if (mle->mle_end <= mle->mle_start)
			fail("MLE header: mle_end <= mle_start");
		l->dlme_size = mle->mle_end - mle->mle_start;
		l->dlme_entry = mle->entry_point;
	}
	say_hex("kernel loaded at", base);
	say_hex("kernel load end", base + l->load_size);
	say_hex("dlme_size", l->dlme_size);
	say_hex("dlme_entry", l->dlme_entry);
}
