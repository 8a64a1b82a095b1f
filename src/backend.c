/* The firewall executor shared by the backends: one call is one
 * all-or-nothing transaction, applied through libnftables or an
 * iptables-restore process, or captured for golden tests. */
#include "autoconfig.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "backend-ipt.h"
#include "backend-nft.h"
#include "backend.h"
#include "error.h"
#include "nft-lib.h"
#include "nft-netlink.h"

struct NetisoFirewall {
        NetisoFirewallMode mode;
        GString *captured;
        int fail_countdown; /* -1: never inject a failure */
        /* One libnftables context for the firewall's life: closing its netlink
         * socket waits for the kernel to free the last transaction (an RCU
         * grace period, 100 ms on a busy host), so that happens when the
         * caller frees fw, after it has released the lock. */
        struct nft_ctx *nft;
        const NetisoNftLib *lib; /* set with nft */
        NetisoNl *nl;            /* the fast path's socket: closed late for the same reason */
};

NetisoFirewall *
netiso_firewall_new(NetisoFirewallMode mode)
{
        NetisoFirewall *fw = g_new0(NetisoFirewall, 1);

        fw->mode = mode;
        fw->captured = g_string_new(NULL);
        fw->fail_countdown = -1;
        return fw;
}

void
netiso_firewall_free(NetisoFirewall *fw)
{
        if (!fw)
                return;
        g_string_free(fw->captured, TRUE);
        if (fw->nft)
                fw->lib->ctx_free(fw->nft);
        netiso_nl_close(fw->nl);
        g_free(fw);
}

NetisoNl *
netiso_firewall_netlink(NetisoFirewall *fw, GError **error)
{
        if (fw->mode == NETISO_FIREWALL_CAPTURE)
                return NULL;
        if (!fw->nl)
                fw->nl = netiso_nl_open(error);
        return fw->nl;
}

const char *
netiso_firewall_captured(const NetisoFirewall *fw)
{
        return fw->captured->str;
}

void
netiso_firewall_fail_after(NetisoFirewall *fw, int n)
{
        fw->fail_countdown = n;
}

/* libnftables reports several lines (message, command, caret); the first
 * "Error:" line is the one-line summary the contract asks for. */
static char *
first_error_line(const char *text)
{
        g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

        for (guint i = 0; lines[i]; i++) {
                const char *e = strstr(lines[i], "Error: ");
                if (e)
                        return g_strdup(e + strlen("Error: "));
        }
        for (guint i = 0; lines[i]; i++)
                if (*g_strstrip(lines[i]))
                        return g_strdup(lines[i]);
        return g_strdup("unknown error");
}

/* The buffers are rewound by each read, so a context serves many commands. */
static char *
run_nft(NetisoFirewall *fw, const char *text, gboolean json, GError **error)
{
        const NetisoNftLib *lib;
        int rc;

        if (!fw->nft) {
                lib = netiso_nft_lib(error);
                if (!lib)
                        return NULL;
                fw->nft = lib->ctx_new(NFT_CTX_DEFAULT);
                if (!fw->nft) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                                    "nftables: cannot create a libnftables context");
                        return NULL;
                }
                fw->lib = lib;
                lib->buffer_output(fw->nft);
                lib->buffer_error(fw->nft);
        }
        lib = fw->lib;
        lib->output_set_flags(fw->nft, json ? NFT_CTX_OUTPUT_JSON : 0);
        rc = lib->run_cmd_from_buffer(fw->nft, text);
        if (rc != 0) {
                g_autofree char *line = first_error_line(lib->get_error_buffer(fw->nft));
                lib->get_output_buffer(fw->nft);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "nftables: %s", line);
                return NULL;
        }
        lib->get_error_buffer(fw->nft);
        return g_strdup(lib->get_output_buffer(fw->nft));
}

static gboolean
run_restore(const char *program, const char *text, GError **error)
{
        /* --noflush keeps every rule that is not ours; --wait takes the xtables lock. */
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

                g_io_channel_set_close_on_unref(in, TRUE);
                g_io_channel_set_close_on_unref(errc, TRUE);
                g_io_channel_set_encoding(in, NULL, NULL);
                g_io_channel_write_chars(in, text, -1, NULL, NULL);
                g_io_channel_shutdown(in, TRUE, NULL);
                g_io_channel_read_to_end(errc, &err, &len, NULL);
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        g_spawn_close_pid(pid);
        if (!g_spawn_check_wait_status(status, NULL)) {
                g_autofree char *line = first_error_line(err);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s: %s", program, line);
                return FALSE;
        }
        return TRUE;
}

gboolean
netiso_firewall_run(NetisoFirewall *fw, const char *target, const char *text, GError **error)
{
        if (fw->fail_countdown == 0) {
                fw->fail_countdown = -1;
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "%s: injected failure (test)", target);
                return FALSE;
        }
        if (fw->fail_countdown > 0)
                fw->fail_countdown--;

        if (fw->mode == NETISO_FIREWALL_CAPTURE) {
                g_string_append_printf(fw->captured, "# %s\n%s", target, text);
                if (fw->captured->len && fw->captured->str[fw->captured->len - 1] != '\n')
                        g_string_append_c(fw->captured, '\n');
                return TRUE;
        }
        if (g_str_equal(target, "nft")) {
                g_autofree char *output = run_nft(fw, text, FALSE, error);
                return output != NULL;
        }
        return run_restore(target, text, error);
}

char *
netiso_firewall_query(NetisoFirewall *fw, const char *command, gboolean json, GError **error)
{
        if (fw->mode == NETISO_FIREWALL_CAPTURE)
                return g_strdup("");
        return run_nft(fw, command, json, error);
}

char *
netiso_firewall_save(NetisoFirewall *fw, const char *program, GError **error)
{
        const char *argv[] = { program, "-t", "filter", "-c", NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) local = NULL;
        int status = 0;

        if (fw->mode == NETISO_FIREWALL_CAPTURE)
                return g_strdup("");
        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                          &status, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s: %s", program,
                            local->message);
                return NULL;
        }
        if (!g_spawn_check_wait_status(status, NULL)) {
                g_autofree char *line = first_error_line(err);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s: %s", program, line);
                return NULL;
        }
        return g_steal_pointer(&out);
}

void
netiso_inspection_free(NetisoInspection *inspection)
{
        if (!inspection)
                return;
        g_ptr_array_unref(inspection->taps);
        g_ptr_array_unref(inspection->problems);
        g_ptr_array_unref(inspection->warnings);
        g_free(inspection);
}

const NetisoBackendOps *
netiso_backend_ops(NetisoBackend kind)
{
        switch (kind) {
        case NETISO_BACKEND_NFTABLES:
                return &netiso_backend_nft;
        case NETISO_BACKEND_IPTABLES:
                return &netiso_backend_ipt;
        default:
                g_assert_not_reached();
        }
}
