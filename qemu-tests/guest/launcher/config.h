/* opt/skl/config: "key=value" lines, '#' comments (docs/test-contract.md, "Config file"). */
#ifndef CONFIG_H
#define CONFIG_H

#include "launcher.h"

/* Sets the defaults, then parses `text` in place (it must stay alive: strings point into it). */
void config_parse(struct config *cfg, char *text);

#endif
