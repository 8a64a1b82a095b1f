/* The remote addresses installed on this host (core/remote.h), kept as a
 * journal so that a change costs one appended line whatever the number of
 * remote guests; the file is rewritten when most of it is history. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/remote.h"
#include "util/error.h"
#include "util/input.h"
#include "util/names.h"
#include "util/quote.h"

#define HEADER "blixard-netiso remote 1\n"
#define REMOTE_FILE_MAX (64 * 1024 * 1024)
#define REWRITE_SLACK 1024 /* lines of history tolerated beyond twice the entries */

struct NetisoRemote {
        GHashTable *by_addr; /* NetisoCidr* (the entry's) -> NetisoRemoteAddr* */
        GHashTable *tenants; /* tenant -> count */
        GPtrArray *list;     /* sorted cache for netiso_remote_list(), NULL when stale */
        guint lines;         /* lines in the file since it was last written whole */
};

char *
netiso_cluster_dir(const char *state_dir)
{
        return g_build_filename(state_dir, "cluster", NULL);
}

char *
netiso_cluster_socket_path(const char *state_dir)
{
        return g_build_filename(state_dir, "cluster", "watch.sock", NULL);
}

char *
netiso_cluster_status_path(const char *state_dir)
{
        return g_build_filename(state_dir, "cluster", "status.json", NULL);
}

static char *
journal_path(const char *state_dir)
{
        return g_build_filename(state_dir, "cluster", "remote", NULL);
}

gboolean
netiso_cluster_ensure_dir(const char *state_dir, GError **error)
{
        g_autofree char *dir = netiso_cluster_dir(state_dir);

        if (g_mkdir_with_parents(dir, 0700) == 0)
                return TRUE;
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot create: %s", dir,
                    g_strerror(errno));
        return FALSE;
}

static void
entry_free(NetisoRemoteAddr *e)
{
        g_free(e->tenant);
        g_free(e->node);
        g_free(e->uuid);
        g_free(e->name);
        g_free(e);
}

NetisoRemote *
netiso_remote_new(void)
{
        NetisoRemote *remote = g_new0(NetisoRemote, 1);

        remote->by_addr = g_hash_table_new_full(netiso_cidr_hash, netiso_cidr_equal_func, NULL,
                                                (GDestroyNotify)entry_free);
        remote->tenants = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        return remote;
}

void
netiso_remote_free(NetisoRemote *remote)
{
        if (!remote)
                return;
        g_clear_pointer(&remote->list, g_ptr_array_unref);
        g_hash_table_unref(remote->by_addr);
        g_hash_table_unref(remote->tenants);
        g_free(remote);
}

static void
count_tenant(NetisoRemote *remote, const char *tenant, int delta)
{
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(remote->tenants, tenant)) + delta;

        if (n == 0)
                g_hash_table_remove(remote->tenants, tenant);
        else
                g_hash_table_replace(remote->tenants, g_strdup(tenant), GUINT_TO_POINTER(n));
}

void
netiso_remote_set(NetisoRemote *remote, const NetisoCidr *addr, const NetisoRemoteAddr *entry)
{
        const NetisoRemoteAddr *old = g_hash_table_lookup(remote->by_addr, addr);
        NetisoRemoteAddr *copy;

        g_clear_pointer(&remote->list, g_ptr_array_unref);
        if (old) {
                count_tenant(remote, old->tenant, -1);
                g_hash_table_remove(remote->by_addr, addr);
        }
        if (!entry)
                return;
        copy = g_new0(NetisoRemoteAddr, 1);
        copy->addr = *addr;
        copy->tenant = g_strdup(entry->tenant);
        copy->node = g_strdup(entry->node);
        copy->uuid = g_strdup(entry->uuid);
        copy->name = g_strdup(entry->name);
        count_tenant(remote, copy->tenant, +1);
        g_hash_table_insert(remote->by_addr, &copy->addr, copy);
}

const NetisoRemoteAddr *
netiso_remote_lookup(const NetisoRemote *remote, const NetisoCidr *addr)
{
        return g_hash_table_lookup(remote->by_addr, addr);
}

guint
netiso_remote_size(const NetisoRemote *remote)
{
        return g_hash_table_size(remote->by_addr);
}

