/* check-config and explain: read-only commands that never touch the
 * firewall, plus the option and configuration helpers every command uses. */
#include "autoconfig.h"

#include <stdio.h>

#include "cli/cli.h"
#include "cli/leases.h"
#include "cluster/etcd.h"
#include "conf/domain.h"
#include "core/policy.h"
#include "engine/lifecycle.h"
#include "util/error.h"

gboolean
netiso_cli_parse(NetisoCliOptions *options, const char *usage, GOptionEntry *entries, int *argc,
                 char ***argv, int *ret_status)
{
        g_autofree char *command = g_strdup((*argv)[0]);
        g_autofree char *param = g_strdup_printf("%s %s", command, usage ? usage : "");
        g_autoptr(GOptionContext) ctx = g_option_context_new(param);
        g_autoptr(GError) error = NULL;
        char *config = NULL;
        GOptionEntry common[] = {
                { "config", 0, 0, G_OPTION_ARG_FILENAME, &config, "configuration file", "PATH" },
                { NULL },
        };

        g_option_context_add_main_entries(ctx, common, NULL);
        if (entries)
                g_option_context_add_main_entries(ctx, entries, NULL);
        g_option_context_set_summary(ctx, "See blixard-netiso(8).");
        if (!g_option_context_parse(ctx, argc, argv, &error)) {
                fprintf(stderr, "blixard-netiso %s: %s\n", command, error->message);
                *ret_status = 2;
                return FALSE;
        }
        if (config) {
                /* Lives as long as the process: the options outlive this call. */
                options->config_path = config;
        }
        return TRUE;
}

NetisoConfig *
netiso_cli_load_config(const NetisoCliOptions *options, int *ret_status)
{
        g_autoptr(GError) error = NULL;
        NetisoConfig *config = netiso_config_new_from_file(options->config_path, &error);

        if (!config)
                *ret_status = netiso_cli_fail(error);
        return config;
}

static gboolean
no_extra_args(int argc, char **argv, int *ret_status)
{
        if (argc <= 1)
                return TRUE;
        fprintf(stderr, "blixard-netiso %s: unexpected argument '%s'\n", argv[0], argv[1]);
        *ret_status = 2;
        return FALSE;
}

/* The cluster table: its TLS files are loaded as the watch daemon will
 * load them (offline: nothing is connected). *ret_line describes it. */
static int
check_cluster(const NetisoCliOptions *options, const NetisoConfig *config, char **ret_line)
{
        const NetisoClusterConfig *c = config->cluster;
        g_autoptr(GPtrArray) endpoints = g_ptr_array_new();
        g_autoptr(NetisoEtcd) etcd = NULL;
        g_autoptr(GError) error = NULL;
        NetisoEtcdOptions o = { 0 };

        if (!c)
                return 0;
        for (guint i = 0; i < c->endpoints->len; i++)
                g_ptr_array_add(endpoints, g_ptr_array_index(c->endpoints, i));
        g_ptr_array_add(endpoints, NULL);
        o = (NetisoEtcdOptions){ (const char *const *)endpoints->pdata, c->ca_file, c->cert_file,
                                 c->key_file, 0 };
        etcd = netiso_etcd_new(&o, &error);
        if (!etcd) {
                fprintf(stderr, "blixard-netiso: %s: [vm.network_isolation.cluster]: %s\n",
                        options->config_path, error->message);
                return 2;
        }
        *ret_line = g_strdup_printf(
                "cluster: node %s, prefix %s, %u etcd endpoints%s, lease_ttl %u s\n", c->node,
                c->prefix, c->endpoints->len, c->cert_file ? " with a client certificate" : "",
                c->lease_ttl);
        return 0;
}

int
netiso_cli_check_config(NetisoCliOptions *options, int argc, char **argv)
{
        g_autoptr(NetisoConfig) config = NULL;
        g_autofree char *cluster = NULL;
        int status = 0;

        if (!netiso_cli_parse(options, "", NULL, &argc, &argv, &status) ||
            !no_extra_args(argc, argv, &status))
                return status;
        config = netiso_cli_load_config(options, &status);
        if (!config || (status = check_cluster(options, config, &cluster)) != 0)
                return status;
        printf("%s: ok (isolation %s, backend %s, %u cluster networks, %u VM networks, %u allowed ports)\n",
               options->config_path, config->enabled ? "enabled" : "disabled",
               netiso_backend_to_string(config->backend), config->cluster_networks->len,
               config->vm_networks->len, config->allowed_ports->len);
        if (cluster)
                fputs(cluster, stdout);
        return 0;
}

int
netiso_cli_explain(NetisoCliOptions *options, int argc, char **argv)
{
        g_autofree char *xml_path = NULL;
        GOptionEntry entries[] = {
                { "domain-xml", 0, 0, G_OPTION_ARG_FILENAME, &xml_path,
                  "domain XML to explain ('-' for standard input)", "FILE" },
                { NULL },
        };
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoDomain) domain = NULL;
        g_autoptr(NetisoPolicy) policy = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        int status = 0;

        if (!netiso_cli_parse(options, "--domain-xml FILE", entries, &argc, &argv, &status) ||
            !no_extra_args(argc, argv, &status))
                return status;
        if (!xml_path) {
                fprintf(stderr, "blixard-netiso explain: --domain-xml FILE is required\n");
                return 2;
        }
        config = netiso_cli_load_config(options, &status);
        if (!config)
                return status;
        domain = netiso_domain_new_from_file(xml_path, &error);
        if (!domain)
                return netiso_cli_fail(error);
        /* A running libvirt network adds its reservations and services (and
         * its leases); without it the guest is explained from its XML alone. */
        if (!netiso_domain_resolve(domain, &error) ||
            !netiso_leases_learn(domain, g_get_real_time() / G_USEC_PER_SEC, &error)) {
                fprintf(stderr, "blixard-netiso: note: %s\n", error->message);
                g_clear_error(&error);
        }
        policy = netiso_policy_new_for_domain(config, domain, &error);
        if (!policy || !netiso_lifecycle_validate(config, domain, &error)) {
                fprintf(stderr, "blixard-netiso: the guest would be refused: %s\n", error->message);
                return 1;
        }
        text = netiso_policy_describe(policy);
        fputs(text, stdout);
        return 0;
}
