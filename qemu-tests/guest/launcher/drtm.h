/*
 * The DRTM measurement of an Intel TXT launch (SINIT's), requested from the host's DRTM proxy
 * through a mailbox in guest RAM (docs/test-contract.md step 7; the proxy runs swtpm's locality-4
 * hash sequence). On AMD the SKINIT instruction measures the SLB itself: nothing to do here.
 */
#ifndef DRTM_H
#define DRTM_H

#include "launcher.h"

void drtm_measure(struct launch *l);

#endif
