/* Flow ids: handed out in turn from a counter, never one a record holds,
 * and their links follow the records that hold them. */
#include "autoconfig.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core/flow-ids.h"
#include "core/state.h"
#include "util/error.h"

static NetisoRecord *
record_with_id(const char *domain, const char *tap, guint16 flow_id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *text = g_strdup_printf(
                "[domain]\nname=%s\ntenant=prod\nbackend=nftables\nflow-id=%u\ntaps=%s;\n\n"
                "[port %s]\naddresses=10.0.0.5;\n",
                domain, flow_id, tap, tap);
        NetisoRecord *record = netiso_record_new_from_data("sample", text, strlen(text), &error);

        g_assert_no_error(error);
        return record;
}

static guint16
new_id(const char *dir)
{
        g_autoptr(GError) error = NULL;
        guint16 id = 0;

        g_assert_true(netiso_flow_id_new(dir, &id, &error));
        g_assert_no_error(error);
        return id;
}

static void
set_counter(const char *dir, const char *text)
{
        g_autofree char *path = g_build_filename(dir, "flow-id", NULL);

        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static gboolean
linked(const char *dir, guint16 id)
{
        g_autofree char *path = netiso_state_flow_path(dir, id);

        return g_file_test(path, G_FILE_TEST_IS_SYMLINK);
}

static void
test_in_turn(void)
{
        g_autofree char *dir = g_dir_make_tmp("netiso-flow-XXXXXX", NULL);

        g_assert_true(netiso_state_ensure_dir(dir, NULL));
        g_assert_cmpuint(new_id(dir), ==, 1);
        g_assert_cmpuint(new_id(dir), ==, 2);
        /* Not handed out again before every other id was, held or not. */
        g_assert_cmpuint(new_id(dir), ==, 3);
        set_counter(dir, "65534\n");
        g_assert_cmpuint(new_id(dir), ==, 65535);
        g_assert_cmpuint(new_id(dir), ==, 1);
        /* A damaged counter starts anywhere valid. */
        set_counter(dir, "garbage");
        g_assert_cmpuint(new_id(dir), !=, 0);
}

static void
test_held_ids_skipped(void)
{
        g_autofree char *dir = g_dir_make_tmp("netiso-flow-XXXXXX", NULL);
        g_autoptr(NetisoRecord) a = record_with_id("a", "vnet0", 5);
        g_autoptr(NetisoRecord) b = record_with_id("b", "vnet1", 6);
        g_autoptr(GError) error = NULL;
        g_autofree char *five = netiso_state_flow_path(dir, 5);

        g_assert_true(netiso_state_save(dir, a, &error));
        g_assert_true(netiso_state_save(dir, b, &error));
        set_counter(dir, "4\n");
        g_assert_cmpuint(new_id(dir), ==, 7);
        /* A link whose record holds another id is stale: that id is free. */
        set_counter(dir, "4\n");
        a->flow_id = 9;
        g_assert_true(netiso_state_save(dir, a, &error));
        g_assert_false(linked(dir, 5));
        g_assert_cmpint(symlink("b", five), ==, 0);
        g_assert_cmpuint(new_id(dir), ==, 5);
}

static void
test_links_follow_records(void)
{
        g_autofree char *dir = g_dir_make_tmp("netiso-flow-XXXXXX", NULL);
        g_autoptr(NetisoRecord) a = record_with_id("web", "vnet0", 12);
        g_autoptr(NetisoRecord) legacy = record_with_id("old", "vnet1", 0);
        g_autoptr(GError) error = NULL;

        g_assert_true(netiso_state_save(dir, a, &error));
        g_assert_true(linked(dir, 12));
        /* A new id (a retag): the old link goes. */
        a->flow_id = 13;
        g_assert_true(netiso_state_save(dir, a, &error));
        g_assert_true(linked(dir, 13));
        g_assert_false(linked(dir, 12));
        g_assert_true(netiso_state_remove(dir, "web", &error));
        g_assert_false(linked(dir, 13));
        /* No id, no link. */
        g_assert_true(netiso_state_save(dir, legacy, &error));
        g_assert_false(linked(dir, 0));
        g_assert_no_error(error);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/flow-ids/handed-out-in-turn", test_in_turn);
        g_test_add_func("/flow-ids/held-ids-are-skipped", test_held_ids_skipped);
        g_test_add_func("/flow-ids/links-follow-records", test_links_follow_records);
        return g_test_run();
}
