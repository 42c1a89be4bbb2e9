#include "elf.h"
#include "../common/string.h"

#define PT_LOAD 1
#define EM_386 3

struct elf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __attribute__((packed));

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __attribute__((packed));

/* TXT MLE header (Intel TXT MLE Developer's Guide, version 2.2 layout as Xen writes it). */
struct mle_header {
	uint8_t uuid[16];
	uint32_t header_len, version, entry_point, first_valid_page;
	uint32_t mle_start, mle_end, capabilities, cmdline_start, cmdline_end;
} __attribute__((packed));

static const uint8_t mle_uuid[16] = { 0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74,
				      0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42 };

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

void elf_load_kernel(struct launch *l, const void *file, uint32_t size)
{
	const uint8_t *f = file;
	const struct elf32_ehdr *eh = file;
	uint32_t lo = 0xFFFFFFFF, hi = 0;
	const struct mle_header *mle = 0;
	int32_t off;

	if (size < sizeof(*eh) || memcmp(eh->ident, "\x7f" "ELF", 4) || eh->ident[4] != 1 ||
	    eh->machine != EM_386)
		fail("kernel is not an ELF32 i386 image");
	if (eh->phentsize < sizeof(struct elf32_phdr) ||
	    eh->phoff + (uint32_t)eh->phnum * eh->phentsize > size)
		fail("kernel program headers out of file");

	/* Load range = [lowest p_paddr, highest p_paddr + p_memsz), zeroed first like GRUB. */
	for (int i = 0; i < eh->phnum; i++) {
		const struct elf32_phdr *ph = phdr(f, eh, i);
		if (ph->type != PT_LOAD || !ph->memsz)
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
	/* Stay out of the launcher, mailbox, MBI, log and modules below 16 MiB. */
	if (lo < 0x01000000)
		fail_hex("kernel loads below 16 MiB at", lo);
	memset((void *)lo, 0, hi - lo);
	for (int i = 0; i < eh->phnum; i++) {
		const struct elf32_phdr *ph = phdr(f, eh, i);
		if (ph->type == PT_LOAD && ph->memsz)
			memcpy((void *)ph->paddr, f + ph->offset, ph->filesz);
	}

	off = mle_header_offset(lo, hi);
	if (off >= 0)
		mle = (const struct mle_header *)(lo + (uint32_t)off);
	l->kernel_entry_elf = eh->entry;
	l->dlme_base = lo; /* GRUB: mle_start = load base */
	if (!mle) {
		/* A plain Multiboot2 kernel (no Secure Launch support): the whole load range is the
		 * DLME and the ELF entry point its entry; SKL runs in Multiboot2 mode. (GRUB-B itself
		 * refuses such a kernel for slaunch; coreboot-style loaders need not.) */
		if (eh->entry < lo || eh->entry >= hi)
			fail_hex("ELF entry outside the load range", eh->entry);
		l->dlme_size = hi - lo;
		l->dlme_entry = eh->entry - lo;
		say("no MLE header: plain Multiboot2 kernel");
	} else {
		if (mle->mle_end <= mle->mle_start)
			fail("MLE header: mle_end <= mle_start");
		l->dlme_size = mle->mle_end - mle->mle_start;
		l->dlme_entry = mle->entry_point;
	}
	say_hex("kernel loaded at", lo);
	say_hex("kernel load end", hi);
	say_hex("dlme_size", l->dlme_size);
	say_hex("dlme_entry", l->dlme_entry);
}
