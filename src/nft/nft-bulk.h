/* The elements of every recorded guest as one nf_tables netlink batch
 * (libnftnl), for the bulk sync and watch's restore: libnftables' text
 * parser costs seconds and hundreds of megabytes at 10,000 guests. */
#pragma once

#include <glib.h>

#include "nft/nft-batch.h"

/* Whether every nftables record of records is in the fast path's netlink
 * encoding (netiso_nft_fast_record_plain()); else the text path must go. */
gboolean netiso_nft_bulk_possible(GPtrArray *records);

/* One batch that flushes every per-guest set and map of both tables and
 * every recorded tenant's sets, then fills them with the nftables records'
 * elements. counters flushes the drop counter sets too (a sync replaces
 * them; a restore keeps the counts). The tables, the tenants' chains and
 * their sets must exist (the skeleton and tenant text before it). */
NetisoNlBatch *netiso_nft_bulk_guests(GPtrArray *records, gboolean counters);
