/*
 * The launcher: plays TrenchBoot GRUB `slaunch` (aem-qubes-4.2.3-rebase) and the SKINIT
 * instruction for the QEMU launch test. Steps follow docs/test-contract.md, "What the launcher does".
 */
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
#define TIS_ACCESS_LOC0 0xFED40000u
#define TIS_ACCESS_RELINQUISH 0x20
#define KERNEL_MAX (1u << 20)

/* File images as read from fw_cfg (kept inside the launcher's own memory range). */
static uint8_t kernel_file[KERNEL_MAX];
static uint8_t slb_file[SLB_SIZE];
static char config_text[4096];
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

static void load_kernel(struct launch *l)
{
	int32_t n = read_file("opt/skl/kernel", kernel_file, sizeof(kernel_file));
	if (n < 0)
		fail("no opt/skl/kernel");
	elf_load_kernel(l, kernel_file, (uint32_t)n);
}

/* "opt/skl/module<i>" for i = 0, 1, ... until one is missing; 4 KiB aligned from MODULES_ADDR. */
static void load_modules(struct launch *l)
{
	uint32_t at = MODULES_ADDR;

	for (uint32_t i = 0; i < MAX_MODULES; i++) {
		char name[24] = "opt/skl/module";
		char *num = module_names[i];
		uint16_t sel;
		uint32_t size;

		/* Default command line "module<i>"; the fw_cfg name carries the same suffix. */
		memcpy(num, "module", 6);
		if (i >= 10) {
			num[6] = (char)('0' + i / 10);
			num[7] = (char)('0' + i % 10);
		} else {
			num[6] = (char)('0' + i);
		}
		memcpy(name + 8, num, strlen(num) + 1);
		if (fwcfg_find(name, &sel, &size))
			break;
		if (at + size > l->dlme_base)
			fail("modules run into the kernel");
		fwcfg_read(sel, (void *)at, size);
		l->modules[i].start = at;
		l->modules[i].end = at + size;
		l->modules[i].cmdline = l->cfg.module_cmdline[i] ? l->cfg.module_cmdline[i] : num;
		l->nr_modules = i + 1;
		say_hex(name, at);
		at = (at + size + 0xFFF) & ~0xFFFu;
	}
}

static void place_slb(struct launch *l)
{
	int32_t n = read_file("opt/skl/slb", slb_file, sizeof(slb_file));
	if (n < 0)
		fail("no opt/skl/slb");
	slb_place(l, slb_file, (uint32_t)n);
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
	say_hex("slb_base", l->cfg.slb_base);
	load_kernel(l);
	load_modules(l);
	mbi_build(l, mb1_info);
	place_slb(l);
	memset((void *)LOG_ADDR, 0, LOG_SIZE);
	if (l->cfg.txt)
		l->slrt_addr = txt_slrt_addr(); /* in OsMleData, as GRUB's Multiboot2 path */
	slrt_build(l);
	scenario_apply(l);
	if (l->cfg.txt)
		txt_setup(l);
	drtm_measure(l);

	/* GRUB relinquishes locality 0 before SKINIT; TIS grants locality 2 only once it is free. */
	mmio_write8(TIS_ACCESS_LOC0, TIS_ACCESS_RELINQUISH);
	if (l->cfg.txt) {
		say_hex("SENTER: entering the MLE at", l->slb_base + l->word[0]);
		txt_enter(l->slb_base + l->word[0]);
	}
	say_hex("SKINIT: entering SLB at", l->slb_base + l->word[0]);
	skinit_enter(l->slb_base, l->slb_base + l->word[0]);
}
