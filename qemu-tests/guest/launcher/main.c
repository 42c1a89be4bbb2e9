/*
 * The launcher: plays TrenchBoot GRUB `slaunch` (aem-qubes-4.2.3-rebase) and the SKINIT
 * instruction for the QEMU launch test. Steps follow docs/test-contract.md, "What the launcher does".
 */
#include "alloc.h"
#include "config.h"
#include "drtm.h"
#include "elf.h"
#include "fwcfg.h"
#include "launcher.h"
#include "mbi.h"
#include "scenarios.h"
#include "skinit.h"
#include "slb.h"
#include "slrt.h"
#include "txt.h"
#include "../common/console.h"
#include "../common/io.h"
#include "../common/string.h"

#define MB1_BOOT_MAGIC 0x2BADB002u
#define LAUNCHER_ERROR 0x7F
#define TPM_MMIO 0xFED40000u
#define TPM_INTERFACE_ID 0x30
#define TPM_CRB_LOC_CTRL 0x08
#define TIS_RELINQUISH 0x20
#define CRB_RELINQUISH 0x2
#define KERNEL_MAX (1u << 20)
#define LOG_MIN 0x01000000u /* GRUB: the log chunk is at or above 16 MiB */
#define PLAN_MAGIC 0x4E414C50u /* "PLAN" */

uint32_t g_mbi_addr, g_log_addr;
struct grub_skinit_regs grub_skinit_regs;

/* Files read through fw_cfg (kept inside the launcher's own memory range). */
static uint8_t kernel_file[KERNEL_MAX];
static uint8_t slb_file[SLB_SIZE];
static char config_text[8192];
static char module_names[MAX_MODULES][16];
static struct launch launch;

void say(const char *msg)
{
	con_puts("LAUNCHER: ");
	con_puts(msg);
	con_putc('\n');
}

void say_hex(const char *msg, uint32_t value)
{
	con_puts("LAUNCHER: ");
	con_puts(msg);
	con_puts(" 0x");
	con_hex(value, 8);
	con_putc('\n');
}

void fail(const char *msg)
{
	con_puts("LAUNCHER: error ");
	con_puts(msg);
	con_putc('\n');
	qemu_exit(LAUNCHER_ERROR);
}

void fail_hex(const char *msg, uint32_t value)
{
	con_puts("LAUNCHER: error ");
	con_puts(msg);
	con_puts(" 0x");
	con_hex(value, 8);
	con_putc('\n');
	qemu_exit(LAUNCHER_ERROR);
}

/* Reads a whole fw_cfg file into `buf` (at most `max` bytes); returns its size, or -1 if absent. */
static int32_t read_file(const char *name, void *buf, uint32_t max)
{
	uint16_t sel;
	uint32_t size;

	if (fwcfg_find(name, &sel, &size))
		return -1;
	if (size > max) {
		con_puts("LAUNCHER: error fw_cfg file too large: ");
		con_puts(name);
		con_putc('\n');
		qemu_exit(LAUNCHER_ERROR);
	}
	fwcfg_read(sel, buf, size);
	return (int32_t)size;
}

static void load_config(struct launch *l)
{
	int32_t n = read_file("opt/skl/config", config_text, sizeof(config_text) - 1);
	config_text[n < 0 ? 0 : n] = 0;
	if (n < 0)
		say("no opt/skl/config: defaults");
	config_parse(&l->cfg, config_text);
}

/*
 * What is in use before GRUB's allocations start: the first MiB (real-mode data, the BIOS, GRUB's
 * own low memory), the launcher (1-4 MiB, QEMU's Multiboot1 information after it), the mailbox
 * and TXT tables (5-7 MiB), the files the host staged, a fixed SLB or log.
 */
