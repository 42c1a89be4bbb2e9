#include "txt.h"
#include "elf.h"
#include "slrt.h"
#include "alloc.h"
#include "mbi.h"
#include "../common/io.h"
#include "../common/pci.h"
#include "../common/string.h"

#define IVSHMEM_VENDOR 0x1AF4
#define IVSHMEM_DEVICE 0x1110

/* TXT configuration registers (SDG 315168 App. B; txt-mle.md §2). */
#define TXT_STS 0x000
#define TXT_ESTS 0x008
#define TXT_ERRORCODE 0x030
#define TXT_DIDVID 0x110
#define TXT_SINIT_BASE_REG 0x270
#define TXT_SINIT_SIZE_REG 0x278
#define TXT_HEAP_BASE_REG 0x300
#define TXT_HEAP_SIZE_REG 0x308
#define STS_SENTER_DONE (1u << 0)
#define STS_PRIVATE_OPEN (1u << 7)
#define STS_LOCALITY2_OPEN (1u << 16)

#define OS_MLE_STRUCT_SIZE 88u /* GRUB/Xen AEM layout (txt-mle.md §3.5) */
#define BIOS_DATA_SIZE (8u + 36u + 8u)
#define OS_MLE_DATA_SIZE (8u + OS_MLE_STRUCT_SIZE + SLRT_MAX_SIZE)
#define OS_SINIT_DATA_SIZE (8u + 92u + 28u + 8u)
#define SINIT_MLE_FIXED 148u
#define NR_MDRS 2u
#define SINIT_MLE_DATA_SIZE (8u + SINIT_MLE_FIXED + 8u + NR_MDRS * 24u)

#define MLE_CAPS ((1u << 1) | (1u << 5) | (1u << 8) | (1u << 9))
/* init_txt_heap for TPM 2.0 and a SINIT with MONITOR wake-up, TCG log and no ECX page-table
 * support: D/A PCR usage (bit 5), MONITOR (bit 1), TCG log (bit 9); GRUB never sets bit 8. */
#define GRUB_OS_SINIT_CAPS ((1u << 1) | (1u << 5) | (1u << 9))

static uint8_t *heap = (uint8_t *)TXT_HEAP_BASE;
/* GRUB chain: the page-table chunk GRUB allocated below the MLE, and its entry format. */
static uint32_t mle_pt = TXT_MLE_PT;
static int grub_chain;

static uint32_t os_mle_data(void) { return TXT_HEAP_BASE + BIOS_DATA_SIZE + 8; }
static uint32_t os_sinit_data(void) { return TXT_HEAP_BASE + BIOS_DATA_SIZE + OS_MLE_DATA_SIZE + 8; }

uint32_t txt_slrt_addr(void) { return os_mle_data() + OS_MLE_STRUCT_SIZE; }
/* OsSinitData data: 92 fixed bytes, then the type-8 element header (8) and its data (+16). */
uint32_t txt_log_next_field(void) { return os_sinit_data() + 92 + 8 + 16; }

uint32_t txt_mle_header(const struct launch *l)
{
	int32_t off = mle_header_offset(l->slb_base, l->slb_base + l->word[1]);
	if (off < 0)
		fail("MLE header not found in the first 4 KiB");
	return (uint32_t)off;
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

/* ivshmem's 64-bit BAR2 moved to the TXT private space; its 128 KiB also cover the public one. */
static void map_registers(void)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = pci_read(0, dev, 0, 0);
		uint32_t cmd;
		if (id != (IVSHMEM_DEVICE << 16 | IVSHMEM_VENDOR))
			continue;
		cmd = pci_read(0, dev, 0, 4);
		pci_write(0, dev, 0, 4, cmd & ~2u);
		pci_write(0, dev, 0, 0x18, TXT_PRIV_BASE);
		pci_write(0, dev, 0, 0x1C, 0);
		pci_write(0, dev, 0, 4, cmd | 2u);
		say_hex("TXT: register window (ivshmem) at", TXT_PRIV_BASE);
		return;
	}
	fail("TXT: no ivshmem device for the TXT register space");
}

static void set_reg(uint32_t off, uint64_t v)
{
	/* The chipset shows the same values in both spaces. */
	put64((uint8_t *)(TXT_PRIV_BASE + off), v);
	put64((uint8_t *)(TXT_PUB_BASE + off), v);
}

