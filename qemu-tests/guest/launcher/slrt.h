/*
 * SLRT-B (GRUB aem-qubes-4.2.3-rebase, abi-grub-xen.md §3.3/§3.4): 32-bit entry headers,
 * entries packed back to back, END last.
 */
#ifndef SLRT_H
#define SLRT_H

#include "launcher.h"

#define SLRT_MAGIC 0x4452544Du
#define SLRT_REVISION 1
#define SLRT_ARCH_TXT 1
#define SLRT_ARCH_SKINIT 2
#define SLRT_MAX_SIZE 4096

#define SLR_TAG_DL_INFO 1
#define SLR_TAG_LOG_INFO 2
#define SLR_TAG_DRTM_POLICY 3
#define SLR_TAG_INTEL_INFO 4
#define SLR_TAG_AMD_INFO 5
#define SLR_TAG_END 0xFFFF

#define SLR_ET_SLRT 1
#define SLR_ET_MULTIBOOT2_INFO 7
#define SLR_ET_MULTIBOOT2_MODULE 8
#define SLR_POLICY_IMPLICIT_SIZE 2

struct slr_table {
	uint32_t magic;
	uint16_t revision, architecture;
	uint32_t size, max_size;
} __attribute__((packed));

struct slr_entry_hdr {
	uint32_t tag, size;
} __attribute__((packed));

struct slr_dl_info {
	struct slr_entry_hdr hdr;
	uint64_t dce_size, dce_base, dlme_size, dlme_base, dlme_entry;
	uint16_t bootloader, reserved[3];
	uint64_t context;
	uint64_t dl_handler;
} __attribute__((packed));

struct slr_log_info {
	struct slr_entry_hdr hdr;
	uint16_t format, reserved;
	uint32_t size;
	uint64_t addr;
} __attribute__((packed));

struct slr_policy_entry {
	uint16_t pcr, entity_type, flags, reserved;
	uint64_t size, entity;
	char evt_info[32];
} __attribute__((packed));

struct slr_drtm_policy {
	struct slr_entry_hdr hdr;
	uint16_t reserved[2];
	uint16_t revision, nr_entries;
	struct slr_policy_entry entries[];
} __attribute__((packed));

struct slr_amd_info {
	struct slr_entry_hdr hdr;
	uint64_t next;
	uint32_t type, len;
	uint64_t slrt_size, slrt_base, boot_params_base;
	uint16_t psp_version, reserved[3];
} __attribute__((packed));

/* GRUB/Xen AEM layout, 552 bytes (txt-mle.md §7.3). */
struct slr_intel_info {
	struct slr_entry_hdr hdr;
	uint64_t txt_heap, saved_misc_enable, default_mem_type, mtrr_vcnt;
	struct {
		uint64_t base, mask;
	} mtrr[32];
} __attribute__((packed));

/* Linux Secure Launch v16's DL_INFO: two fields before bl_context, dl_handler renamed dl_launch. */
struct slr_dl_info88 {
	struct slr_entry_hdr hdr;
	uint64_t dce_size, dce_base, dlme_size, dlme_base, dlme_entry;
	uint64_t dlme_header_offset, dlme_config_table;
	uint16_t bootloader, reserved[3];
	uint64_t context;
	uint64_t dl_launch;
} __attribute__((packed));

#define SLR_ET_UNUSED 0xFFFF
#define TBDEV_POLICY_SLOTS 16 /* GRUB tb-dev slrt.c SLR_MAX_POLICY_ENTRIES */
#define SLB_BASE_HIGH 0xFFFF0000u /* config slb_base=high: GRUB tb-dev's HIGH allocation (slb.c) */

/*
 * Which GRUB the launcher plays and the tb-dev knobs (config keys grub, amd_info_size,
 * dl_info_size, slrt_field, grub_checks, psp_version, tb_log_format; docs/test-contract.md,
 * "Current generation (GRUB tb-dev)"). Kept here, not in struct config, so the shared launcher
 * header stays untouched.
 */
struct grub_gen {
	int tbdev;		/* 0: aem-qubes-4.2.3-rebase (default), 1: tb-dev @66aec2e2 */
	uint32_t amd_info_size; /* tb-dev: 48 (its slr_table.h) or 56 (Secure Launch spec, Xen v3) */
	uint32_t dl_info_size;	/* 72 (GRUB) or 88 (Linux Secure Launch v16) */
	uint32_t slrt_field;	/* header offset of the u16 naming the SLRT: 0x06 (aem) or 0x44 (tb-dev) */
	int grub_checks;	/* 0: skip the loader's SL header checks (a table reaching the other image) */
	uint16_t psp_version;	/* what the loader leaves in a 56-byte AMD_INFO */
	uint16_t tb_log_format; /* tb-dev LOG_INFO format: GRUB writes 2 for both TPM families */
	uint32_t file_size;	/* the SLB file's size (tb-dev: DCE size, bytes copied) */
};
extern struct grub_gen g_grub;
void grub_gen_defaults(void);
/* Sets a grub_gen key; 0 if `key` is not one of them. */
int grub_gen_set(const char *key, const char *val);

/* Writes the good table of the contract at l->slrt_addr. */
void slrt_build(struct launch *l);
/* Inserts an entry of `size` bytes (header filled, body zeroed) before END, like grub_slr_add_entry. */
void *slrt_add(struct slr_table *t, uint32_t tag, uint32_t size);
/* First entry with `tag`, or NULL. */
void *slrt_find(struct slr_table *t, uint32_t tag);
/* A table at `t` as grub_slr_init_table starts one: header and END (size 24). */
void slrt_init(struct slr_table *t, uint16_t architecture, uint32_t max_size);
/* LOG_INFO naming the launcher's log area (LOG_ADDR, LOG_SIZE) in `format`. */
void slrt_add_log_info(struct slr_table *t, uint32_t format);
/*
 * DRTM_POLICY of `slots` entries, revision 1, as GRUB fills it: slot 0 the MBI and slot 1 the
 * SLRT (PCR 18), the modules (PCR 17) from slot `first_module` on, every other slot UNUSED
 * for the caller to fill or leave.
 */
struct slr_drtm_policy *slrt_add_policy(struct slr_table *t, const struct launch *l, uint32_t slots,
					 uint32_t first_module);
/* One DRTM policy entry, in an entry slrt_add zeroed (evt_info stays NUL padded). */
void policy_entry(struct slr_policy_entry *pe, uint16_t pcr, uint16_t type, uint16_t flags, uint64_t entity,
		  uint64_t size, const char *evt);

#endif