static void reserve_fixed(struct launch *l)
{
	const struct config *c = &l->cfg;
	mem_reserve(0, 0x100000, "first MiB");
	mem_reserve(0x100000, 0x300000, "launcher");
	mem_reserve(MAILBOX_ADDR, FIXED_END - MAILBOX_ADDR, "mailbox and TXT tables");
	if (c->kernel_size != ~0u)
		mem_reserve(c->kernel_at, c->kernel_size, "staged kernel");
	for (uint32_t i = 0; i < MAX_MODULES; i++)
		if (c->module_staged[i])
			mem_reserve(c->module_at[i], c->module_size[i], "staged module");
	if (c->slrt_size != ~0u)
		mem_reserve(c->slrt_at, c->slrt_size, "staged SLRT");
	for (uint32_t i = 0; i < c->nr_reserved; i++)
		mem_reserve(c->reserved_at[i], c->reserved_size[i], "host-placed file (reserve)");
	if (c->slb_base != SLB_BASE_LOW)
		mem_reserve(c->slb_base, SLB_SIZE, "SLB (slb_base)");
	if (c->log_addr)
		mem_reserve(c->log_addr, LOG_SIZE, "log (log_addr)");
}

static void load_kernel(struct launch *l)
{
	if (l->cfg.kernel_size != ~0u) {
		say_hex("kernel staged by the host at", l->cfg.kernel_at);
		elf_load_kernel(l, (const void *)l->cfg.kernel_at, l->cfg.kernel_size);
		return;
	}
	int32_t n = read_file("opt/skl/kernel", kernel_file, sizeof(kernel_file));
	if (n < 0)
		fail("no opt/skl/kernel (and no kernel_at)");
	elf_load_kernel(l, kernel_file, (uint32_t)n);
}

/*
 * The DRTM log as grub_multiboot2_load allocates it right after the kernel: 32 KiB, 4 KiB aligned,
 * at or above 16 MiB, the highest fit below 4 GiB; then grub_txt_init_tpm_event_log: zeroed, and
 * for TPM 1.2 a bare TXT event container header (signature, versions 1.0/1.0, size, both event
 * offsets = 48) at offset 0, even on AMD (SKL erases the log).
 */
static void place_log(struct launch *l)
{
	uint8_t *log;
	if (l->cfg.log_addr)
		LOG_ADDR = l->cfg.log_addr;
	else
		LOG_ADDR = mem_alloc(LOG_MIN, 0xFFFFFFFFu - 2 * LOG_SIZE + 1, LOG_SIZE, 0x1000, PREF_HIGH, "log");
	log = (uint8_t *)LOG_ADDR;
	memset(log, 0, LOG_SIZE);
	if (l->cfg.log_prefill_grub && l->cfg.log_format == 1) {
		memcpy(log, "TXT Event Container", 20);
		log[32] = 1; /* container version 1.0 */
		log[34] = 1; /* PCR event version 1.0 */
		put32(log + 36, LOG_SIZE);
		put32(log + 40, 48); /* PCREventsOffset = sizeof the container header */
		put32(log + 44, 48); /* NextEventOffset */
	}
	say_hex("log at", LOG_ADDR);
}

static void module_name(uint32_t i, char *num)
{
	memcpy(num, "module", 6);
	if (i >= 10) {
		num[6] = (char)('0' + i / 10);
		num[7] = (char)('0' + i % 10);
		num[8] = 0;
	} else {
		num[6] = (char)('0' + i);
		num[7] = 0;
	}
}

/*
 * Modules in order, each as grub_cmd_module loads it: an empty file gets no chunk (start 0,
 * size 0), others a 4 KiB-aligned chunk from the bottom (preference NONE). Sources: a file the
 * host staged (moduleN_at/moduleN_size) or fw_cfg "opt/skl/moduleN"; numbering stops at the
 * first N with neither.
 */
static void load_modules(struct launch *l, uint32_t first)
{
	for (uint32_t i = 0; i + first < MAX_MODULES; i++) {
		char name[24] = "opt/skl/";
		char *num = module_names[i];
		uint16_t sel = 0;
		uint32_t size, at = 0;
		int staged = l->cfg.module_staged[i];

		module_name(i, num);
		memcpy(name + 8, num, strlen(num) + 1);
		if (staged)
			size = l->cfg.module_size[i];
		else if (fwcfg_find(name, &sel, &size))
			break;
		if (size) {
			at = mem_alloc(0, 0xFFFFFFFFu - size + 1, size, 0x1000, PREF_LOW, "module");
			if (staged)
				memcpy((void *)at, (const void *)l->cfg.module_at[i], size);
			else
				fwcfg_read(sel, (void *)at, size);
		}
		l->modules[first + i].start = at;
		l->modules[first + i].end = at + size;
		l->modules[first + i].cmdline = l->cfg.module_cmdline[i] ? l->cfg.module_cmdline[i] : num;
		l->nr_modules = first + i + 1;
		say_hex(num, at);
	}
}

