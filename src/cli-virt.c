/* Commands that talk to libvirtd: reconcile, tag, nwfilter --define, watch. */
#include "autoconfig.h"

#include <stdio.h>

#include "cli.h"
#include "virt.h"

static int
not_yet(const char *command)
{
        fprintf(stderr, "blixard-netiso %s: not implemented yet\n", command);
        return 1;
}

int
netiso_cli_reconcile(NetisoCliOptions *options, int argc, char **argv)
{
        return not_yet("reconcile");
}

int
netiso_cli_tag(NetisoCliOptions *options, int argc, char **argv)
{
        return not_yet("tag");
}

int
netiso_cli_watch(NetisoCliOptions *options, int argc, char **argv)
{
        return not_yet("watch");
}