GHashTable *
netiso_remote_tenants(const NetisoRemote *remote)
{
        return remote->tenants;
}

static int
compare_addr(gconstpointer a, gconstpointer b)
{
        const NetisoRemoteAddr *x = *(NetisoRemoteAddr *const *)a;
        const NetisoRemoteAddr *y = *(NetisoRemoteAddr *const *)b;

        if (x->addr.family != y->addr.family)
                return x->addr.family < y->addr.family ? -1 : 1;
        return memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes));
}

GPtrArray *
netiso_remote_list(const NetisoRemote *remote)
{
        NetisoRemote *self = (NetisoRemote *)remote; /* the cache only */
        GHashTableIter it;
        gpointer value;

        if (self->list)
                return self->list;
        self->list = g_ptr_array_sized_new(g_hash_table_size(remote->by_addr));
        g_hash_table_iter_init(&it, remote->by_addr);
        while (g_hash_table_iter_next(&it, NULL, &value))
                g_ptr_array_add(self->list, value);
        g_ptr_array_sort(self->list, compare_addr);
        return self->list;
}

GPtrArray *
netiso_remote_find_guest(const NetisoRemote *remote, const char *node, const char *uuid)
{
        GPtrArray *all = netiso_remote_list(remote);
        GPtrArray *found = g_ptr_array_new();

        for (guint i = 0; i < all->len; i++) {
                const NetisoRemoteAddr *e = g_ptr_array_index(all, i);
                if (g_str_equal(e->node, node) && g_str_equal(e->uuid, uuid))
                        g_ptr_array_add(found, (gpointer)e);
        }
        return found;
}

const NetisoRemoteAddr *
netiso_remote_find_name(const NetisoRemote *remote, const char *name, int family)
{
        GPtrArray *all = netiso_remote_list(remote);
        const NetisoRemoteAddr *any = NULL;

        for (guint i = 0; i < all->len; i++) {
                const NetisoRemoteAddr *e = g_ptr_array_index(all, i);
                if (!g_str_equal(e->name, name))
                        continue;
                if (family == 0 || (int)e->addr.family == family)
                        return e;
                any = any ? any : e;
        }
        return family ? NULL : any;
}

/* ---- the file ---- */

static const char *
entry_problem(const NetisoRemoteAddr *e)
{
        g_autofree char *canonical = netiso_uuid_canonical(e->uuid);
        g_autofree char *tenant = netiso_tenant_name_problem(e->tenant);
        g_autofree char *node = netiso_tenant_name_problem(e->node);

        if (tenant)
                return "bad tenant";
        if (node)
                return "bad node";
        if (!canonical || !g_str_equal(canonical, e->uuid))
                return "bad uuid";
        if (netiso_domain_name_problem(e->name))
                return "bad name";
        if (netiso_addr_guest_refusal(&e->addr))
                return "not a guest address";
        return NULL;
}

/* "+ ADDR TENANT NODE UUID NAME" or "- ADDR" into remote. */
static const char *
apply_line(NetisoRemote *remote, char *line)
{
        g_auto(GStrv) f = g_strsplit(line, " ", 6);
        NetisoRemoteAddr e = { 0 };
        g_autofree char *text = NULL;
        const char *problem;

        if (!f[0] || !f[1] || strlen(f[0]) != 1)
                return "not a journal line";
        if (!netiso_addr_parse(f[1], &e.addr, NULL))
                return "bad address";
        text = netiso_cidr_to_string(&e.addr, /* with_host_prefix */ FALSE);
        if (!g_str_equal(text, f[1]))
                return "address not canonical";
        if (f[0][0] == '-' && !f[2]) {
                netiso_remote_set(remote, &e.addr, NULL);
                return NULL;
        }
        if (f[0][0] != '+' || g_strv_length(f) != 6)
                return "not a journal line";
        e.tenant = f[2];
        e.node = f[3];
        e.uuid = f[4];
        e.name = f[5];
        problem = entry_problem(&e);
        if (problem)
                return problem;
        netiso_remote_set(remote, &e.addr, &e);
        return NULL;
}

