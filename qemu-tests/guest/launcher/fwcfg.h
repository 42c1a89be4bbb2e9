/* QEMU fw_cfg through the legacy I/O ports (selector 0x510, data 0x511). */
#ifndef FWCFG_H
#define FWCFG_H

#include <stdint.h>

/* Looks a file up in the fw_cfg directory; 0 if present. */
int fwcfg_find(const char *name, uint16_t *select, uint32_t *size);
/* Reads the first `size` bytes of the item `select` into `dst`. */
void fwcfg_read(uint16_t select, void *dst, uint32_t size);

#endif
