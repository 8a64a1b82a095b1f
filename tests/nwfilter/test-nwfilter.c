/* nwfilter generator: golden files per configuration, the committed examples,
 * deterministic output, filter order and the refusal of bad input.
 * NETISO_REGENERATE=1 rewrites tests/data/nwfilter/ and xml/nwfilter/. */
#include "autoconfig.h"

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "nwfilter-cases.h"
#include "nwfilter/nwfilter.h"
#include "util/error.h"

static gboolean
regenerate(void)
{
        return g_strcmp0(g_getenv("NETISO_REGENERATE"), "1") == 0;
}

static GPtrArray *
render_case(const char *name)
{
        g_autoptr(NwcaseConfig) config = nwcase_config_new(name);
        g_autoptr(GPtrArray) tenants = nwcase_tenants_new(name);
        g_autoptr(GError) error = NULL;
        GPtrArray *filters;

        g_assert_nonnull(config);
        filters = netiso_nwfilter_render(config, tenants, &error);
        g_assert_no_error(error);
        g_assert_nonnull(filters);
        return filters;
}

static const NetisoNwfilter *
find(const GPtrArray *filters, const char *name)
{
        for (guint i = 0; i < filters->len; i++) {
                const NetisoNwfilter *f = g_ptr_array_index(filters, i);
                if (strcmp(f->name, name) == 0)
                        return f;
        }
        return NULL;
}

static const NetisoNwfilter *
get(const GPtrArray *filters, const char *name)
{
        const NetisoNwfilter *f = find(filters, name);

        if (!f)
                g_error("no filter named %s was rendered", name);
        return f;
}

/* Compare each filter with DIR/PREFIX<name>.xml, or rewrite the files, and
 * make sure no expected file is left over from a filter that is gone. */
static void
compare_with_dir(const GPtrArray *filters, const char *dir, const char *prefix)
{
        g_autoptr(GDir) d = NULL;
        const char *entry;

        if (regenerate())
                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        for (guint i = 0; i < filters->len; i++) {
                const NetisoNwfilter *f = g_ptr_array_index(filters, i);
                g_autofree char *file = g_strconcat(prefix, f->name, ".xml", NULL);
                g_autofree char *path = g_build_filename(dir, file, NULL);
                g_autofree char *expected = NULL;
                g_autoptr(GError) error = NULL;

                if (regenerate()) {
                        g_assert_true(g_file_set_contents(path, f->xml, -1, &error));
                        continue;
                }
                if (!g_file_get_contents(path, &expected, NULL, &error))
                        g_test_message("%s (NETISO_REGENERATE=1 creates it)", error->message);
                g_assert_no_error(error);
                g_assert_cmpstr(f->xml, ==, expected);
        }
        d = g_dir_open(dir, 0, NULL);
        g_assert_nonnull(d);
        while ((entry = g_dir_read_name(d))) {
                g_autofree char *name = NULL;

                if (!g_str_has_prefix(entry, prefix) || !g_str_has_suffix(entry, ".xml"))
                        continue;
                name = g_strndup(entry + strlen(prefix),
                                 strlen(entry) - strlen(prefix) - strlen(".xml"));
                if (regenerate() && !find(filters, name)) {
                        g_autofree char *path = g_build_filename(dir, entry, NULL);
                        g_assert_cmpint(g_unlink(path), ==, 0);
                        continue;
                }
                if (!find(filters, name))
                        g_test_message("stale expected file %s/%s", dir, entry);
                g_assert_nonnull(find(filters, name));
        }
}

static void
test_golden(gconstpointer data)
{
        const char *name = data;
        g_autoptr(GPtrArray) filters = render_case(name);
        g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "data", "nwfilter", NULL);
        g_autofree char *prefix = g_strconcat(name, ".", NULL);

        compare_with_dir(filters, dir, prefix);
}

static void
test_examples_are_current(void)
{
        g_autoptr(GPtrArray) filters = render_case("seed");
        g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "..", "xml", "nwfilter", NULL);

        compare_with_dir(filters, dir, "");
}

