/* The blixard-netiso command: one function per subcommand, each taking the
 * remaining arguments and returning an exit status. */
#pragma once

#include <glib.h>

typedef struct {
        const char *config_path;   /* --config, or the default */
        gboolean json;             /* --json where supported */
        gboolean dry_run;          /* --dry-run: print transactions, apply nothing */
} NetisoCliOptions;

typedef int (*NetisoCliCommand)(const NetisoCliOptions *options, int argc, char **argv);

int netiso_cli_check_config(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_explain(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_apply(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_remove(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_status(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_reconcile(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_tag(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_nwfilter(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_watch(const NetisoCliOptions *options, int argc, char **argv);
int netiso_cli_purge(const NetisoCliOptions *options, int argc, char **argv);

/* Shared by the commands: print "blixard-netiso: MESSAGE" on stderr and
 * return the exit status for error. */
int netiso_cli_fail(GError *error);