static uint8_t *table(uint8_t *at, uint64_t size)
{
	put64(at, size);
	memset(at + 8, 0, size - 8);
	return at + 8;
}

/* grub_txt_setup_mle_ptab (txt.c): PDPT, PD, PTs in one chunk, every entry "present" only, PTEs
 * while mle_off - 4 KiB + 1 < MleSize, a new PD entry every 512 PTEs. */
static void build_grub_page_table(struct launch *l, uint32_t size)
{
	uint64_t *pdpt = (uint64_t *)mle_pt, *pd = pdpt + 512, *pt = pd + 512, *pte = pt, *pde = pd;
	uint32_t mle_off = 0, pd_off = 0;

	memset(pdpt, 0, size);
	pdpt[0] = (uint32_t)pd | 1;
	pd[0] = (uint32_t)pt | 1;
	do {
		*pte++ = (uint64_t)((l->dlme_base + mle_off) & ~0xFFFu) | 1;
		mle_off += 4096;
		if (!(++pd_off % 512)) {
			if (mle_off >= l->dlme_size)
				break;
			*++pde = (uint32_t)pte | 1;
		}
	} while (mle_off - 4096 + 1 < l->dlme_size);
}

static uint32_t grub_ptab_size(uint32_t mle_size)
{
	uint32_t pages = ((mle_size / 4096 + 2) / 512) + 1 + ((mle_size / (512 * 4096) + 2) / 512) + 1 + 1;
	return (pages * 4096 + 0x1FFFFFu) & ~0x1FFFFFu; /* ALIGN_UP to GRUB_TXT_PMR_ALIGN */
}

int txt_is_chain(const void *file, uint32_t size)
{
	return size >= 4 && !memcmp(file, "\x7f" "ELF", 4);
}

void txt_chain_mle(struct launch *l)
{
	uint32_t size = grub_ptab_size(l->load_size);

	grub_chain = 1;
	l->slb_base = l->load_base;
	memcpy(l->word, (const void *)l->load_base, sizeof(l->word));
	/* GRUB: [1 MiB, MLE base - size], 2 MiB aligned, preference NONE (the lowest fit here). */
	mle_pt = mem_alloc(0x100000, l->load_base - size, size, 0x200000, PREF_LOW, "MLE page tables");
	say_hex("GRUB chain: MLE (skl-txt.bin) at", l->load_base);
	say_hex("GRUB chain: MLE page tables at", mle_pt);
}

void txt_chain_slrt(struct launch *l)
{
	struct slr_table *t = (struct slr_table *)l->slrt_addr;
	struct slr_dl_info *dl;
	struct slr_drtm_policy *pol;

	memset(t, 0, SLRT_MAX_SIZE);
	slrt_init(t, SLRT_ARCH_TXT, SLRT_MAX_SIZE);
	/* grub_txt_boot_prepare: setup_txt_slrt_entry adds INTEL_INFO first. */
	txt_intel_info(slrt_add(t, SLR_TAG_INTEL_INFO, sizeof(struct slr_intel_info)));
	/* grub_slaunch_finish_slr_table: DL_INFO, LOG_INFO, policy. */
	dl = slrt_add(t, SLR_TAG_DL_INFO, sizeof(*dl));
	dl->dce_size = TXT_SINIT_SIZE;
	dl->dce_base = TXT_SINIT_BASE;
	dl->dlme_size = l->dlme_size; /* the MLE: skl-txt.bin, MleEnd - MleStart */
	dl->dlme_base = l->dlme_base;
	dl->dlme_entry = l->dlme_entry;
	dl->bootloader = 1;
	dl->context = MBI_ADDR;
	slrt_add_log_info(t, l->cfg.log_format);
	pol = slrt_add_policy(t, l, 3 + l->nr_modules, 3);
	policy_entry(&pol->entries[2], 18, 0x10 /* SLR_ET_TXT_OS2MLE */, 0, os_mle_data(), OS_MLE_STRUCT_SIZE,
		     "Measured TXT OS-MLE data");
	say_hex("GRUB chain: SLRT written, size", t->size);
}

