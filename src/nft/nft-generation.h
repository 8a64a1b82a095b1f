/* Which ruleset generation our own last commit left, kept in the state
 * directory: the fast path trusts table inet blixard only while the
 * kernel is still at that generation, i.e. nobody else has committed. */
#pragma once

#include <glib.h>

#include "nft/nft-netlink.h"

/* TRUE when the record is of this boot and network namespace, names
 * generation and mark (the skeleton's, nft-skeleton.h); otherwise FALSE
 * with *ret_reason saying why. */
gboolean netiso_nft_generation_trusted(const char *state_dir, NetisoNl *nl, guint32 generation,
                                       const char *mark, char **ret_reason);

/* Our commit left the kernel at generation, with the skeleton of mark.
 * Called with the state lock held; a record that cannot be written only
 * costs the next event the full path. */
void netiso_nft_generation_record(const char *state_dir, NetisoNl *nl, guint32 generation,
                                  const char *mark);

/* No generation is trusted until the next record. */
void netiso_nft_generation_forget(const char *state_dir);
