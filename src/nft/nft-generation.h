/* Which ruleset generation our own last commit left, kept in the state
 * directory: the fast path trusts table inet blixard only while the
 * kernel is still at that generation, i.e. nobody else has committed. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "nft/nft-netlink.h"

/* What the skeleton is rendered from: the configuration's digest and this
 * version of blixard-netiso. Cheap, unlike rendering it for its mark. */
char *netiso_nft_generation_key(const NetisoConfig *config);

/* TRUE, with *ret_mark the skeleton's mark (nft-skeleton.h) then written,
 * when the record is of this boot and network namespace and names
 * generation and key; otherwise FALSE with *ret_reason saying why. */
gboolean netiso_nft_generation_trusted(const char *state_dir, NetisoNl *nl, guint32 generation,
                                       const char *key, char **ret_mark, char **ret_reason);

/* Our commit left the kernel at generation, with the skeleton of key and
 * mark. Called with the state lock held; a record that cannot be written
 * only costs the next event the full path. */
void netiso_nft_generation_record(const char *state_dir, NetisoNl *nl, guint32 generation,
                                  const char *key, const char *mark);

/* No generation is trusted until the next record. */
void netiso_nft_generation_forget(const char *state_dir);
