/* watch: keep isolation in step with what runs no qemu hook (retags,
 * hot-plug) and restore a flushed table. CLI only: it talks to libvirtd. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "engine/reconcile.h"
#include "util/log.h"

typedef struct {
        const char *uri;         /* libvirt URI */
        const char *config_path; /* read again on SIGHUP */
        guint interval_seconds;  /* period of the table probe; 0: no probe */
} NetisoWatchOptions;

/* Runs until SIGTERM or SIGINT; takes config over. FALSE only when it
 * cannot start at all; a libvirtd that is away is waited for. */
gboolean netiso_watch_run(const NetisoWatchOptions *options, NetisoConfig *config, GError **error);

/* Shared with the reconcile command: log a committed reconcile, one entry
 * per domain changed, with the journal fields. */
void netiso_watch_log_reconcile(const NetisoReconcileReport *report, const char *event);

/* End the established flows of these addresses (conntrack), logging what
 * was done under fields (outcome is filled in). */
void netiso_watch_end_flows(const GArray *revoked, const NetisoLogFields *fields);
