/* inventory_cmd.h - `ringer inventory ...`. */
#ifndef RINGER_CMD_INVENTORY_CMD_H
#define RINGER_CMD_INVENTORY_CMD_H

#include "../base/config.h"

/*
 * Run `ringer inventory sync [--spid S]` (argv[0] is "sync"): build or
 * refresh a SPID's inventory rows in cfg's ringer.db from lookup.db ahead
 * of its first request; without --spid, refresh every SPID synced before.
 * Returns the exit status: 0 done, 1 failed, 2 bad usage.
 */
int inventory_cmd_main(const struct config *cfg, int argc, char **argv);

#endif
