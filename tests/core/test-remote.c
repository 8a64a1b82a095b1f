/* The journal of other hosts' guests installed here (core/remote.h): what
 * is written is read back, removals and replacements win, a torn or hostile
 * line is left out and reported, and the file stays bounded however many
 * changes it saw. */
#include "autoconfig.h"

#include <glib/gstdio.h>
#include <string.h>

#include "core/remote.h"
#include "util/error.h"

#define UUID "11111111-2222-4333-8444-555555555555"

static char *
temp_state_dir(void)
{
        g_autoptr(GError) error = NULL;
        char *dir = g_dir_make_tmp("test-remote-XXXXXX", &error);

        g_assert_no_error(error);
        return dir;
}

static void
remove_tree(const char *dir)
{
        g_autofree char *journal = g_build_filename(dir, "cluster", "remote", NULL);
        g_autofree char *cluster = g_build_filename(dir, "cluster", NULL);

        g_unlink(journal);
        g_rmdir(cluster);
        g_rmdir(dir);
}

static NetisoCidr
addr(const char *text)
{
        NetisoCidr c;

        g_assert_true(netiso_addr_parse(text, &c, NULL));
        return c;
}

static void
put(NetisoRemote *r, GArray *changed, const char *address, const char *tenant, const char *name)
{
        NetisoCidr a = addr(address);
        NetisoRemoteAddr e = { .tenant = (char *)tenant,
                               .node = (char *)"hv-2",
                               .uuid = (char *)UUID,
                               .name = (char *)name };

        netiso_remote_set(r, &a, tenant ? &e : NULL);
        g_array_append_val(changed, a);
}

static char *
journal_text(const char *dir)
{
        g_autofree char *path = g_build_filename(dir, "cluster", "remote", NULL);
        char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        return text;
}

static void
test_round_trip(void)
{
        g_autofree char *dir = temp_state_dir();
        g_autoptr(NetisoRemote) r = netiso_remote_new();
        g_autoptr(NetisoRemote) empty = NULL;
        g_autoptr(NetisoRemote) back = NULL;
        g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) problems = NULL;
        NetisoCidr a = addr("10.0.2.1"), b = addr("fd00:10::2:1");
        const NetisoRemoteAddr *e;

        empty = netiso_remote_load(dir, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(netiso_remote_size(empty), ==, 0);
        put(r, changed, "10.0.2.1", "A", "web 1 (old)");
        put(r, changed, "fd00:10::2:1", "A", "web1");
        put(r, changed, "10.0.2.2", "B", "db");
        g_assert_true(netiso_remote_journal(r, dir, changed, &error));
        g_array_set_size(changed, 0);
        put(r, changed, "10.0.2.1", "B", "web 1");
        put(r, changed, "10.0.2.2", NULL, NULL);
        g_assert_true(netiso_remote_journal(r, dir, changed, &error));
        back = netiso_remote_load(dir, &problems, &error);
        g_assert_no_error(error);
        g_assert_null(problems);
        g_assert_cmpuint(netiso_remote_size(back), ==, 2);
        e = netiso_remote_lookup(back, &a);
        g_assert_cmpstr(e->tenant, ==, "B");
        g_assert_cmpstr(e->name, ==, "web 1");
        g_assert_cmpstr(e->node, ==, "hv-2");
        g_assert_cmpstr(e->uuid, ==, UUID);
        g_assert_cmpstr(netiso_remote_lookup(back, &b)->tenant, ==, "A");
        g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(netiso_remote_tenants(back), "A")),
                         ==, 1);
        g_assert_false(g_hash_table_contains(netiso_remote_tenants(back), "db"));
        g_assert_cmpuint(netiso_remote_list(back)->len, ==, 2);
        remove_tree(dir);
}

/* One appended line per change; rewritten whole when mostly history. */
static void
test_bounded(void)
{
        g_autofree char *dir = temp_state_dir();
        g_autoptr(NetisoRemote) r = netiso_remote_new();
        g_autoptr(NetisoRemote) back = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        guint lines = 0;

        for (guint i = 0; i < 5000; i++) {
                g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
                g_autofree char *a = g_strdup_printf("10.0.%u.%u", 1 + i % 3, 1 + i % 7);
                put(r, changed, a, i % 2 ? "A" : "B", "g");
                g_assert_true(netiso_remote_journal(r, dir, changed, &error));
        }
        text = journal_text(dir);
        for (const char *p = text; (p = strchr(p, '\n')); p++)
                lines++;
        g_assert_cmpuint(lines, <=, 2 * 21 + 1024 + 2);
        back = netiso_remote_load(dir, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(netiso_remote_size(back), ==, netiso_remote_size(r));
        remove_tree(dir);
}

static void
test_hostile_lines(void)
{
        static const char text[] = "blixard-netiso remote 1\n"
                                   "+ 10.0.2.1 A hv-2 " UUID " good one\n"
                                   "+ 10.0.2.2 A;drop hv-2 " UUID " bad tenant\n"
                                   "+ 10.0.2.3 A hv/2 " UUID " bad node\n"
                                   "+ 10.0.2.4 A hv-2 NOT-A-UUID bad uuid\n"
                                   "+ 10.0.2.0/24 A hv-2 " UUID " a network\n"
                                   "+ 010.0.2.5 A hv-2 " UUID " not canonical\n"
                                   "+ 224.0.0.1 A hv-2 " UUID " multicast\n"
                                   "+ 10.0.2.6 A hv-2 " UUID " a/b\n"
                                   "* 10.0.2.7\n"
                                   "- 10.0.2.1 extra\n"
                                   "+ 10.0.2.8 A hv-2 " UUID " torn";
        g_autofree char *dir = temp_state_dir();
        g_autofree char *cluster = g_build_filename(dir, "cluster", NULL);
        g_autofree char *path = g_build_filename(cluster, "remote", NULL);
        g_autoptr(NetisoRemote) back = NULL;
        g_autoptr(GPtrArray) problems = NULL;
        g_autoptr(GError) error = NULL;
        NetisoCidr good = addr("10.0.2.1");

        g_assert_cmpint(g_mkdir_with_parents(cluster, 0700), ==, 0);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        back = netiso_remote_load(dir, &problems, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(netiso_remote_size(back), ==, 1);
        g_assert_cmpstr(netiso_remote_lookup(back, &good)->name, ==, "good one");
        g_assert_cmpuint(problems->len, ==, 10);
        g_assert_nonnull(strstr(g_ptr_array_index(problems, 0), "remote:3: bad tenant"));
        g_assert_nonnull(strstr(g_ptr_array_index(problems, 9), "remote:12: torn last line"));
        g_assert_true(g_file_set_contents(path, "not a journal\n", -1, NULL));
        g_clear_pointer(&back, netiso_remote_free);
        back = netiso_remote_load(dir, NULL, &error);
        g_assert_null(back);
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_STATE);
        g_assert_nonnull(strstr(error->message, "not a journal of remote addresses"));
        remove_tree(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/remote/journal-round-trip", test_round_trip);
        g_test_add_func("/remote/journal-stays-bounded", test_bounded);
        g_test_add_func("/remote/hostile-lines-left-out", test_hostile_lines);
        return g_test_run();
}
