/*
 * The two older bootloader-data formats SKL must recognise and refuse (abi-grub-xen.md §2, §3.2):
 * SLRT-A (GRUB intel-txt-aem-2.06, SKL `slrt` branch) and the SKL `master` tag list (GRUB PR #4).
 */
#ifndef LEGACY_H
#define LEGACY_H

#include "launcher.h"

/* Each replaces the table at l->slrt_addr with the same launch described in the old format. */
void legacy_write_slrt_a(struct launch *l);
void legacy_write_tags(struct launch *l);

#endif
