/* The Prometheus text format of status: one family per fact, HELP and TYPE
 * lines first, label values escaped, families and samples in a stable order
 * (tenants and guests sorted by name) so that two scrapes compare. */
#include "autoconfig.h"

#include <string.h>

#include "core/metrics.h"
#include "core/state.h"

#define PREFIX "blixard_netiso_"

char *
netiso_metrics_escape_label(const char *value)
{
        GString *out = g_string_new(NULL);

        for (const char *p = value ? value : ""; *p; p++) {
                if (*p == '\\')
                        g_string_append(out, "\\\\");
                else if (*p == '"')
                        g_string_append(out, "\\\"");
                else if (*p == '\n')
                        g_string_append(out, "\\n");
                else
                        g_string_append_c(out, *p);
        }
        return g_string_free(out, FALSE);
}

/* HELP texts are ours: no backslash or newline to escape. */
static void
family(GString *out, const char *name, const char *type, const char *help)
{
        g_string_append_printf(out, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help,
                               name, type);
}

/* labels: NULL-terminated name, value pairs. */
static void
sample(GString *out, const char *name, const char *const *labels, const char *value)
{
        g_string_append_printf(out, PREFIX "%s", name);
        for (guint i = 0; labels && labels[i]; i += 2) {
                g_autofree char *v = netiso_metrics_escape_label(labels[i + 1]);
                g_string_append_printf(out, "%s%s=\"%s\"", i ? "," : "{", labels[i], v);
        }
        g_string_append_printf(out, "%s %s\n", labels && labels[0] ? "}" : "", value);
}

static void
gauge(GString *out, const char *name, const char *help, guint64 value)
{
        g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, value);

        family(out, name, "gauge", help);
        sample(out, name, NULL, v);
}

static void
timestamp(GString *out, const char *name, const char *help, gint64 usec)
{
        g_autofree char *v = NULL;

        if (usec <= 0)
                return; /* never: no sample, as the format prefers to a made-up 0 */
        v = g_strdup_printf("%" G_GINT64_FORMAT ".%06d", usec / G_USEC_PER_SEC,
                            (int)(usec % G_USEC_PER_SEC));
        family(out, name, "gauge", help);
        sample(out, name, NULL, v);
}

static const NetisoTapStatus *
tap_status(const NetisoInspection *in, const char *tap)
{
        for (guint i = 0; in && i < in->taps->len; i++) {
                const NetisoTapStatus *t = g_ptr_array_index(in->taps, i);
                if (g_str_equal(t->tap, tap))
                        return t;
        }
        return NULL;
}

static gint
compare_records(gconstpointer a, gconstpointer b)
{
        return strcmp((*(NetisoRecord *const *)a)->domain, (*(NetisoRecord *const *)b)->domain);
}

static void
tenants(GString *out, GPtrArray *records)
{
        g_autoptr(GHashTable) count = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GList) names = NULL;

        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(records, i);
                guint n = GPOINTER_TO_UINT(g_hash_table_lookup(count, r->tenant));
                g_hash_table_replace(count, r->tenant, GUINT_TO_POINTER(n + 1));
        }
        gauge(out, "tenants", "Tenants with at least one protected guest.",
              g_hash_table_size(count));
        family(out, "tenant_guests", "gauge", "Protected guests per tenant.");
        names = g_list_sort(g_hash_table_get_keys(count), (GCompareFunc)strcmp);
        for (GList *l = names; l; l = l->next) {
                const char *labels[] = { "tenant", l->data, NULL };
                g_autofree char *v = g_strdup_printf(
                        "%u", GPOINTER_TO_UINT(g_hash_table_lookup(count, l->data)));
                sample(out, "tenant_guests", labels, v);
        }
}

