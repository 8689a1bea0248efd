/* inventory_api.h - the Number Inventory API (soa-inventory.yaml) under /api/v1/inventory/.
 *
 *   POST /api/v1/inventory/query                             inventory:search
 *   POST /api/v1/inventory/query/validate                    inventory:search
 *   POST /api/v1/inventory/search                            inventory:search
 *   GET  /api/v1/inventory/summary?spid=                     inventory:search
 *   GET  /api/v1/inventory/numbers/{telephoneNumber}         inventory:search
 *   POST /api/v1/inventory/numbers/{telephoneNumber}/reserve inventory:reserve
 *   POST /api/v1/inventory/numbers/{telephoneNumber}/assign  inventory:assign
 *   PUT  /api/v1/inventory/numbers/{telephoneNumber}/metadata inventory:assign
 *   POST /api/v1/inventory/numbers/{telephoneNumber}/release inventory:release
 *
 * Bearer tokens as for Portability; answers only ever hold numbers of the
 * token's SPIDs. Errors are the contract's ErrorResponse {error, timestamp}.
 */
#ifndef RINGER_INVENTORY_API_H
#define RINGER_INVENTORY_API_H

#include "../base/config.h"
#include "../http/http.h"

/* Bring the tables up to date and add the routes. Returns 0 or -1 (logged). */
int inventory_api_mount(struct http_router *r, const struct config *cfg);

#endif