/* PAE tables mapping linear 0.. onto the MLE, 4 KiB pages (SDG 2.2.4.1, GRUB txt.c). */
static void build_page_table(struct launch *l)
{
	uint64_t *pdpt = (uint64_t *)TXT_MLE_PT, *pd = pdpt + 512, *pt = pd + 512;
	uint32_t pages = (l->word[1] + 0xFFF) / 0x1000;

	memset(pdpt, 0, 3 * 4096);
	if (grub_chain) {
		build_grub_page_table(l, grub_ptab_size(l->load_size));
		return;
	}
	pdpt[0] = (uint32_t)pd | 1;  /* PAE PDPTE: present only */
	pd[0] = (uint32_t)pt | 3;
	for (uint32_t i = 0; i < pages; i++)
		pt[i] = (uint64_t)(l->slb_base + i * 4096) | 3;
}

/* The four heap tables (SDG App. C; txt-mle.md §3): BiosData v6, OsMleData (GRUB's 88 bytes with
 * the SLRT behind it), OsSinitData v7 with the TCG log element, SinitMleData v9 with MDRs. */
static void build_heap(struct launch *l, struct slr_table *t)
{
	uint8_t *d = table(heap, BIOS_DATA_SIZE);
	struct slr_entry_hdr *info = slrt_find(t, SLR_TAG_INTEL_INFO);

	put32(d + 0, 6);         /* version */
	put32(d + 24, 1);        /* NumLogProcs: the BSP (QEMU runs -smp 1) */
	put32(d + 32, 1u << 1);  /* MleFlags: client platform */
	put32(d + 36, 0);        /* END element */
	put32(d + 40, 8);

	/* OsMleData: only the 88-byte struct; the SLRT after it is already written. */
	put64(heap + BIOS_DATA_SIZE, OS_MLE_DATA_SIZE);
	d = heap + BIOS_DATA_SIZE + 8;
	memset(d, 0, OS_MLE_STRUCT_SIZE);
	put32(d + 0, 1);                 /* version */
	put32(d + 4, MBI_ADDR);          /* boot_params_addr */
	put32(d + 8, txt_slrt_addr());   /* slrt */
	put32(d + 12, (uint32_t)info);   /* txt_info */

	d = table((uint8_t *)os_sinit_data() - 8, OS_SINIT_DATA_SIZE);
	put32(d + 0, 7);                          /* version (TPM 2.0) */
	put32(d + 4, 1);                          /* flags: maximum performance */
	put64(d + 8, mle_pt);                     /* MlePageTableBase */
	put64(d + 16, l->word[1]);                /* MleSize: the measured image */
	put64(d + 24, txt_mle_header(l));         /* MleHeaderBase (linear = offset) */
	put64(d + 32, 0);                         /* PmrLowBase */
	put64(d + 40, l->cfg.txt_pmr_size);       /* PmrLowSize */
	put32(d + 80, grub_chain ? GRUB_OS_SINIT_CAPS : MLE_CAPS); /* Capabilities */
	put32(d + 92, 8);                         /* EVENT_LOG_POINTER2_1 */
	put32(d + 96, 28);
	put64(d + 100, LOG_ADDR);                 /* PhysicalAddress */
	put32(d + 108, LOG_SIZE);                 /* AllocatedEventContainerSize */
	put32(d + 112, 0);                        /* FirstRecordOffset */
	put32(d + 116, 0);                        /* NextRecordOffset: SINIT's log (proxy) sets it */
	put32(d + 120, 0);                        /* END */
	put32(d + 124, 8);

	d = table((uint8_t *)os_sinit_data() - 8 + OS_SINIT_DATA_SIZE, SINIT_MLE_DATA_SIZE);
	put32(d + 0, 9);                               /* version (TPM 2.0 SINIT) */
	put32(d + 120, TXT_SINIT_BASE + 0x40);         /* RlpWakeupAddr */
	put32(d + 128, NR_MDRS);                       /* NumberOfSinitMdrs */
	put32(d + 132, 8 + SINIT_MLE_FIXED + 8);       /* MDR table, from the size field */
	put32(d + SINIT_MLE_FIXED, 0);                 /* END element */
	put32(d + SINIT_MLE_FIXED + 4, 8);
	/* Usable RAM 1 MiB - 6 MiB and 7 MiB - 1 GiB; the hole holds the heap and SINIT. */
	d += SINIT_MLE_FIXED + 8;
	put64(d + 0, 0x00100000);
	put64(d + 8, TXT_HEAP_BASE - 0x00100000);
	put64(d + 24, 0x00700000);
	put64(d + 32, 0x40000000 - 0x00700000);
}

