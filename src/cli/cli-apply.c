/* apply, remove and purge: the hook's own code paths, driven by hand for
 * VM managers other than libvirt and for tests. --dry-run prints the
 * transactions instead of committing them. */
#include "autoconfig.h"

#include <stdio.h>

#include "cli/cli.h"
#include "cli/leases.h"
#include "conf/domain.h"
#include "core/backend.h"
#include "core/flow-ids.h"
#include "core/state.h"
#include "engine/backends.h"
#include "engine/lifecycle.h"
#include "util/error.h"

static NetisoFirewall *
firewall_for(gboolean dry_run)
{
        return netiso_firewall_new(dry_run ? NETISO_FIREWALL_CAPTURE : NETISO_FIREWALL_APPLY);
}

static int
finish(NetisoFirewall *fw, gboolean dry_run, GError *error)
{
        if (dry_run)
                fputs(netiso_firewall_captured(fw), stdout);
        return error ? netiso_cli_fail(error) : 0;
}

int
netiso_cli_apply(NetisoCliOptions *options, int argc, char **argv)
{
        g_autofree char *xml_path = NULL;
        gboolean dry_run = FALSE;
        GOptionEntry entries[] = {
                { "domain-xml", 0, 0, G_OPTION_ARG_FILENAME, &xml_path,
                  "domain XML (with <target dev> names) to apply ('-' for standard input)",
                  "FILE" },
                { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
                  "print the transaction instead of committing it", NULL },
                { NULL },
        };
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoDomain) domain = NULL;
        g_autoptr(NetisoFirewall) fw = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!netiso_cli_parse(options, "--domain-xml FILE", entries, &argc, &argv, &status))
                return status;
        if (!xml_path || argc > 1) {
                fprintf(stderr,
                        "blixard-netiso apply: --domain-xml FILE is required, nothing else\n");
                return 2;
        }
        config = netiso_cli_load_config(options, &status);
        if (!config)
                return status;
        if (!config->enabled) {
                fprintf(stderr,
                        "blixard-netiso: %s: isolation is disabled (enabled = false): nothing applied\n",
                        options->config_path);
                return 2;
        }
        domain = netiso_domain_new_from_file(xml_path, &error);
        /* The leases of a guest's libvirt networks bind like declared
         * addresses (the hook cannot know them at start; apply can). */
        if (!domain || (config->backend != NETISO_BACKEND_IPTABLES &&
                        (!netiso_domain_resolve(domain, &error) ||
                         !netiso_leases_learn(domain, g_get_real_time() / G_USEC_PER_SEC, &error))))
                return netiso_cli_fail(error);
        fw = firewall_for(dry_run);
        if (dry_run) {
                /* A dry run must not move records either: render against them only. */
                g_autoptr(NetisoPolicy) policy =
                        netiso_policy_new_for_domain(config, domain, &error);
                g_autoptr(NetisoRecord) old = NULL;
                if (policy && netiso_lifecycle_validate(config, domain, &error) &&
                    netiso_state_load(config->state_dir, domain->name, &old, &error)) {
                        /* Its flow id if it keeps it, else the one an install would get. */
                        if (old && old->flow_id && g_str_equal(old->tenant, policy->tenant))
                                policy->flow_id = old->flow_id;
                        else
                                netiso_flow_id_next(config->state_dir, &policy->flow_id, NULL);
                        netiso_backend_ops(config->backend)->apply(fw, config, policy, old, &error);
                }
                return finish(fw, dry_run, error);
        }
        netiso_lifecycle_install(config, domain, fw, &error);
        return finish(fw, /* dry_run */ FALSE, error);
}

int
netiso_cli_remove(NetisoCliOptions *options, int argc, char **argv)
{
        g_autofree char *name = NULL;
        gboolean dry_run = FALSE;
        GOptionEntry entries[] = {
                { "domain", 0, 0, G_OPTION_ARG_STRING, &name, "domain name", "NAME" },
                { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
                  "print the transaction instead of committing it", NULL },
                { NULL },
        };
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoFirewall) fw = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!netiso_cli_parse(options, "--domain NAME", entries, &argc, &argv, &status))
                return status;
        if (!name || argc > 1) {
                fprintf(stderr, "blixard-netiso remove: --domain NAME is required, nothing else\n");
                return 2;
        }
        config = netiso_cli_load_config(options, &status);
        if (!config)
                return status;
        fw = firewall_for(dry_run);
        if (dry_run) {
                g_autoptr(NetisoRecord) old = NULL;
                if (netiso_state_load(config->state_dir, name, &old, &error) && old)
                        netiso_backend_ops(old->backend)->remove(fw, config, old, &error);
                return finish(fw, dry_run, error);
        }
        netiso_lifecycle_remove(config, name, fw, &error);
        return finish(fw, /* dry_run */ FALSE, error);
}

int
netiso_cli_purge(NetisoCliOptions *options, int argc, char **argv)
{
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(NetisoLock) lock = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!netiso_cli_parse(options, "", NULL, &argc, &argv, &status))
                return status;
        config = netiso_cli_load_config(options, &status);
        if (!config)
                return status;
        /* The hook's lock: a purge between a hook's record and its commit
         * would leave the hook's elements with no record. */
        lock = netiso_lock_acquire(config->state_dir, NETISO_LOCK_TIMEOUT_MS, &error);
        if (!lock)
                return netiso_cli_fail(error);
        for (int b = 0; b < _NETISO_BACKEND_MAX; b++) {
                g_autoptr(GError) e = NULL;
                if (!netiso_backend_ops(b)->purge(fw, &e) && b == (int)config->backend && !error)
                        error = g_steal_pointer(&e);
        }
        records = netiso_state_list(config->state_dir, NULL, NULL);
        for (guint i = 0; records && i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                netiso_state_remove(config->state_dir, rec->domain, NULL);
        }
        return error ? netiso_cli_fail(error) : 0;
}