/* One family per value, a sample per guest interface (its tap). */
static void
per_tap(GString *out, GPtrArray *sorted, const NetisoInspection *in, const char *name,
        const char *type, const char *help, int what)
{
        family(out, name, type, help);
        for (guint i = 0; i < sorted->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(sorted, i);
                for (guint k = 0; k < r->ports->len; k++) {
                        const NetisoRecordPort *p = g_ptr_array_index(r->ports, k);
                        const NetisoTapStatus *t = tap_status(in, p->tap);
                        const char *labels[] = { "domain", r->domain, "tenant", r->tenant,
                                                 "tap",    p->tap,    NULL };
                        guint64 value = what == 0   ? (t && t->present)
                                        : what == 1 ? (t ? t->drop_packets : 0)
                                                    : (t ? t->drop_bytes : 0);
                        g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, value);

                        sample(out, name, labels, v);
                }
        }
}

static void
reasons(GString *out, const char *name, const char *help, const guint64 *values)
{
        family(out, name, "counter", help);
        for (int r = 0; r < _NETISO_DROP_MAX; r++) {
                const char *labels[] = { "reason", netiso_drop_reason_to_string(r), NULL };
                g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, values[r]);
                sample(out, name, labels, v);
        }
}

char *
netiso_metrics_render(const NetisoMetricsInput *in)
{
        GString *out = g_string_new(NULL);
        const NetisoInspection *fw = in->inspection;
        g_autoptr(GPtrArray) sorted = g_ptr_array_copy(in->records, NULL, NULL);
        const char *info[] = { "version", PACKAGE_VERSION, "backend",
                               netiso_backend_to_string(in->config->backend), NULL };
        gboolean active = in->config->enabled && fw && fw->objects_present && fw->objects_intact;

        /* The copy must not free what it borrows. */
        g_ptr_array_set_free_func(sorted, NULL);
        g_ptr_array_sort(sorted, compare_records);
        family(out, "info", "gauge", "Version and configured backend (always 1).");
        sample(out, "info", info, "1");
        gauge(out, "enabled", "1 when the configuration enables isolation.", in->config->enabled);
        gauge(out, "active", "1 when isolation is enabled and the firewall objects are intact.",
              active);
        gauge(out, "firewall_readable",
              "1 when the firewall could be read (root or CAP_NET_ADMIN).", fw != NULL);
        if (fw) {
                gauge(out, "firewall_present", "1 when the firewall objects exist.",
                      fw->objects_present);
                gauge(out, "firewall_intact",
                      "1 when the firewall holds exactly what the records say.",
                      fw->objects_intact);
                gauge(out, "firewall_problems",
                      "Differences between the firewall and the records (reconcile --check).",
                      fw->problems->len);
                gauge(out, "firewall_warnings",
                      "Other tables or rules that also decide on guest traffic.",
                      fw->warnings->len);
        }
        gauge(out, "guests", "Protected guests (domains with installed state).", in->records->len);
        tenants(out, in->records);
        if (fw) {
                per_tap(out, sorted, fw, "interface_installed", "gauge",
                        "1 when the guest interface's state is in the firewall.", 0);
                per_tap(out, sorted, fw, "guest_dropped_packets_total", "counter",
                        "Packets dropped from or towards the guest interface.", 1);
                per_tap(out, sorted, fw, "guest_dropped_bytes_total", "counter",
                        "Bytes dropped from or towards the guest interface.", 2);
        }
        if (fw && fw->reasons_counted) {
                reasons(out, "dropped_packets_total",
                        "Packets dropped, by reason: spoofed (rule 1 of blixard-netiso(8) TRAFFIC "
                        "SEMANTICS), blocked (rules 2 to 8), inbound (9 to 11), unprotected (12).",
                        fw->reason_packets);
                reasons(out, "dropped_bytes_total", "Bytes dropped, by reason.", fw->reason_bytes);
        }
        timestamp(out, "last_event_timestamp_seconds",
                  "When the last guest install or removal was committed (Unix time).",
                  in->last_event_usec);
        timestamp(out, "last_repair_timestamp_seconds",
                  "When reconcile or watch last repaired the firewall (Unix time).",
                  in->last_repair_usec);
        return g_string_free(out, FALSE);
}
