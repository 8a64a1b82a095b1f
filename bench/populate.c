/* Installs many guests at once for the benchmarks: each guest goes through
 * the hook's own reader and policy into a state record, and all records
 * reach the kernel in one backend sync, as `reconcile` would do it. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "conf/config.h"
#include "conf/domain.h"
#include "core/backend.h"
#include "core/flow-ids.h"
#include "core/policy.h"
#include "core/state.h"
#include "engine/backends.h"
#include "util/error.h"

/* Bulk guests live in 10.0.10.1 .. 10.0.49.250 (10,000 of them) and
 * fd00:10::2:0 upwards, away from the few addresses the benchmark scripts
 * give to real guests (10.0.0.x); their taps are vnet10000 upwards. */
#define FIRST_TAP 10000
#define MAX_GUESTS 40000

/* With bridge set: the same guests on that host bridge, bound by their
 * <filterref> (bench/bridged-path.sh); MACs 52:54:01:..., so that their
 * link-local addresses are not the real guests'. */
static const char *bridge;

static char *
guest_xml(guint i, guint tenants)
{
        if (bridge)
                return g_strdup_printf(
                        "<domain type='qemu'><name>bulk%05u</name>"
                        "<metadata><netiso:isolation xmlns:netiso='urn:blixard:network-isolation:1' "
                        "tenant='t%u'/></metadata>"
                        "<devices><interface type='bridge'><mac address='52:54:01:%02x:%02x:%02x'/>"
                        "<source bridge='%s'/><target dev='vnet%u'/><filterref filter='f'>"
                        "<parameter name='IP' value='10.0.%u.%u'/>"
                        "<parameter name='IPV6' value='fd00:10::2:%x'/>"
                        "</filterref></interface></devices></domain>",
                        i, i % tenants, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, bridge,
                        FIRST_TAP + i, 10 + i / 250, 1 + i % 250, i);
        return g_strdup_printf(
                "<domain type='qemu'><name>bulk%05u</name>"
                "<metadata><netiso:isolation xmlns:netiso='urn:blixard:network-isolation:1' "
                "tenant='t%u'/></metadata>"
                "<devices><interface type='ethernet'><mac address='52:54:00:%02x:%02x:%02x'/>"
                "<target dev='vnet%u'/><source>"
                "<ip address='10.0.255.254' prefix='32' peer='10.0.%u.%u'/>"
                "<ip family='ipv6' address='fd00:10::fffe' prefix='128' peer='fd00:10::2:%x'/>"
                "</source></interface></devices></domain>",
                i, i % tenants, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, FIRST_TAP + i,
                10 + i / 250, 1 + i % 250, i);
}

static NetisoRecord *
guest_record(const NetisoConfig *config, guint i, guint tenants, GError **error)
{
        g_autofree char *xml = guest_xml(i, tenants);
        g_autofree char *name = g_strdup_printf("bulk guest %u", i);
        g_autoptr(NetisoDomain) domain = netiso_domain_new_from_xml(name, xml, strlen(xml), error);
        g_autoptr(NetisoPolicy) policy = NULL;

        if (!domain)
                return NULL;
        policy = netiso_policy_new_for_domain(config, domain, error);
        if (!policy)
                return NULL;
        return netiso_record_new_from_policy(policy, config->backend);
}

static double
seconds_since(gint64 start)
{
        return (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

int
main(int argc, char **argv)
{
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoFirewall) fw = NULL;
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GError) error = NULL;
        struct rusage usage;
        guint guests, tenants;
        gint64 t0, t1;

        if (argc != 4 && argc != 5) {
                fprintf(stderr, "usage: %s CONFIG GUESTS TENANTS [BRIDGE]\n", argv[0]);
                return 2;
        }
        bridge = argc == 5 ? argv[4] : NULL;
        guests = (guint)strtoul(argv[2], NULL, 10);
        tenants = (guint)strtoul(argv[3], NULL, 10);
        if (guests > MAX_GUESTS || (guests > 0 && tenants == 0)) {
                fprintf(stderr, "%s: at most %u guests, in at least one tenant\n", argv[0],
                        MAX_GUESTS);
                return 2;
        }
        config = netiso_config_new_from_file(argv[1], &error);
        if (!config)
                goto fail;

        t0 = g_get_monotonic_time();
        for (guint i = 0; i < guests; i++) {
                g_autoptr(NetisoRecord) record = guest_record(config, i, tenants, &error);
                if (!record || !netiso_flow_id_new(config->state_dir, &record->flow_id, &error) ||
                    !netiso_state_save(config->state_dir, record, &error))
                        goto fail;
        }
        /* Sync what the state directory now holds, so that guests the hook
         * installed before stay installed. */
        t1 = g_get_monotonic_time();
        records = netiso_state_list(config->state_dir, NULL, &error);
        fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        if (!records || !netiso_backend_ops(config->backend)->sync(fw, config, records, &error))
                goto fail;
        getrusage(RUSAGE_SELF, &usage);
        printf("records %u written_s %.2f synced %u sync_s %.2f maxrss_kb %ld\n", guests,
               (double)(t1 - t0) / G_USEC_PER_SEC, records->len, seconds_since(t1),
               usage.ru_maxrss);
        return 0;
fail:
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 1;
}
