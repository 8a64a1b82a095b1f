/* `status --prometheus`: the status as counters and gauges in the Prometheus
 * text exposition format (0.0.4), for node_exporter's textfile collector.
 * Pure: the caller reads the records, the firewall and the time stamps. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/inspect.h"

typedef struct {
        const NetisoConfig *config;
        GPtrArray *records;                 /* of NetisoRecord* */
        const NetisoInspection *inspection; /* NULL when the firewall could not be read */
        gint64 last_event_usec;             /* core/stamps.h; 0 when never */
        gint64 last_repair_usec;
} NetisoMetricsInput;

/* Every family with # HELP and # TYPE, names prefixed blixard_netiso_,
 * label values escaped. Caller frees. */
char *netiso_metrics_render(const NetisoMetricsInput *in);

/* A label value as the format writes it between quotes: backslash, double
 * quote and newline escaped. Caller frees. */
char *netiso_metrics_escape_label(const char *value);
