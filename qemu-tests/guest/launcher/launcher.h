/* State shared by the launcher's steps, and its error exit. */
#ifndef LAUNCHER_H
#define LAUNCHER_H

#include <stdint.h>

#define MAX_MODULES 16

/*
 * Physical memory plan (docs/test-contract.md): fixed are only the launcher (1-4 MiB), the DRTM
 * mailbox and the TXT tables (5-7 MiB) and the host's staging areas; the kernel, modules, MBI, log
 * and SLB are allocated from the memory map in GRUB's order and with GRUB's preferences (alloc.c).
 */
#define MAILBOX_ADDR 0x00500000u
#define PLAN_ADDR (MAILBOX_ADDR + 0x800u) /* where the launcher reports its placements (plan.h) */
#define FIXED_END 0x00700000u		  /* launcher, mailbox, TXT heap/SINIT/page table */
#define LOG_SIZE 0x8000u		  /* GRUB_SLAUNCH_TPM_EVT_LOG_SIZE: 8 pages */
#define SLB_SIZE 0x10000u
/* Chosen at run time; the names keep the SLRT/TXT/mailbox writers unchanged. */
extern uint32_t g_mbi_addr, g_log_addr;
#define MBI_ADDR g_mbi_addr
#define LOG_ADDR g_log_addr
#define SLB_BASE_LOW 0xFFFFFFFFu /* config slb_base=low: GRUB's LOW allocation */
#define FW_BIOS 0
#define FW_UEFI 1

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
	int firmware;	       /* FW_BIOS or FW_UEFI: which MBI tag set GRUB would write */
	int efi_bs;	       /* UEFI: boot services kept (Xen's EFI_BS header tag) */
	int apm;	       /* BIOS: write the APM tag */
	uint32_t log_addr;     /* 0: GRUB's highest fit; else a fixed address */
	int log_prefill_grub;  /* 1: GRUB's contents (TPM 1.2: bare TXT container header); 0: zeros */
	/* Files the host placed in RAM (-device loader): address and size; size ~0 = none. */
	uint32_t kernel_at, kernel_size;
	uint32_t module_at[MAX_MODULES], module_size[MAX_MODULES];
	int module_staged[MAX_MODULES];
	uint32_t slrt_at, slrt_size; /* replay: a captured SLRT copied into the SLB */
	int replay;		     /* replay: no MBI/log/modules built, the host placed them */
	uint32_t nr_reserved;	     /* other host-placed files: kept out of allocations */
	uint32_t reserved_at[16], reserved_size[16];
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
	uint32_t mbi_alloc; /* bytes GRUB would allocate for the MBI (its upper bound) */
	/* Kernel as loaded: link and load base (they differ after a relocatable-tag move). */
	uint32_t link_base, load_base, load_size;
	/* ELF section headers for the MBI's ELF-sections tag (sh_addr updated as GRUB does). */
	uint32_t shnum, shentsize, shstrndx;
	uint8_t *shdrs;
	uint32_t fixed_load_base; /* replay: load the kernel here instead of allocating */
	int efi_bs_requested; /* the kernel's Multiboot2 header has the EFI boot services tag */
	uint32_t slrt_area; /* replay: bytes of a captured SLRT copied into the SLB */
	/* SLB: base and the four header words of skl.bin. */
	uint32_t slb_base;
	uint16_t word[4];
	uint32_t slrt_addr; /* slb_base + word[3] */
};

/*
 * The registers GRUB's relocator32.S holds when it executes SKINIT for a Multiboot2 slaunch
 * (grub-core/loader/multiboot.c normal_boot, MULTIBOOT2_INITIAL_STATE): EAX = SLB base,
 * EBX = MBI, ECX = EDX = 0, EDI = 2 (SLP_AMD_SKINIT), ESP = 0x7FF00; ESI and EBP are whatever
 * the relocator was given (0 here). Filled before skinit_enter, for an SKINIT path that wants
 * to enter with GRUB's values (skinit.S currently sets SKINIT's exit state itself).
 */
struct grub_skinit_regs {
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp;
};
extern struct grub_skinit_regs grub_skinit_regs;

/* Prints "LAUNCHER: <msg>". */
void say(const char *msg);
/* Prints "LAUNCHER: <msg> 0x<value>". */
void say_hex(const char *msg, uint32_t value);
/* Prints "LAUNCHER: error <msg>" and ends QEMU with code 0x7F (status 255). */
__attribute__((noreturn)) void fail(const char *msg);
__attribute__((noreturn)) void fail_hex(const char *msg, uint32_t value);

#endif
