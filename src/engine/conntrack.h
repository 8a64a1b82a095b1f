/* Ending the established flows of addresses whose access changed. Rules
 * judge new connections only: without this a flow opened under the old
 * tenant outlives the change (Neutron flushes conntrack for the same reason). */
#pragma once

#include <glib.h>

/* Delete every connection-tracking entry that has one of these addresses as
 * its source or destination, with the conntrack tool (conntrack-tools), in
 * the current network namespace. *ret_deleted counts the entries. Without
 * the tool: FALSE with an error saying so; callers warn and carry on. */
gboolean netiso_conntrack_flush(const GArray *addresses, guint *ret_deleted, GError **error);
