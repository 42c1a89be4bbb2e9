/* Loads the Multiboot2 test kernel (ELF32) like GRUB and finds its TXT MLE header. */
#ifndef ELF_H
#define ELF_H

#include "launcher.h"

/* Copies the PT_LOAD segments of `file` into place and fills l->dlme_* (fails on a bad image). */
void elf_load_kernel(struct launch *l, const void *file, uint32_t size);

/* Offset of the TXT MLE header in the image loaded at [lo, hi) (its UUID, 16-byte aligned in the
 * first 4 KiB), or -1. */
int32_t mle_header_offset(uint32_t lo, uint32_t hi);

#endif
