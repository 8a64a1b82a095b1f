/* nft's JSON listing read back into the renderer's element text. The data
 * are what libnftables 1.0.6 printed for a namespace with three guests in
 * two tenants (tests/data/nft/), one drop counter raised by hand. */
#include "autoconfig.h"

#include <string.h>

#include "nft/nft-listing.h"
#include "util/error.h"

static char *
read_data(const char *name)
{
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "nft", name, NULL);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, &error));
        g_assert_no_error(error);
        return text;
}

static void
test_elements(void)
{
        g_autofree char *text = read_data("table.json");
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoNftListing) l = netiso_nft_listing_parse(text, &error);
        static const char *const present[][2] = {
                { "guest_ifs", "\"vnet10000\"" },
                { "guest_drops", "\"vnet10002\"" },
                { "guest_src_v4", "\"vnet10000\" . 10.0.10.1" },
                { "guest_src_v6", "\"vnet10002\" . fd00:10::2:2" },
                { "addr_owner_v4", "10.0.10.2 : \"vnet10001\"" },
                { "addr_owner_v6", "fd00:10::2:0 : \"vnet10000\"" },
                { "guest_tenant", "\"vnet10001\" : jump tenant-t1" },
                { "tenant-t0-ifs", "\"vnet10002\"" },
                { "ports_out", "tcp . 53" },
                { "cluster_v4", "169.254.0.0/16" },
        };

        g_assert_no_error(error);
        g_assert_nonnull(l);
        for (gsize i = 0; i < G_N_ELEMENTS(present); i++)
                g_assert_true(netiso_nft_listing_has_element(l, present[i][0], present[i][1]));
        g_assert_false(netiso_nft_listing_has_element(l, "tenant-t1-ifs", "\"vnet10002\""));
        g_assert_false(netiso_nft_listing_has_element(l, "guest_ifs", "vnet10000"));
        g_assert_false(netiso_nft_listing_has_element(l, "no_such_set", "\"vnet10000\""));
        g_assert_cmpuint(((GPtrArray *)g_hash_table_lookup(l->sets, "guest_tenant"))->len, ==, 3);
}

static void
test_counters_and_chains(void)
{
        g_autofree char *text = read_data("table.json");
        g_autoptr(NetisoNftListing) l = netiso_nft_listing_parse(text, NULL);
        const NetisoNftCounter *c = g_hash_table_lookup(l->counters, "\"vnet10001\"");
        guint rules = 99;

        g_assert_nonnull(c);
        g_assert_cmpuint(c->packets, ==, 7);
        g_assert_cmpuint(c->bytes, ==, 588);
        g_assert_cmpuint(g_hash_table_size(l->counters), ==, 3);
        g_assert_true(netiso_nft_listing_chain_rules(l, "forward", &rules));
        g_assert_cmpuint(rules, ==, 8);
        g_assert_true(netiso_nft_listing_chain_rules(l, "tenant-t0", &rules));
        g_assert_cmpuint(rules, ==, 1);
        g_assert_true(netiso_nft_listing_chain_rules(l, "from_guest", &rules));
        g_assert_cmpuint(rules, ==, 13);
        g_assert_false(netiso_nft_listing_chain_rules(l, "tenant-t9", &rules));
}

static void
test_foreign_drop_chains(void)
{
        g_autofree char *text = read_data("chains.json");
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) found = netiso_nft_foreign_drop_chains(text, "blixard", &error);

        g_assert_no_error(error);
        g_assert_cmpuint(found->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(found, 0), ==, "ip other fw (hook forward, policy drop)");
}

/* Capture mode lists nothing; what is not nft's JSON is an error, one line. */
static void
test_empty_and_broken(void)
{
        static const char *const broken[] = { "table inet blixard {", "[1, 2]", "{\"x\": 1}" };
        g_autoptr(NetisoNftListing) empty = netiso_nft_listing_parse("", NULL);

        g_assert_cmpuint(g_hash_table_size(empty->sets), ==, 0);
        g_assert_cmpuint(g_hash_table_size(empty->chains), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(broken); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(NetisoNftListing) l = netiso_nft_listing_parse(broken[i], &error);

                g_assert_null(l);
                g_assert_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL);
                g_assert_true(g_str_has_prefix(error->message, "nftables: "));
                g_assert_null(strchr(error->message, '\n'));
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/nft-listing/elements-as-rendered", test_elements);
        g_test_add_func("/nft-listing/counters-and-rule-counts", test_counters_and_chains);
        g_test_add_func("/nft-listing/foreign-drop-chains", test_foreign_drop_chains);
        g_test_add_func("/nft-listing/empty-and-broken", test_empty_and_broken);
        return g_test_run();
}