static void
test_deterministic(void)
{
        g_autoptr(GPtrArray) a = render_case("ipv6");
        g_autoptr(GPtrArray) b = render_case("ipv6");

        g_assert_cmpuint(a->len, ==, b->len);
        for (guint i = 0; i < a->len; i++) {
                const NetisoNwfilter *fa = g_ptr_array_index(a, i);
                const NetisoNwfilter *fb = g_ptr_array_index(b, i);
                g_assert_cmpstr(fa->name, ==, fb->name);
                g_assert_cmpstr(fa->xml, ==, fb->xml);
        }
}

/* The UUID is part of the contract with libvirt: a redefinition with a
 * different UUID for the same name is refused. */
static void
test_uuid_stable_and_versioned(void)
{
        g_autoptr(GPtrArray) filters = render_case("seed");
        const NetisoNwfilter *base = get(filters, NETISO_NWFILTER_BASE);
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        g_assert_nonnull(strstr(base->xml, "<uuid>e02559d0-9a9b-8091-8c46-206d61c3552e<"));
        for (guint i = 0; i < filters->len; i++) {
                const NetisoNwfilter *f = g_ptr_array_index(filters, i);
                const char *u = strstr(f->xml, "<uuid>");
                g_autofree char *uuid = NULL;

                g_assert_nonnull(u);
                uuid = g_strndup(u + strlen("<uuid>"), 36);
                g_assert_true(g_uuid_string_is_valid(uuid));
                g_assert_cmpint(uuid[14], ==, '8');
                g_assert_true(strchr("89ab", uuid[19]) != NULL);
                g_assert_true(g_hash_table_add(seen, g_steal_pointer(&uuid)));
        }
}

static void
test_order_dependencies_first(void)
{
        g_autoptr(NwcaseConfig) config = nwcase_config_new("ipv6");
        g_autoptr(GPtrArray) tenants = g_ptr_array_new();
        g_autoptr(GPtrArray) filters = NULL;
        g_autoptr(GPtrArray) defaults = NULL;
        static const char *const expected[] = {
                NETISO_NWFILTER_IPV6,
                NETISO_NWFILTER_BASE,
                "blixard-netiso-tenant-b",
                "blixard-netiso-tenant-a",
        };

        g_ptr_array_add(tenants, (gpointer) "b");
        g_ptr_array_add(tenants, (gpointer) "a");
        g_ptr_array_add(tenants, (gpointer) "b");
        filters = netiso_nwfilter_render(config, tenants, NULL);
        g_assert_nonnull(filters);
        g_assert_cmpuint(filters->len, ==, G_N_ELEMENTS(expected));
        for (guint i = 0; i < filters->len; i++)
                g_assert_cmpstr(((NetisoNwfilter *)g_ptr_array_index(filters, i))->name, ==,
                                expected[i]);

        defaults = netiso_nwfilter_render(config, NULL, NULL);
        g_assert_nonnull(defaults);
        g_assert_cmpstr(((NetisoNwfilter *)g_ptr_array_index(defaults, 2))->name, ==,
                        "blixard-netiso-tenant-default");
}

