/* The executor of firewall.h: capture or apply, failure injection, and the
 * backends' handles, closed when the executor is freed. */
#include "autoconfig.h"

#include <string.h>

#include "core/firewall.h"
#include "util/error.h"

typedef struct {
        gpointer handle;
        GDestroyNotify destroy;
} Handle;

struct NetisoFirewall {
        NetisoFirewallMode mode;
        GString *captured;
        int fail_countdown;  /* -1: never inject a failure */
        GHashTable *handles; /* name -> Handle* */
};

static void
handle_free(gpointer data)
{
        Handle *h = data;

        if (h->destroy)
                h->destroy(h->handle);
        g_free(h);
}

NetisoFirewall *
netiso_firewall_new(NetisoFirewallMode mode)
{
        NetisoFirewall *fw = g_new0(NetisoFirewall, 1);

        fw->mode = mode;
        fw->captured = g_string_new(NULL);
        fw->fail_countdown = -1;
        fw->handles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, handle_free);
        return fw;
}

void
netiso_firewall_free(NetisoFirewall *fw)
{
        if (!fw)
                return;
        g_string_free(fw->captured, /* free_segment */ TRUE);
        g_hash_table_unref(fw->handles);
        g_free(fw);
}

NetisoFirewallMode
netiso_firewall_mode(const NetisoFirewall *fw)
{
        return fw->mode;
}

gpointer
netiso_firewall_handle(const NetisoFirewall *fw, const char *name)
{
        Handle *h = g_hash_table_lookup(fw->handles, name);

        return h ? h->handle : NULL;
}

void
netiso_firewall_set_handle(NetisoFirewall *fw, const char *name, gpointer handle,
                           GDestroyNotify destroy)
{
        Handle *h = g_new0(Handle, 1);

        h->handle = handle;
        h->destroy = destroy;
        g_hash_table_replace(fw->handles, g_strdup(name), h);
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

char *
netiso_firewall_error_line(const char *text)
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

gboolean
netiso_firewall_run(NetisoFirewall *fw, const char *target, const char *text,
                    NetisoFirewallApplyFunc apply, GError **error)
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
        return apply(fw, target, text, error);
}
