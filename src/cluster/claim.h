/* One owner per guest address, cluster-wide: the hook claims a guest's
 * addresses (and publishes its record) in etcd transactions before the guest
 * runs, and releases them when it stops. A claim by the same domain UUID from
 * another host moves the ownership (live migration). Synchronous, bounded by
 * the client's timeout. */
#pragma once

#include <glib.h>

#include "cluster/etcd.h"
#include "cluster/membership.h"

#define NETISO_CLAIM_ROUNDS_MAX 4 /* transactions before contention is an error */

typedef struct {
        guint created;     /* addresses that had no owner */
        guint moved;       /* owned by this UUID on another host (migration) */
        guint kept;        /* already owned by this UUID here */
        guint round_trips; /* transactions sent */
        gint64 lease;      /* the host lease the records are bound to */
        gint64 revision;   /* etcd's revision after the claim */
} NetisoClaimReport;

/* Register this host: PREFIX hosts/NODE bound to lease (the watch daemon). */
gboolean netiso_cluster_register_host(NetisoEtcd *etcd, const char *prefix, const char *node,
                                      gint64 lease, GError **error);

/* Claim every address of guest for guest->uuid on guest->node and put its
 * record, all in one transaction, bound to the host's lease. lease_hint is
 * the lease last known for the host (0: unknown): when it is still the
 * host's, a new guest costs one round trip. Errors: CONFLICT when another
 * UUID owns an address (naming it, its owner and host), UNAVAILABLE when
 * etcd cannot be reached or the host is not registered (no live lease). */
gboolean netiso_cluster_claim(NetisoEtcd *etcd, const char *prefix, const NetisoClusterGuest *guest,
                              gint64 lease_hint, NetisoClaimReport *ret_report, GError **error);

/* Remove the guest's record and release the addresses this host still owns
 * for its UUID (those a migration moved elsewhere stay). */
gboolean netiso_cluster_release(NetisoEtcd *etcd, const char *prefix,
                                const NetisoClusterGuest *guest, guint *ret_round_trips,
                                GError **error);
