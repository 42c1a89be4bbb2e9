/* Register state at entry, saved by entry.S before anything is touched (order = entry.S offsets). */
#ifndef REGS_H
#define REGS_H

#include <stdint.h>

struct entry_regs {
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp, eflags;
	uint32_t cs, ds, es, fs, gs, ss;
	uint32_t cr0, cr3, cr4, efer;
	uint32_t idtr_limit, idtr_base, gdtr_limit, gdtr_base;
};

extern struct entry_regs entry_regs;
extern char kernel_entry[];

#endif