/* What a broken loader, SINIT or attacker could leave; each must stop the MLE (tests/txt.rs). */
static void apply_fault(struct launch *l)
{
	const char *f = l->cfg.txt_fault;
	uint64_t *pt = (uint64_t *)(mle_pt + 2 * 4096);
	uint8_t *os_sinit = (uint8_t *)os_sinit_data();

	if (!strcmp(f, "none"))
		return;
	if (!strcmp(f, "pagetable"))
		pt[1] += 0x10000; /* SINIT would have hashed another page than the MLE's second */
	else if (!strcmp(f, "mle_size"))
		put64(os_sinit + 16, 0x1000); /* SINIT measured only the first page */
	else if (!strcmp(f, "sinit_error"))
		set_reg(TXT_ERRORCODE, 0xC0001234u);
	else if (!strcmp(f, "not_launched"))
		set_reg(TXT_STS, 0);
	else if (!strcmp(f, "heap_version"))
		put32(heap + 8, 1); /* BiosData version 1 */
	else if (!strcmp(f, "txt_space_cached")) {
		struct slr_intel_info *i = slrt_find((struct slr_table *)txt_slrt_addr(), SLR_TAG_INTEL_INFO);
		i->default_mem_type = 0xC06; /* WB by default, and no UC range left */
		i->mtrr_vcnt = 0;
	} else if (!strcmp(f, "no_kernel")) {
		/* The kernel module is no ELF any more: no module is a Multiboot2 kernel. */
		*(uint8_t *)l->modules[0].start = 0;
	} else if (!strcmp(f, "module_in_mle")) {
		/* The last module's MBI tag and policy entry point into skl-txt.bin's area. */
		struct slr_drtm_policy *pol = slrt_find((struct slr_table *)txt_slrt_addr(), SLR_TAG_DRTM_POLICY);
		uint32_t i = l->nr_modules - 1, at = l->slb_base + 0x400000;
		uint32_t *tag = mbi_module_tag(i);
		memcpy((void *)at, (const void *)l->modules[i].start, l->modules[i].end - l->modules[i].start);
		tag[3] = at + (tag[3] - tag[2]);
		tag[2] = at;
		pol->entries[pol->nr_entries - 1].entity = at;
	} else if (!strcmp(f, "dlme_size")) {
		/* DL_INFO names the MLE's base but one page less than its measured size. */
		struct slr_dl_info *dl = slrt_find((struct slr_table *)txt_slrt_addr(), SLR_TAG_DL_INFO);
		dl->dlme_size -= 0x1000;
	} else
		fail("unknown txt_fault");
	say("TXT: fault applied");
}

void txt_setup(struct launch *l)
{
	struct slr_table *t = (struct slr_table *)txt_slrt_addr();

	map_registers();
	build_page_table(l);
	build_heap(l, t);
	set_reg(TXT_STS, STS_SENTER_DONE | STS_PRIVATE_OPEN | STS_LOCALITY2_OPEN);
	set_reg(TXT_ESTS, 0);
	set_reg(TXT_ERRORCODE, 0xC0000001u);          /* SINIT's success code */
	set_reg(TXT_DIDVID, 0x8086u | 0xB004u << 16);
	set_reg(TXT_HEAP_BASE_REG, TXT_HEAP_BASE);
	set_reg(TXT_HEAP_SIZE_REG, TXT_HEAP_SIZE);
	set_reg(TXT_SINIT_BASE_REG, TXT_SINIT_BASE);
	set_reg(TXT_SINIT_SIZE_REG, TXT_SINIT_SIZE);
	apply_fault(l);
	say_hex("TXT: heap at", TXT_HEAP_BASE);
	say_hex("TXT: MLE header at offset", txt_mle_header(l));
}

/* Saved the way GRUB does before it reprograms MTRRs for SINIT (txt-mle.md §7.3). */
void txt_intel_info(struct slr_intel_info *info)
{
	uint32_t vcnt = (uint32_t)(rdmsr(0xFE) & 0xFF);

	if (vcnt > 32)
		vcnt = 32;
	info->txt_heap = TXT_HEAP_BASE;
	info->saved_misc_enable = rdmsr(0x1A0);
	info->default_mem_type = rdmsr(0x2FF);
	info->mtrr_vcnt = vcnt;
	for (uint32_t i = 0; i < vcnt; i++) {
		info->mtrr[i].base = rdmsr(0x200 + 2 * i);
		info->mtrr[i].mask = rdmsr(0x201 + 2 * i);
	}
}
