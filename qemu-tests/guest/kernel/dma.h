#ifndef KERNEL_DMA_H
#define KERNEL_DMA_H

#include <stdint.h>

/* If QEMU's edu device is present: aim DMA writes at the SLB, the measured kernel and the DRTM
 * event log, first as SKL left the IOMMU, then with the IOMMU switched off (the control), and
 * report each target's bytes before and after as "SKLTEST dma ..." lines. */
void dma_attack(uint32_t slb_base);

/* DEV_CR of node 0 (our QEMU's AMD northbridge model, 00:18.3), 0xFFFFFFFF without one. */
uint32_t dev_cr_read(void);

#endif
