/* The elements of every recorded guest as one nf_tables netlink batch
 * (libnftnl), for the bulk sync: libnftables' text parser costs seconds
 * and hundreds of megabytes at 10,000 guests. */
#pragma once

#include <glib.h>

#include "nft/nft-batch.h"

/* Whether every nftables record of records is in the fast path's netlink
 * encoding (netiso_nft_fast_record_plain()); else the text path must go. */
gboolean netiso_nft_bulk_possible(GPtrArray *records);

/* One batch that makes every per-guest set and map of both tables, the
 * drop counters included, hold exactly the nftables records' elements,
 * and every recorded tenant's sets too. The shared sets are read first
 * and only what differs is sent (an element kept keeps its counter); the
 * tenants' sets are flushed and refilled. The batch is bound to the
 * generation read before the reads, and built again when another commit
 * came in between. The tables, the tenants' chains and their sets must
 * exist (the skeleton and tenant text before it). *ret_generation as
 * netiso_nl_batch_commit() sets it; *ret_changed says a commit moved the
 * generation on (nothing differed: no commit). */
NetisoNlOutcome netiso_nft_bulk_refill(NetisoNl *nl, GPtrArray *records, guint32 *ret_generation,
                                       gboolean *ret_changed, GError **error);
