/* A tenant's sets, chains and rules as one batch's commands, for the fast
 * path to create a tenant in its first guest's transaction. */
#pragma once

#include <glib.h>

#include "nft/nft-batch.h"

/* Adds the commands that create tenant's sets, chains and rules in table
 * (of both families), each refused with EEXIST when its set or chain
 * exists already; the batch's family is NFPROTO_INET afterwards. Returns
 * how many commands it added. */
guint netiso_nft_fast_tenant_create(NetisoNlBatch *batch, const char *table, const char *tenant);

/* How many rules a tenant's chain holds in the table of family. */
guint netiso_nft_fast_tenant_rules(guint8 family);
