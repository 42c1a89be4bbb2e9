/*
 * Guest memory map and a GRUB-like allocator: chunks come from available RAM below 4 GiB, minus
 * everything already in use, lowest or highest fit first (GRUB relocator preferences: NONE and LOW
 * search from the bottom, HIGH from the top).
 */
#ifndef ALLOC_H
#define ALLOC_H

#include "launcher.h"

#define PREF_LOW 0
#define PREF_HIGH 1

#define E820_RAM 1
#define E820_RESERVED 2

struct mem_region {
	uint64_t addr, len;
	uint32_t type;
};

/* Reads the firmware map from the Multiboot1 information (or a fixed 1 GiB map without it). */
void mem_init(uint32_t mb1_info);
/* The map as GRUB's grub_mmap_iterate reports it: sorted, overlaps resolved, touching regions
 * of one type merged. Returns the number of entries written (at most `max`). */
uint32_t mem_map_grub(struct mem_region *out, uint32_t max);
/* Bytes of available RAM below 1 MiB and from 1 MiB up to the first hole (basic meminfo). */
uint32_t mem_lower_kib(void);
uint32_t mem_upper_kib(void);
/* Marks [start, start + size) as in use; fails if it is not inside available RAM. */
void mem_reserve(uint32_t start, uint32_t size, const char *what);
/* A chunk of `size` bytes starting in [min, max], `align`-aligned; fails if none is free. */
uint32_t mem_alloc(uint32_t min, uint32_t max, uint32_t size, uint32_t align, int pref, const char *what);

#endif
