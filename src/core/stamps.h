/* When the last lifecycle event and the last repair were committed, kept as
 * two small files in the state directory for `status --prometheus`:
 * STATE_DIR/last-event and STATE_DIR/last-repair, each holding the time in
 * microseconds since the epoch. */
#pragma once

#include <glib.h>

typedef enum {
        NETISO_STAMP_EVENT,  /* an install or removal committed (hook, apply, remove, watch) */
        NETISO_STAMP_REPAIR, /* a reconcile or watch repair committed */
        _NETISO_STAMP_MAX,
} NetisoStamp;

/* Record now. Best effort: callers hold the state lock, and a failure is
 * logged, never turned into a failed event. */
void netiso_stamp_touch(const char *state_dir, NetisoStamp stamp);

/* The recorded time in microseconds since the epoch, 0 when never. */
gint64 netiso_stamp_read(const char *state_dir, NetisoStamp stamp);
