/* The blixard-netiso command: one function per subcommand, each taking its
 * own argv (argv[0] is the command name) and returning an exit status. */
#pragma once

#include <glib.h>

#include "conf/config.h"

typedef struct {
        const char *config_path; /* --config, BLIXARD_NETISO_CONFIG, or the default */
} NetisoCliOptions;

typedef int (*NetisoCliCommand)(NetisoCliOptions *options, int argc, char **argv);

int netiso_cli_check_config(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_explain(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_apply(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_remove(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_purge(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_status(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_reconcile(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_tag(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_nwfilter(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_watch(NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_why(NetisoCliOptions *options, int argc, char **argv); /* cli-why.c */

/* Print "blixard-netiso: MESSAGE" on stderr; return the exit status for it. */
int netiso_cli_fail(GError *error);

/* Parse a subcommand's options with GOption (adds --config too).
 * Returns FALSE after printing the error; *ret_status is then the exit status. */
gboolean netiso_cli_parse(NetisoCliOptions *options, const char *usage, GOptionEntry *entries,
                          int *argc, char ***argv, int *ret_status);

/* Root, or CAP_NET_ADMIN in the effective set (cli-status.c). */
gboolean netiso_cli_has_net_admin(void);

/* Load the configuration named by the options; NULL after printing the error. */
NetisoConfig *netiso_cli_load_config(const NetisoCliOptions *options, int *ret_status);
