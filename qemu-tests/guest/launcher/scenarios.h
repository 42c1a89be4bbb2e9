/* The `scenario` malformations of docs/test-contract.md, applied to the good SLRT-B. */
#ifndef SCENARIOS_H
#define SCENARIOS_H

#include "launcher.h"

/* Fails (0x7F) on an unknown scenario name: called right after the config is read. */
void scenario_check(const char *name);
void scenario_apply(struct launch *l);

#endif
