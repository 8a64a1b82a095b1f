/* iptables-restore and iptables-save processes for the iptables backend
 * (ipt-restore.h). */
#include "autoconfig.h"

#include <errno.h>
#include <sys/wait.h>

#include "ipt/ipt-restore.h"
#include "util/error.h"

static gboolean
apply(NetisoFirewall *fw, const char *program, const char *text, GError **error)
{
        /* --noflush keeps every rule that is not ours; --wait takes the xtables lock. */
        (void)fw;
        const char *argv[] = { program, "--noflush", "--wait", NULL };
        g_autofree char *err = NULL;
        g_autoptr(GError) local = NULL;
        int status = 0;
        GPid pid;
        int in_fd = -1, err_fd = -1;

        if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                              G_SPAWN_STDOUT_TO_DEV_NULL,
                                      NULL, NULL, &pid, &in_fd, NULL, &err_fd, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s: %s", program,
                            local->message);
                return FALSE;
        }
        {
                g_autoptr(GIOChannel) in = g_io_channel_unix_new(in_fd);
                g_autoptr(GIOChannel) errc = g_io_channel_unix_new(err_fd);
                gsize len = 0;

                g_io_channel_set_close_on_unref(in, /* do_close */ TRUE);
                g_io_channel_set_close_on_unref(errc, /* do_close */ TRUE);
                g_io_channel_set_encoding(in, NULL, NULL);
                g_io_channel_write_chars(in, text, -1, NULL, NULL);
                g_io_channel_shutdown(in, /* flush */ TRUE, NULL);
                g_io_channel_read_to_end(errc, &err, &len, NULL);
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        g_spawn_close_pid(pid);
        if (!g_spawn_check_wait_status(status, NULL)) {
                g_autofree char *line = netiso_firewall_error_line(err);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s: %s", program, line);
                return FALSE;
        }
        return TRUE;
}

gboolean
netiso_ipt_restore(NetisoFirewall *fw, const char *program, const char *text, GError **error)
{
        return netiso_firewall_run(fw, program, text, apply, error);
}

char *
netiso_ipt_save(NetisoFirewall *fw, const char *program, const char *table, GError **error)
{
        const char *argv[] = { program, "-t", table, "-c", NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) local = NULL;
        int status = 0;

        if (netiso_firewall_mode(fw) == NETISO_FIREWALL_CAPTURE)
                return g_strdup("");
        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                          &status, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s: %s", program,
                            local->message);
                return NULL;
        }
        if (!g_spawn_check_wait_status(status, NULL)) {
                g_autofree char *line = netiso_firewall_error_line(err);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s: %s", program, line);
                return NULL;
        }
        return g_steal_pointer(&out);
}