NetisoRemote *
netiso_remote_load(const char *state_dir, GPtrArray **ret_problems, GError **error)
{
        g_autofree char *path = journal_path(state_dir);
        g_autoptr(NetisoRemote) remote = netiso_remote_new();
        g_autoptr(GString) data = g_string_new(NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int err = fd < 0 ? errno : netiso_read_bounded(fd, REMOTE_FILE_MAX, FALSE, data);
        guint number = 0;
        char *line, *next;

        if (fd >= 0)
                close(fd);
        if (err == ENOENT)
                return g_steal_pointer(&remote);
        if (err) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot read: %s", path,
                            g_strerror(err));
                return NULL;
        }
        if (!g_str_has_prefix(data->str, HEADER)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE,
                            "%s: not a journal of remote addresses", path);
                return NULL;
        }
        for (line = data->str + strlen(HEADER); *line; line = next) {
                const char *problem;

                next = strchr(line, '\n');
                number++;
                if (!next) {
                        /* A writer killed in the middle of a line. */
                        problem = "torn last line";
                        next = line + strlen(line);
                } else {
                        *next++ = '\0';
                        problem = apply_line(remote, line);
                }
                if (problem && ret_problems) {
                        if (!*ret_problems)
                                *ret_problems = g_ptr_array_new_with_free_func(g_free);
                        g_ptr_array_add(*ret_problems,
                                        g_strdup_printf("%s:%u: %s", path, number + 1, problem));
                }
        }
        remote->lines = number;
        return g_steal_pointer(&remote);
}

static void
append_entry(GString *out, const NetisoCidr *addr, const NetisoRemoteAddr *e)
{
        g_autofree char *text = netiso_cidr_to_string(addr, /* with_host_prefix */ FALSE);

        if (!e) {
                g_string_append_printf(out, "- %s\n", text);
                return;
        }
        /* A name no reader would accept (validated elsewhere) must not cost the address. */
        g_string_append_printf(out, "+ %s %s %s %s %s\n", text, e->tenant, e->node, e->uuid,
                               netiso_domain_name_problem(e->name) ? "?" : e->name);
}

gboolean
netiso_remote_rewrite(NetisoRemote *remote, const char *state_dir, GError **error)
{
        g_autofree char *path = journal_path(state_dir);
        g_autoptr(GString) out = g_string_new(HEADER);
        g_autoptr(GError) local = NULL;
        GPtrArray *all = netiso_remote_list(remote);

        if (!netiso_cluster_ensure_dir(state_dir, error))
                return FALSE;
        for (guint i = 0; i < all->len; i++) {
                const NetisoRemoteAddr *e = g_ptr_array_index(all, i);
                append_entry(out, &e->addr, e);
        }
        /* A temporary file renamed over the journal: readers see the old or
         * the new one. (GLib 2.74 writes in place without truncating when
         * told not to care: a shorter journal kept the old one's tail.) */
        if (!g_file_set_contents_full(path, out->str, (gssize)out->len,
                                      G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s", local->message);
                return FALSE;
        }
        remote->lines = all->len;
        return TRUE;
}

gboolean
netiso_remote_journal(NetisoRemote *remote, const char *state_dir, const GArray *addrs,
                      GError **error)
{
        g_autofree char *path = journal_path(state_dir);
        g_autoptr(GString) out = g_string_new(NULL);
        gssize written;
        int fd;

        if (remote->lines + addrs->len > 2 * netiso_remote_size(remote) + REWRITE_SLACK ||
            !g_file_test(path, G_FILE_TEST_EXISTS))
                return netiso_remote_rewrite(remote, state_dir, error);
        for (guint i = 0; i < addrs->len; i++) {
                const NetisoCidr *addr = &g_array_index(addrs, NetisoCidr, i);
                append_entry(out, addr, netiso_remote_lookup(remote, addr));
        }
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot open: %s", path,
                            g_strerror(errno));
                return FALSE;
        }
        written = write(fd, out->str, out->len);
        if (written != (gssize)out->len) {
                int e = written < 0 ? errno : EIO;
                close(fd);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot append: %s", path,
                            g_strerror(e));
                return FALSE;
        }
        close(fd);
        remote->lines += addrs->len;
        return TRUE;
}
