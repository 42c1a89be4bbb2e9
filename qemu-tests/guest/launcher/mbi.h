/* Builds the Multiboot2 information structure for the test kernel at MBI_ADDR. */
#ifndef MBI_H
#define MBI_H

#include "launcher.h"

/* `mb1_info`: the Multiboot1 information QEMU gave the launcher (memory size and map). */
void mbi_build(struct launch *l, uint32_t mb1_info);

#endif
