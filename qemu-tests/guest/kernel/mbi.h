/* Reports the Multiboot2 information the kernel was handed (address from ESI). */
#ifndef KMBI_H
#define KMBI_H

#include <stdint.h>

void mbi_report(uint32_t mbi);

#endif
