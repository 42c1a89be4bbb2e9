/* The CPU state SKINIT leaves, as far as TCG can produce it, then the jump into the SLB. */
#ifndef SKINIT_H
#define SKINIT_H

#include <stdint.h>

__attribute__((noreturn)) void skinit_enter(uint32_t slb_base, uint32_t entry_addr);

#endif