static void
test_tenant_names_refused(void)
{
        static const struct {
                const char *tenant, *message;
        } cases[] = {
                { "", "tenant '' is invalid: must not be empty" },
                { "-prod", "tenant '-prod' is invalid: must start with a letter or digit" },
                { ".prod", "tenant '.prod' is invalid: must start with a letter or digit" },
                { "a/b", "tenant 'a/b' is invalid: only A-Za-z0-9._- allowed" },
                { "a b", "tenant 'a b' is invalid: only A-Za-z0-9._- allowed" },
                { "a'b", "tenant 'a'b' is invalid: only A-Za-z0-9._- allowed" },
                { "a\nb", "tenant 'a\\x0ab' is invalid: only A-Za-z0-9._- allowed" },
                { "caf\xc3\xa9", "tenant 'caf\xc3\xa9' is invalid: non-ASCII character U+00E9 "
                                 "(Unicode look-alikes are refused), only A-Za-z0-9._- allowed" },
                { "a123456789012345678901234567890123456789012345678901234567890123",
                  "tenant 'a123456789012345678901234567890123456789012345678901234567890123'"
                  " is invalid: longer than 63 characters" },
        };
        g_autoptr(NwcaseConfig) config = nwcase_config_new("seed");

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GPtrArray) tenants = g_ptr_array_new();
                g_autoptr(GPtrArray) filters = NULL;
                g_autoptr(GError) error = NULL;

                g_ptr_array_add(tenants, (gpointer) "good");
                g_ptr_array_add(tenants, (gpointer)cases[i].tenant);
                filters = netiso_nwfilter_render(config, tenants, &error);
                g_assert_null(filters);
                g_assert_error(error, NETISO_ERROR, NETISO_ERROR_USAGE);
                g_assert_cmpstr(error->message, ==, cases[i].message);
        }
}

/* Every document parses, and no address attribute holds a CIDR (the
 * schema wants the prefix length in the mask attribute). */
static void
assert_well_formed(const NetisoNwfilter *f)
{
        xmlDocPtr doc = xmlReadMemory(f->xml, strlen(f->xml), f->name, NULL, XML_PARSE_NONET);
        xmlNodePtr root;

        g_assert_nonnull(doc);
        root = xmlDocGetRootElement(doc);
        g_assert_cmpstr((const char *)root->name, ==, "filter");
        for (xmlNodePtr r = root->children; r; r = r->next) {
                if (r->type != XML_ELEMENT_NODE || !xmlStrEqual(r->name, BAD_CAST "rule"))
                        continue;
                for (xmlNodePtr p = r->children; p; p = p->next) {
                        for (xmlAttrPtr a = p->type == XML_ELEMENT_NODE ? p->properties : NULL; a;
                             a = a->next) {
                                g_autofree xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
                                if (strstr((const char *)a->name, "ipaddr"))
                                        g_assert_null(strchr((const char *)v, '/'));
                        }
                }
        }
        xmlFreeDoc(doc);
}

static void
test_well_formed_tricky_tenant(void)
{
        g_autoptr(NwcaseConfig) config = nwcase_config_new("ipv6");
        g_autoptr(GPtrArray) tenants = g_ptr_array_new();
        g_autoptr(GPtrArray) filters = NULL;
        const char *longest = "z12345678901234567890123456789012345678901234567890123456789012";

        g_ptr_array_add(tenants, (gpointer) "a--b");
        g_ptr_array_add(tenants, (gpointer) "0.x_y-");
        g_ptr_array_add(tenants, (gpointer)longest);
        filters = netiso_nwfilter_render(config, tenants, NULL);
        g_assert_nonnull(filters);
        for (guint i = 0; i < filters->len; i++)
                assert_well_formed(g_ptr_array_index(filters, i));
        for (const char *const *n = nwcase_names(); *n; n++) {
                g_autoptr(GPtrArray) more = render_case(*n);
                for (guint i = 0; i < more->len; i++)
                        assert_well_formed(g_ptr_array_index(more, i));
        }
}

/* TENANT_IPS is required exactly when the tenant rules need it: libvirt
 * refuses to start an interface whose filter names an unset variable. */
static void
test_tenant_lists_only_with_tenant_isolation(void)
{
        static const struct {
                const char *name;
                gboolean lists, ipv6;
        } cases[] = {
                { "seed", TRUE, FALSE },
                { "inter-vm", FALSE, FALSE },
                { "open", FALSE, FALSE },
                { "ipv6", TRUE, TRUE },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GPtrArray) filters = render_case(cases[i].name);
                const NetisoNwfilter *last = g_ptr_array_index(filters, filters->len - 1);
                const NetisoNwfilter *base = get(filters, NETISO_NWFILTER_BASE);

                g_assert_true(g_str_has_prefix(last->name, NETISO_NWFILTER_TENANT_PREFIX));
                g_assert_cmpint(strstr(last->xml, "$TENANT_IPS'") != NULL, ==, cases[i].lists);
                g_assert_cmpint(strstr(last->xml, "$TENANT_IPV6S") != NULL, ==,
                                cases[i].lists && cases[i].ipv6);
                g_assert_cmpint(find(filters, NETISO_NWFILTER_IPV6) != NULL, ==, cases[i].ipv6);
                g_assert_null(strstr(base->xml, "TENANT_"));
                g_assert_nonnull(strstr(base->xml, "<filterref filter='clean-traffic'/>"));
        }
}

