/* Builds the Multiboot2 information as TrenchBoot GRUB's grub_multiboot2_make_mbi does. */
#ifndef MBI_H
#define MBI_H

#include "launcher.h"

/* Allocates the MBI chunk (GRUB's size bound, low first, 8-byte aligned) and writes the tags. */
void mbi_build(struct launch *l);
/* Address of the launcher's own copy of the MBI as built (0 before mbi_build). */
uint32_t mbi_scratch(void);
/* The i-th module tag of the MBI at MBI_ADDR (type, size, mod_start, mod_end, string). */
uint32_t *mbi_module_tag(uint32_t i);

#endif
