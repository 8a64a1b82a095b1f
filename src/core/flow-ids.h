/* Flow ids: a number per install of a guest that binds the connections
 * tracked for it to that install, so that no other guest, nor the same
 * guest under another tenant, is ever given them (DEVELOPERS.md, "Flows
 * belong to the guest that made them"). */
#pragma once

#include <glib.h>

/* 1..65535: the width of a conntrack zone and of half a connection mark. */
#define NETISO_FLOW_ID_MAX G_MAXUINT16

/* A flow id no record holds: the one after STATE_DIR/flow-id (the last one
 * handed out), cycling through 1..65535, so that an id comes back only after
 * every other has been handed out once. Call it under the state lock; the
 * caller's record takes the id when it is saved. */
gboolean netiso_flow_id_new(const char *state_dir, guint16 *ret_id, GError **error);

/* The id netiso_flow_id_new() would hand out now, handing out nothing
 * (dry runs, and an install that hands it out once it committed, so that
 * a refused guest changes nothing). */
gboolean netiso_flow_id_next(const char *state_dir, guint16 *ret_id, GError **error);
/* Record id as the last one handed out. */
gboolean netiso_flow_id_hand_out(const char *state_dir, guint16 id, GError **error);
