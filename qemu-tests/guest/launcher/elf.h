/* Loads the Multiboot2 test kernel (ELF32) like GRUB and finds its TXT MLE header. */
#ifndef ELF_H
#define ELF_H

#include "launcher.h"

/* Copies the PT_LOAD segments of `file` into place and fills l->dlme_* (fails on a bad image). */
void elf_load_kernel(struct launch *l, const void *file, uint32_t size);

#endif
