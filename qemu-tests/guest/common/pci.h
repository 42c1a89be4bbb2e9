/* PCI configuration mechanism #1 (ports 0xCF8/0xCFC), bus 0 only is enough for the test guests. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include "io.h"

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t pci_read(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	outl(0xCF8, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xFC));
	return inl(0xCFC);
}

static inline void pci_write(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v)
{
	outl(0xCF8, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xFC));
	outl(0xCFC, v);
}

#endif
