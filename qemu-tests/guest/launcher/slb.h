/* Validates skl.bin with GRUB's checks and places it in the SLB like GRUB-B. */
#ifndef SLB_H
#define SLB_H

#include "launcher.h"

void slb_place(struct launch *l, const void *file, uint32_t size);

#endif
