/* oauth_cmd.h - `ringer oauth-client ...` and the Ivy bootstrap commands.
 *
 *   oauth-client create --account ID --name NAME [--public] [--redirect URI]...
 *                       [--grants LIST] [--scopes "read write admin"]
 *   oauth-client list | oauth-client revoke CLIENT_ID
 *   ivy-account create NAME [--parent ID] [--email EMAIL]
 *   ivy-user create EMAIL --account ID --role ROLE [--password-env VAR]
 *   ivy-audit [--limit N]
 * A new client's secret is printed once and never stored.
 */
#ifndef RINGER_CMD_OAUTH_CMD_H
#define RINGER_CMD_OAUTH_CMD_H

#include <stdbool.h>

#include "base/config.h"

/* True if cmd is one of the commands above. */
bool oauth_cmd_handles(const char *cmd);

/* Run argv[0] (the command) with its arguments. Returns the exit status. */
int oauth_cmd_main(const struct config *cfg, int argc, char **argv);

#endif
