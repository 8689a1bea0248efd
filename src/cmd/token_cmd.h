/* token_cmd.h - `ringer token ...` and `ringer customer ...`. */
#ifndef RINGER_CMD_TOKEN_CMD_H
#define RINGER_CMD_TOKEN_CMD_H

#include "../base/config.h"

/*
 * Run `ringer token ...` or `ringer customer ...`; argv[0] is "token" or
 * "customer" (see the usage text). Works on cfg's ringer.db. Returns the
 * exit status: 0 done, 1 failed, 2 bad usage.
 */
int token_cmd_main(const struct config *cfg, int argc, char **argv);

#endif
