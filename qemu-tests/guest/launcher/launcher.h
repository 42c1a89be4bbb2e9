/* State shared by the launcher's steps, and its error exit. */
#ifndef LAUNCHER_H
#define LAUNCHER_H

#include <stdint.h>

#define MAX_MODULES 16

/* Physical memory plan (docs/test-contract.md). */
#define MAILBOX_ADDR 0x00500000u
#define MBI_ADDR 0x00800000u
#define MBI_MAX 0x10000u
#define LOG_ADDR 0x00900000u
#define LOG_SIZE 0x8000u
#define MODULES_ADDR 0x00A00000u
#define SLB_SIZE 0x10000u

struct config {
	uint32_t slb_base;
	const char *cmdline;
	const char *module_cmdline[MAX_MODULES]; /* NULL: default "moduleN" */
	uint16_t log_format;
	int amd_info;
	const char *scenario;
	int skip_drtm; /* test-only: no DRTM mailbox round trip (no proxy running) */
	int txt;       /* Intel TXT: the SLB file is skl-txt.bin, entered as after GETSEC[SENTER] */
	uint32_t txt_pmr_size; /* OsSinitData.PmrLowSize */
	const char *txt_fault; /* one deliberate flaw in the post-SENTER state (txt.c), or "none" */
};

struct module {
	uint32_t start, end; /* end is exclusive, as in the Multiboot2 module tag */
	const char *cmdline;
};

struct launch {
	struct config cfg;
	/* Test kernel as loaded, and what its TXT MLE header says. */
	uint32_t kernel_entry_elf; /* ELF e_entry, informational */
	uint32_t dlme_base, dlme_size, dlme_entry;
	uint32_t nr_modules;
	struct module modules[MAX_MODULES];
	uint32_t mbi_size;
	/* SLB: base and the four header words of skl.bin. */
	uint32_t slb_base;
	uint16_t word[4];
	uint32_t slrt_addr; /* slb_base + word[3] */
};

/* Prints "LAUNCHER: <msg>". */
void say(const char *msg);
/* Prints "LAUNCHER: <msg> 0x<value>". */
void say_hex(const char *msg, uint32_t value);
/* Prints "LAUNCHER: error <msg>" and ends QEMU with code 0x7F (status 255). */
__attribute__((noreturn)) void fail(const char *msg);
__attribute__((noreturn)) void fail_hex(const char *msg, uint32_t value);

#endif
