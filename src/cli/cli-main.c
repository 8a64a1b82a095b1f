/* blixard-netiso: the operator's command. Parses the global options, picks
 * the subcommand, and turns its result into the exit status of the
 * interface contract (0 ok, 1 failure or drift, 2 usage or configuration). */
#include "autoconfig.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "util/error.h"
#include "util/log.h"

static const struct {
        const char *name;
        NetisoCliCommand run;
        const char *summary;
} commands[] = {
        { "status", netiso_cli_status, "is isolation active: config, backend, guests, counters" },
        { "check-config", netiso_cli_check_config, "validate the configuration file" },
        { "explain", netiso_cli_explain,
          "print the policy a domain would get (--domain-xml FILE)" },
        { "apply", netiso_cli_apply, "apply one domain's isolation (--domain-xml FILE)" },
        { "remove", netiso_cli_remove, "remove one domain's isolation (--domain NAME)" },
        { "reconcile", netiso_cli_reconcile, "repair drift against running domains ([--check])" },
        { "tag", netiso_cli_tag, "set a domain's tenant (DOMAIN --tenant NAME)" },
        { "nwfilter", netiso_cli_nwfilter,
          "generate libvirt nwfilter XML ([--tenant NAME] [--define])" },
        { "watch", netiso_cli_watch, "follow libvirt events and apply changes live" },
        { "why", netiso_cli_why,
          "would a packet pass, and which rule decides (--from X --to Y[:PORT])" },
        { "purge", netiso_cli_purge, "remove every firewall object and record of blixard-netiso" },
};

static void
usage(FILE *f)
{
        fprintf(f, "usage: blixard-netiso [--config PATH] COMMAND [ARGS]\n\ncommands:\n");
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
                fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
        fprintf(f,
                "\n'blixard-netiso COMMAND --help' describes each command; see blixard-netiso(8)\n");
}

int
netiso_cli_fail(GError *error)
{
        fprintf(stderr, "blixard-netiso: %s\n", error->message);
        return netiso_error_exit_status(error);
}

int
main(int argc, char **argv)
{
        NetisoCliOptions options = { .config_path = NETISO_DEFAULT_CONFIG_PATH };
        const char *env = g_getenv("BLIXARD_NETISO_CONFIG");
        int i = 1;

        /* As in the hook: a firewall tool that stops reading its batch is an
         * error, not a SIGPIPE in the middle of a transaction. */
        signal(SIGPIPE, SIG_IGN);
        netiso_log_open("blixard-netiso");
        if (env && *env)
                options.config_path = env;
        /* Global options come before the command; --config is also accepted
         * after it (check-config --config PATH in the contract). */
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (g_str_equal(argv[i], "--help") || g_str_equal(argv[i], "-h")) {
                        usage(stdout);
                        return 0;
                } else if (g_str_equal(argv[i], "--version")) {
                        printf("blixard-netiso %s\n", PACKAGE_VERSION);
                        return 0;
                } else if (g_str_equal(argv[i], "--config") && i + 1 < argc) {
                        options.config_path = argv[++i];
                } else if (g_str_has_prefix(argv[i], "--config=")) {
                        options.config_path = argv[i] + strlen("--config=");
                } else {
                        fprintf(stderr, "blixard-netiso: unknown option '%s'\n", argv[i]);
                        usage(stderr);
                        return 2;
                }
        }
        if (i >= argc) {
                usage(stderr);
                return 2;
        }
        for (gsize c = 0; c < G_N_ELEMENTS(commands); c++)
                if (g_str_equal(argv[i], commands[c].name))
                        return commands[c].run(&options, argc - i, argv + i);
        fprintf(stderr, "blixard-netiso: unknown command '%s'\n", argv[i]);
        usage(stderr);
        return 2;
}
