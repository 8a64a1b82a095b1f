/* Guests of other hosts in table inet blixard (cluster): one element per
 * remote address in remote_v4/remote_v6 (address : jump remote-TENANT) and
 * per tenant a chain remote-TENANT that accepts when the guest end of the
 * packet is one of the tenant's taps. Nothing grows per remote guest but
 * elements, so a packet costs one lookup and a change one element. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/firewall.h"
#include "core/remote.h"
#include "util/addr.h"

/* The tenant's remote chain (and the set of its taps it reads), flushed and
 * written whole: idempotent, so every batch that needs it may carry it. */
void netiso_nft_render_remote_tenant(GString *out, const NetisoConfig *config, const char *tenant);

/* One address moving from old_tenant to new_tenant (either NULL: absent). */
void netiso_nft_render_remote_change(GString *out, const NetisoCidr *addr, const char *old_tenant,
                                     const char *new_tenant);

/* Everything of remote, after the maps are flushed when flush is TRUE (a
 * full resync), or into a table built from nothing (sync). */
void netiso_nft_render_remote_all(GString *out, const NetisoConfig *config,
                                  const NetisoRemote *remote, gboolean flush);

/* Best effort: drop the remote chain of a tenant that has no remote address
 * left, then its local chain and set if no local guest uses them either
 * (the kernel refuses while anything refers to them). */
void netiso_nft_remote_gc(NetisoFirewall *fw, const char *tenant);