static void
test_bad_port_refused(void)
{
        g_autoptr(NwcaseConfig) config = nwcase_config_new("seed");
        g_autoptr(GPtrArray) filters = NULL;
        g_autoptr(GError) error = NULL;

        g_array_index(config->allowed_ports, NetisoPort, 1).port = 0;
        filters = netiso_nwfilter_render(config, NULL, &error);
        g_assert_null(filters);
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==,
                        "(test): allowed port 0 (entry 2) is not a valid tcp/udp port 1..65535");
}

static void
test_write_dir(void)
{
        g_autoptr(GPtrArray) filters = render_case("seed");
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = g_dir_make_tmp("nwfilter-test-XXXXXX", &error);
        g_autofree char *dir = NULL;
        g_autofree char *blocker = NULL;
        g_autofree char *below = NULL;

        g_assert_no_error(error);
        dir = g_build_filename(tmp, "a", "b", NULL);
        g_assert_true(netiso_nwfilter_write_dir(filters, dir, &error));
        g_assert_no_error(error);
        for (guint i = 0; i < filters->len; i++) {
                const NetisoNwfilter *f = g_ptr_array_index(filters, i);
                g_autofree char *file = g_strconcat(f->name, ".xml", NULL);
                g_autofree char *path = g_build_filename(dir, file, NULL);
                g_autofree char *contents = NULL;

                g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
                g_assert_cmpstr(contents, ==, f->xml);
                g_assert_cmpint(g_unlink(path), ==, 0);
        }

        /* A directory that cannot be created is an error naming it. */
        blocker = g_build_filename(tmp, "file", NULL);
        g_assert_true(g_file_set_contents(blocker, "", 0, NULL));
        below = g_build_filename(blocker, "sub", NULL);
        g_assert_false(netiso_nwfilter_write_dir(filters, below, &error));
        g_assert_nonnull(error);
        g_assert_true(g_str_has_prefix(error->message, "cannot create directory '"));

        g_assert_cmpint(g_unlink(blocker), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        g_free(dir);
        dir = g_build_filename(tmp, "a", NULL);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (const char *const *n = nwcase_names(); *n; n++) {
                g_autofree char *path = g_strdup_printf("/nwfilter/golden/%s", *n);
                g_test_add_data_func(path, *n, test_golden);
        }
        g_test_add_func("/nwfilter/examples-match-seed-rendering", test_examples_are_current);
        g_test_add_func("/nwfilter/rendering-is-deterministic", test_deterministic);
        g_test_add_func("/nwfilter/uuids-are-name-based-v8-and-distinct",
                        test_uuid_stable_and_versioned);
        g_test_add_func("/nwfilter/dependencies-first-duplicates-once",
                        test_order_dependencies_first);
        g_test_add_func("/nwfilter/bad-tenant-names-refused-with-exact-message",
                        test_tenant_names_refused);
        g_test_add_func("/nwfilter/well-formed-no-cidr-in-address", test_well_formed_tricky_tenant);
        g_test_add_func("/nwfilter/tenant-lists-only-with-tenant-isolation",
                        test_tenant_lists_only_with_tenant_isolation);
        g_test_add_func("/nwfilter/port-0-refused", test_bad_port_refused);
        g_test_add_func("/nwfilter/write-dir-creates-and-reports", test_write_dir);
        return g_test_run();
}