static void place_slb(struct launch *l)
{
	int32_t n = read_file("opt/skl/slb", slb_file, sizeof(slb_file));
	if (n < 0)
		fail("no opt/skl/slb");
	/* grub_skinit_boot_prepare: 64 KiB, 64 KiB aligned, below 4 GiB - 64 KiB, lowest first. */
	if (l->cfg.slb_base == SLB_BASE_LOW)
		l->cfg.slb_base = mem_alloc(0, 0xFFFFFFFFu - SLB_SIZE, SLB_SIZE, SLB_SIZE, PREF_LOW, "SLB");
	slb_place(l, slb_file, (uint32_t)n);
}

/* Where everything went, for the host (docs/test-contract.md, "Placement record"). */
static void write_plan(const struct launch *l)
{
	volatile uint32_t *p = (volatile uint32_t *)PLAN_ADDR;
	p[1] = 1; /* version */
	p[2] = MBI_ADDR;
	p[3] = l->mbi_size;
	p[4] = LOG_ADDR;
	p[5] = LOG_SIZE;
	p[6] = l->slb_base;
	p[7] = l->load_base;
	p[8] = l->dlme_base;
	p[9] = l->dlme_size;
	p[10] = l->dlme_entry;
	p[11] = l->nr_modules;
	for (uint32_t i = 0; i < l->nr_modules; i++) {
		p[12 + 2 * i] = l->modules[i].start;
		p[13 + 2 * i] = l->modules[i].end;
	}
	p[12 + 2 * MAX_MODULES] = mbi_scratch(); /* the MBI as built, before SKL may edit it */
	barrier();
	p[0] = PLAN_MAGIC;
}

/*
 * grub_tpm_relinquish_locality(0) (grub-core/commands/i386/tpm.c): the interface type in
 * TPM_INTERFACE_ID says CRB (1) or not; CRB writes Relinquish to LOC_CTRL, TIS 0x20 to ACCESS.
 * SeaBIOS leaves locality 0 active and TIS grants locality 2 only once it is free.
 */
static void relinquish_locality0(void)
{
	if ((mmio_read32(TPM_MMIO + TPM_INTERFACE_ID) & 0xF) == 1) {
		say("TPM: CRB, relinquishing locality 0");
		mmio_write32(TPM_MMIO + TPM_CRB_LOC_CTRL, CRB_RELINQUISH);
	} else {
		say("TPM: TIS, relinquishing locality 0");
		mmio_write8(TPM_MMIO, TIS_RELINQUISH);
	}
}

/*
 * The GRUB chain on Intel TXT (docs/design.md): `multiboot2 /boot/skl-txt.bin`, then
 * `module2 <kernel>` and the other modules. GRUB loads skl-txt.bin with its ELF loader (relocatable
 * tag, the MLE page-table chunk below it), allocates the log, loads each module, writes the MBI
 * and, at boot, the TXT heap with the SLRT naming skl-txt.bin as the MLE.
 */
static void grub_chain(struct launch *l, uint32_t size)
{
	int32_t n;
	uint32_t at;
	const void *src;

	elf_load_kernel(l, slb_file, size);
	txt_chain_mle(l);
	place_log(l);
	/* The kernel file (host-staged or fw_cfg) becomes the first module, as `module2 <kernel>`. */
	if (l->cfg.kernel_size != ~0u) {
		n = (int32_t)l->cfg.kernel_size;
		src = (const void *)l->cfg.kernel_at;
	} else {
		n = read_file("opt/skl/kernel", kernel_file, sizeof(kernel_file));
		src = kernel_file;
	}
	if (n <= 0)
		fail("GRUB chain: no kernel for the kernel module");
	at = mem_alloc(0, 0xFFFFFFFFu - (uint32_t)n + 1, (uint32_t)n, 0x1000, PREF_LOW, "module (kernel)");
	memcpy((void *)at, src, (uint32_t)n);
	l->modules[0].start = at;
	l->modules[0].end = at + (uint32_t)n;
	l->modules[0].cmdline = "kernel";
	l->nr_modules = 1;
	say_hex("GRUB chain: kernel module at", at);
	load_modules(l, 1);
	mbi_build(l);
	l->slrt_addr = txt_slrt_addr();
	txt_chain_slrt(l);
}

