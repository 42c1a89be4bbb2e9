/*
 * The DRTM measurement SKINIT would make, requested from the host's DRTM proxy through a mailbox in
 * guest RAM (docs/test-contract.md step 7; the proxy runs swtpm's locality-4 hash sequence).
 */
#ifndef DRTM_H
#define DRTM_H

#include "launcher.h"

void drtm_measure(struct launch *l);

#endif
