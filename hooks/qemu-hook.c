/* The libvirt qemu hook: `qemu-hook DOMAIN OPERATION SUB-OPERATION EXTRA`,
 * the domain XML on stdin; non-zero on a validating or installing event
 * refuses the guest. Never talks to libvirtd, never writes to stdout. */
#include "autoconfig.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "conf/config.h"
#include "conf/domain.h"
#include "core/backend.h"
#include "engine/lifecycle.h"
#include "util/error.h"
#include "util/input.h"
#include "util/log.h"
#include "util/release.h"

/* Tests point the hook at their own configuration; libvirtd clears the
 * environment, so in production this is always the default path. */
static const char *
config_path(void)
{
        const char *env = g_getenv("BLIXARD_NETISO_CONFIG");
        return env && *env ? env : NETISO_DEFAULT_CONFIG_PATH;
}

/* libvirt's writer never sees EPIPE: everything is read, the limit plus
 * one byte kept (the reader reports the size). */
static char *
read_stdin(gsize *ret_len, GError **error)
{
        g_autoptr(GString) buf = g_string_sized_new(16384);
        int err = netiso_read_bounded(STDIN_FILENO, NETISO_DOMAIN_XML_MAX, /* drain */ TRUE, buf);

        if (err) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "standard input: %s",
                            g_strerror(err));
                return NULL;
        }
        *ret_len = buf->len;
        return g_string_free(g_steal_pointer(&buf), /* free_segment */ FALSE);
}

/* The event's outcome, logged; the nftables sockets are left to a child to
 * release (util/release.h): whatever they did is committed or abandoned by
 * now, so the wait on their release is no longer the guest's. */
static int
finish(NetisoAction action, NetisoLogFields *fields, GError *error)
{
        netiso_release_netlink_in_child();
        if (!error) {
                netiso_log(LOG_INFO, fields, "%s done", netiso_action_to_string(action));
                return 0;
        }
        if (netiso_action_fails_closed(action)) {
                fields->outcome = "refused";
                netiso_log(LOG_ERR, fields, "guest refused: %s", error->message);
                fprintf(stderr, "blixard-netiso: %s\n", error->message);
                return 1;
        }
        fields->outcome = "incomplete";
        netiso_log(LOG_WARNING, fields, "teardown incomplete: %s", error->message);
        return 0;
}

int
main(int argc, char **argv)
{
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoDomain) domain = NULL;
        g_autoptr(NetisoFirewall) fw = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;
        g_autofree char *event = NULL;
        NetisoLogFields fields = { 0 };
        NetisoAction action;
        gsize len = 0;

        /* A firewall tool that exits before reading all of its batch (a refusal)
         * must be an error, not a SIGPIPE that kills the hook between the IPv4
         * and the IPv6 commit, before the undo and the record's rollback. */
        signal(SIGPIPE, SIG_IGN);
        netiso_release_defer();
        netiso_log_open("blixard-netiso-hook");
        if (argc < 4) {
                fprintf(stderr, "usage: %s DOMAIN OPERATION SUB-OPERATION [EXTRA]\n", argv[0]);
                return 2;
        }
        event = g_strdup_printf("%s %s", argv[2], argv[3]);
        fields.domain = argv[1];
        fields.event = event;
        action = netiso_action_for_hook(argv[2], argv[3]);
        xml = read_stdin(&len, &error);
        if (action == NETISO_ACTION_IGNORE)
                return 0;
        if (!xml)
                return finish(action, &fields, error);

        config = netiso_config_new_from_file(config_path(), &error);
        if (!config) {
                if (action != NETISO_ACTION_REMOVE)
                        return finish(action, &fields, error);
                /* Teardown still removes what a record says was installed. */
                netiso_log(LOG_WARNING, &fields, "%s; removing with defaults", error->message);
                g_clear_error(&error);
                config = netiso_config_new_default();
        }
        fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);

        if (action == NETISO_ACTION_REMOVE) {
                fields.outcome = "removed";
                netiso_lifecycle_remove(config, argv[1], fw, &error);
                return finish(action, &fields, error);
        }
        if (!config->enabled) {
                fields.outcome = "disabled";
                return 0;
        }
        domain = netiso_domain_new_from_xml("standard input", xml, len, &error);
        if (!domain)
                return finish(action, &fields, error);
        fields.tenant = domain->tenant;
        if (action == NETISO_ACTION_VALIDATE) {
                fields.outcome = "validated";
                netiso_lifecycle_validate(config, domain, &error);
                return finish(action, &fields, error);
        }
        fields.outcome = "installed";
        /* From start on, a libvirt network's bridge, services and DHCP
         * reservations are read from the status file libvirtd wrote (the
         * iptables backend refuses bridged guests without reading it). */
        if (config->backend == NETISO_BACKEND_IPTABLES || netiso_domain_resolve(domain, &error))
                netiso_lifecycle_install(config, domain, fw, &error);
        return finish(action, &fields, error);
}