/* Replay: the host placed MBI, log and other files itself; the SLRT comes as a captured file. */
static void replay(struct launch *l)
{
	struct slr_table *t;
	struct slr_dl_info *dl;
	struct slr_log_info *log;

	if (l->cfg.slrt_size == ~0u || l->cfg.slrt_size > 0x1000)
		fail("replay needs a captured SLRT (slrt_at/slrt_size, at most 4 KiB)");
	place_slb(l);
	memcpy((void *)l->slrt_addr, (const void *)l->cfg.slrt_at, l->cfg.slrt_size);
	t = (struct slr_table *)l->slrt_addr;
	dl = slrt_find(t, SLR_TAG_DL_INFO);
	log = slrt_find(t, SLR_TAG_LOG_INFO);
	MBI_ADDR = dl ? (uint32_t)dl->context : 0;
	LOG_ADDR = log ? (uint32_t)log->addr : 0;
	if (l->cfg.kernel_size != ~0u) {
		if (!dl)
			fail("replay: kernel ELF given but the SLRT has no DL_INFO");
		l->fixed_load_base = (uint32_t)dl->dlme_base;
		load_kernel(l);
	}
	l->dlme_base = dl ? (uint32_t)dl->dlme_base : 0;
	l->dlme_size = dl ? (uint32_t)dl->dlme_size : 0;
	l->dlme_entry = dl ? (uint32_t)dl->dlme_entry : 0;
	say_hex("replay: SLRT copied, bytes", l->cfg.slrt_size);
}

void launcher_main(uint32_t magic, uint32_t mb1_info);
void launcher_main(uint32_t magic, uint32_t mb1_info)
{
	struct launch *l = &launch;

	say("start");
	if (magic != MB1_BOOT_MAGIC) {
		say_hex("not started by a Multiboot1 loader, magic", magic);
		mb1_info = 0; /* fixed memory map */
	}
	load_config(l);
	scenario_check(l->cfg.scenario);
	mem_init(mb1_info);
	reserve_fixed(l);
	if (l->cfg.replay) {
		replay(l);
	} else if (l->cfg.txt && txt_is_chain(slb_file, (uint32_t)read_file("opt/skl/slb", slb_file, sizeof(slb_file)))) {
		grub_chain(l, (uint32_t)read_file("opt/skl/slb", slb_file, sizeof(slb_file)));
	} else {
		/* GRUB's order: multiboot2 (kernel, then the log), module2 each, then at boot the MBI
		 * and the SLB. */
		load_kernel(l);
		place_log(l);
		load_modules(l, 0);
		mbi_build(l);
		place_slb(l);
		if (l->cfg.txt)
			l->slrt_addr = txt_slrt_addr(); /* in OsMleData, as GRUB's Multiboot2 path */
		slrt_build(l);
		scenario_apply(l);
	}
	say_hex("slb_base", l->slb_base);
	write_plan(l);
	if (l->cfg.txt)
		txt_setup(l);
	drtm_measure(l);

	relinquish_locality0();
	if (l->cfg.txt) {
		say_hex("SENTER: entering the MLE at", l->slb_base + l->word[0]);
		txt_enter(l->slb_base + l->word[0]);
	}
	grub_skinit_regs.eax = l->slb_base;
	grub_skinit_regs.ebx = MBI_ADDR;
	grub_skinit_regs.edi = 2; /* SLP_AMD_SKINIT */
	grub_skinit_regs.esp = 0x7FF00;
	say_hex("SKINIT: entering SLB at", l->slb_base + l->word[0]);
	skinit_enter(l->slb_base, l->slb_base + l->word[0]);
}
