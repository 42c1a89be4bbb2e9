/*
 * DMA attack on what SKL measured, with QEMU's edu device (hw/misc/edu.c: DMA source 0x80,
 * destination 0x88, count 0x90, command 0x98 — bit 0 start, bit 1 device-to-RAM; the device side
 * is its 4 KiB buffer at 0x40000; the transfer runs 100 ms of virtual time after the command).
 *
 * Phase "blocked": the IOMMU as SKL left it. Phase "open": the same transfers after clearing the
 * IOMMU's IommuEn, which must change memory — otherwise the first phase proves nothing.
 * Phase "sl_dev" (only with our QEMU's AMD northbridge model at 00:18.3): IOMMU still off, SL_DEV_EN
 * set again in node 0's DEV_CR, which SKINIT aimed at the SLB: the SLB is out of reach again, the
 * kernel is not (SL_DEV covers the 64 KiB SLB only).
 */
#include "dma.h"
#include "../common/console.h"
#include "../common/io.h"
#include "../common/pci.h"

#define EDU_BUF 0x40000u
#define LOG_BASE 0x900000u /* where the harness's launcher puts the DRTM event log */

/* Part of the kernel image SKL measured (the DLME): .data is inside it. */
static volatile uint8_t measured_target[16] = "measured-kernel";
static const uint8_t pattern[16] = "DMA-ATTACK-BYTES";
static const uint8_t pattern2[16] = "SL_DEV-ATTACK-2!";

#define NB_DEV 0x18 /* node 0 */
#define NB_MISC 3   /* function 3: the DEV capability */
#define DEV_OP_CR 0x400 /* DEV function 4, index 0: DEV_CR */
#define DEV_CR_SL_DEV_EN (1u << 5)

/* Node 0's Device Exclusion Vector capability (ID 0x0F, CapType 0), 0 if there is none. */
static uint32_t dev_cap(void)
{
	if ((pci_read(0, NB_DEV, NB_MISC, 0) & 0xFFFF) != 0x1022)
		return 0;
	for (uint32_t cap = pci_read(0, NB_DEV, NB_MISC, 0x34) & 0xFC; cap;) {
		uint32_t h = pci_read(0, NB_DEV, NB_MISC, cap);
		if ((h & 0xFF) == 0x0F && ((h >> 16) & 7) == 0)
			return cap;
		cap = (h >> 8) & 0xFC;
	}
	return 0;
}

uint32_t dev_cr_read(void)
{
	uint32_t cap = dev_cap();
	if (!cap)
		return 0xFFFFFFFFu;
	pci_write(0, NB_DEV, NB_MISC, cap + 4, DEV_OP_CR);
	return pci_read(0, NB_DEV, NB_MISC, cap + 8);
}

static void dev_cr_write(uint32_t v)
{
	uint32_t cap = dev_cap();
	pci_write(0, NB_DEV, NB_MISC, cap + 4, DEV_OP_CR);
	pci_write(0, NB_DEV, NB_MISC, cap + 8, v);
}

static uint32_t find(uint16_t vendor, uint16_t device, int by_class, uint8_t *dev_out)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = pci_read(0, dev, 0, 0);
		if ((id & 0xFFFF) == 0xFFFF)
			continue;
		int hit = by_class ? (pci_read(0, dev, 0, 8) >> 16) == 0x0806 && (id & 0xFFFF) == vendor
				   : (id & 0xFFFF) == vendor && (id >> 16) == device;
		if (hit) {
			*dev_out = dev;
			return 1;
		}
	}
	return 0;
}

static int edu_dma(uint32_t mmio, uint32_t src, uint32_t dst, uint32_t len, int to_ram)
{
	mmio_write32(mmio + 0x80, src);
	mmio_write32(mmio + 0x84, 0);
	mmio_write32(mmio + 0x88, dst);
	mmio_write32(mmio + 0x8C, 0);
	mmio_write32(mmio + 0x90, len);
	mmio_write32(mmio + 0x94, 0);
	mmio_write32(mmio + 0x98, 1 | (to_ram ? 2 : 0));
	for (uint32_t i = 0; i < 200000000u; i++)
		if (!(mmio_read32(mmio + 0x98) & 1))
			return 0;
	return -1;
}

static void dump16(const char *label, uint32_t addr)
{
	con_puts(label);
	for (int i = 0; i < 16; i++)
		con_hex(((volatile uint8_t *)addr)[i], 2);
}

static void attack(const char *phase, uint32_t edu, const char *name, uint32_t target, const uint8_t *bytes)
{
	con_puts("SKLTEST dma ");
	con_puts(phase);
	con_putc(' ');
	con_puts(name);
	con_puts(" 0x");
	con_hex(target, 8);
	dump16(" before ", target);
	/* Fill the device buffer from RAM (blocked reads return zeros), then write it to the target. */
	int e = edu_dma(edu, (uint32_t)bytes, EDU_BUF, 16, 0);
	e |= edu_dma(edu, EDU_BUF, target, 16, 1);
	dump16(" after ", target);
	con_puts(e ? " timeout\n" : "\n");
}

void dma_attack(uint32_t slb_base)
{
	uint8_t edu_dev, iommu_dev;
	if (!find(0x1234, 0x11e8, 0, &edu_dev))
		return;
	uint32_t edu = pci_read(0, edu_dev, 0, 0x10) & ~0xFu;
	pci_write(0, edu_dev, 0, 4, pci_read(0, edu_dev, 0, 4) | 0x6); /* memory space, bus master */
	if (!find(0x1022, 0, 1, &iommu_dev)) {
		con_puts("SKLTEST dma no-iommu\n");
		return;
	}
	/* The IOMMU capability is the first in QEMU's list with ID 0x0F; its MMIO base follows it. */
	uint32_t cap = pci_read(0, iommu_dev, 0, 0x34) & 0xFC, iommu = 0;
	while (cap) {
		uint32_t h = pci_read(0, iommu_dev, 0, cap);
		if ((h & 0xFF) == 0x0F) {
			iommu = pci_read(0, iommu_dev, 0, cap + 4) & 0xFFFFC000u;
			break;
		}
		cap = (h >> 8) & 0xFC;
	}
	con_puts("SKLTEST dma iommu_control 0x");
	con_hex(mmio_read32(iommu + 0x18), 8);
	con_puts(" devtab 0x");
	con_hex(mmio_read32(iommu + 0x00), 8);
	con_putc('\n');

	attack("blocked", edu, "slb", slb_base, pattern);
	attack("blocked", edu, "kernel", (uint32_t)measured_target, pattern);
	attack("blocked", edu, "log", LOG_BASE, pattern);

	mmio_write32(iommu + 0x18, mmio_read32(iommu + 0x18) & ~1u); /* IommuEn off: the control */
	attack("open", edu, "slb", slb_base, pattern);
	attack("open", edu, "kernel", (uint32_t)measured_target, pattern);
	attack("open", edu, "log", LOG_BASE, pattern);

	if (dev_cap()) {
		dev_cr_write(dev_cr_read() | DEV_CR_SL_DEV_EN);
		attack("sl_dev", edu, "slb", slb_base, pattern2);
		attack("sl_dev", edu, "kernel", (uint32_t)measured_target, pattern2);
		dev_cr_write(dev_cr_read() & ~DEV_CR_SL_DEV_EN);
	}
}
