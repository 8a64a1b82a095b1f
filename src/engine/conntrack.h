/* Ending tracked connections when a guest's access ends. Rules judge new
 * connections only: without this a flow opened under the old state outlives
 * the change (Neutron flushes conntrack for the same reason). */
#pragma once

#include <glib.h>

/* In the current network namespace, through ctnetlink (libnetfilter-
 * conntrack), delete every tracked connection that either
 * - names one of addresses (of NetisoCidr, may be NULL) as source or
 *   destination of either direction, unless it is bound to keep, or
 * - is bound to flow_id,
 * where bound to an id means that the connection's original zone, or either
 * half of its mark, is that id (flow-ids.h; 0 is no id). *ret_ended counts
 * what was deleted; an entry that went away meanwhile is not an error. */
gboolean netiso_conntrack_end(const GArray *addresses, guint16 flow_id, guint16 keep,
                              guint *ret_ended, GError **error);

/* netiso_conntrack_end(addresses, 0, 0, ...): every connection of these
 * addresses (reconcile and watch, after their transaction). */
gboolean netiso_conntrack_flush(const GArray *addresses, guint *ret_deleted, GError **error);
