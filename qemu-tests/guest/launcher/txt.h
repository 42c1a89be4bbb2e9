/*
 * Intel TXT: the post-SENTER state for skl-txt.bin, built the way TrenchBoot GRUB
 * (aem-qubes-4.2.3-rebase, grub-core/loader/i386/txt/txt.c) and SINIT would leave it, since QEMU
 * has neither SMX nor a TXT chipset (docs/test-contract.md, "QEMU facts").
 */
#ifndef TXT_H
#define TXT_H

#include "launcher.h"

/* Physical memory plan of the emulation (docs/test-contract.md). */
#define TXT_HEAP_BASE 0x00600000u
#define TXT_HEAP_SIZE 0x00010000u
#define TXT_SINIT_BASE 0x00680000u
#define TXT_SINIT_SIZE 0x00010000u
#define TXT_MLE_PT 0x006C0000u /* PDPT, PD, PT: below the MLE (SDG 2.2.4.1) */
/* ivshmem (128 KiB) placed over the private and public TXT configuration spaces. */
#define TXT_PRIV_BASE 0xFED20000u
#define TXT_PUB_BASE 0xFED30000u

/* Where the SLRT goes: inside OsMleData, right after the 88-byte struct (GRUB's Multiboot2 path). */
uint32_t txt_slrt_addr(void);
/* Heap tables, MLE page table, TXT registers in the ivshmem window. Call after slrt_build. */
void txt_setup(struct launch *l);
/* Address of the EVENT_LOG_POINTER2_1 NextRecordOffset field SINIT advances. */
uint32_t txt_log_next_field(void);
/* The MLE header offset in the image (its UUID, 16-byte aligned in the first 4 KiB), or fails. */
uint32_t txt_mle_header(const struct launch *l);
struct slr_intel_info;
/* Fills INTEL_INFO with the heap base and this CPU's MISC_ENABLE and MTRRs. */
void txt_intel_info(struct slr_intel_info *info);
/*
 * The GRUB chain (docs/design.md, "Intel TXT"): skl-txt.bin is an ELF32 Multiboot2 image that
 * GRUB loads with `multiboot2` and launches as the MLE; the kernel is a module.
 */
/* Whether the SLB file is the ELF-wrapped skl-txt.bin. */
int txt_is_chain(const void *file, uint32_t size);
/* After elf_load_kernel(skl-txt.bin): the MLE's base and header words, and the page-table chunk
 * GRUB allocates below the MLE (multiboot_elfxx.c). */
void txt_chain_mle(struct launch *l);
/* The SLRT as GRUB's TXT Multiboot2 path writes it (INTEL_INFO first, then DL_INFO naming the
 * MLE, LOG_INFO, and the policy: MBI, SLRT, OS-MLE data, every module). */
void txt_chain_slrt(struct launch *l);
/* Stands in for GETSEC[SENTER] returning into the MLE: never returns. */
__attribute__((noreturn)) void txt_enter(uint32_t entry);

#endif
