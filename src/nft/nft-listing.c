/* Reads libnftables' JSON listing (schema 1, nftables 1.0.6) with json-glib
 * into the element text the renderer writes, so that drift is a comparison
 * of strings. Objects and members it does not know are left alone. */
#include "autoconfig.h"

#include <json-glib/json-glib.h>

#include "nft/nft-listing.h"
#include "util/error.h"

void
netiso_nft_listing_free(NetisoNftListing *listing)
{
        if (!listing)
                return;
        g_hash_table_unref(listing->sets);
        g_hash_table_unref(listing->counters);
        g_hash_table_unref(listing->chains);
        g_hash_table_unref(listing->named_counters);
        g_free(listing);
}

static const char *
member_string(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                       ? json_node_get_string(n)
                       : NULL;
}

static JsonObject *
member_object(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
member_array(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *
object_at(JsonArray *a, guint i)
{
        JsonNode *n = json_array_get_element(a, i);

        return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* The datatype of position i of a set's "type" (a name, or an array of
 * names for a concatenation). */
static const char *
type_at(JsonNode *type, guint i)
{
        JsonNode *n = type;

        if (type && JSON_NODE_HOLDS_ARRAY(type)) {
                JsonArray *a = json_node_get_array(type);
                n = i < json_array_get_length(a) ? json_array_get_element(a, i) : NULL;
        } else if (i > 0) {
                return NULL;
        }
        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                       ? json_node_get_string(n)
                       : NULL;
}

/* One value as nft's own syntax writes it: interface names quoted,
 * verdicts as "jump CHAIN", prefixes and ranges as ADDR/LEN and A-B. */
static void
append_value(GString *out, JsonNode *value, JsonNode *type, guint position)
{
        if (JSON_NODE_HOLDS_VALUE(value)) {
                const char *t = type_at(type, position);

                if (json_node_get_value_type(value) == G_TYPE_STRING) {
                        gboolean quote = t && g_str_equal(t, "ifname");
                        g_string_append_printf(out, quote ? "\"%s\"" : "%s",
                                               json_node_get_string(value));
                } else {
                        g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(value));
                }
        } else if (JSON_NODE_HOLDS_OBJECT(value)) {
                JsonObject *o = json_node_get_object(value);
                JsonArray *concat = member_array(o, "concat");
                JsonObject *prefix = member_object(o, "prefix");
                JsonArray *range = member_array(o, "range");

                if (concat) {
                        for (guint i = 0; i < json_array_get_length(concat); i++) {
                                if (i)
                                        g_string_append(out, " . ");
                                append_value(out, json_array_get_element(concat, i), type, i);
                        }
                } else if (prefix && member_string(prefix, "addr")) {
                        g_string_append_printf(
                                out, "%s/%" G_GINT64_FORMAT, member_string(prefix, "addr"),
                                json_object_get_int_member_with_default(prefix, "len", 0));
                } else if (range && json_array_get_length(range) == 2) {
                        append_value(out, json_array_get_element(range, 0), type, position);
                        g_string_append_c(out, '-');
                        append_value(out, json_array_get_element(range, 1), type, position);
                } else if (json_object_get_size(o) == 1) {
                        /* A verdict: {"jump": {"target": "x"}}, {"accept": null}. */
                        g_autoptr(GList) names = json_object_get_members(o);
                        const char *verdict = names->data;
                        const char *target = member_string(member_object(o, verdict), "target");

                        g_string_append(out, verdict);
                        if (target)
                                g_string_append_printf(out, " %s", target);
                }
        }
}

static NetisoNftCounter *
counter_new(JsonObject *o)
{
        NetisoNftCounter *c = g_new0(NetisoNftCounter, 1);

        c->packets = (guint64)json_object_get_int_member_with_default(o, "packets", 0);
        c->bytes = (guint64)json_object_get_int_member_with_default(o, "bytes", 0);
        return c;
}

/* An element of "elem": a value, [key, data] in a map, or
 * {"elem": {"val": ..., "counter": {...}}} when it carries a counter. */
static void
add_element(NetisoNftListing *listing, GPtrArray *elements, JsonNode *node, JsonNode *type,
            JsonNode *map_type)
{
        g_autoptr(GString) text = g_string_new(NULL);
        JsonObject *wrapped = JSON_NODE_HOLDS_OBJECT(node)
                                      ? member_object(json_node_get_object(node), "elem")
                                      : NULL;
        JsonObject *counter = member_object(wrapped, "counter");

        if (wrapped)
                node = json_object_get_member(wrapped, "val");
        if (!node)
                return;
        if (JSON_NODE_HOLDS_ARRAY(node) && json_array_get_length(json_node_get_array(node)) == 2) {
                JsonArray *pair = json_node_get_array(node);

                append_value(text, json_array_get_element(pair, 0), type, 0);
                g_string_append(text, " : ");
                append_value(text, json_array_get_element(pair, 1), map_type, 0);
        } else {
                append_value(text, node, type, 0);
        }
        if (counter)
                g_hash_table_replace(listing->counters, g_strdup(text->str), counter_new(counter));
        g_ptr_array_add(elements, g_string_free(g_steal_pointer(&text), /* free_segment */ FALSE));
}

static void
add_set(NetisoNftListing *listing, JsonObject *set)
{
        const char *name = member_string(set, "name");
        JsonArray *elem = member_array(set, "elem");
        GPtrArray *elements;

        if (!name)
                return;
        elements = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_replace(listing->sets, g_strdup(name), elements);
        for (guint i = 0; elem && i < json_array_get_length(elem); i++)
                add_element(listing, elements, json_array_get_element(elem, i),
                            json_object_get_member(set, "type"),
                            json_object_get_member(set, "map"));
}

static void
count_rule(NetisoNftListing *listing, const char *chain, gboolean is_rule)
{
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(listing->chains, chain));

        g_hash_table_replace(listing->chains, g_strdup(chain), GUINT_TO_POINTER(n + is_rule));
}

/* The objects of {"nftables": [{"table": ...}, {"set": ...}, ...]}. */
static JsonArray *
objects(JsonParser *parser, const char *text, GError **error)
{
        g_autoptr(GError) local = NULL;
        JsonNode *root;
        JsonArray *array;

        if (!json_parser_load_from_data(parser, text, -1, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "nftables: cannot read its JSON listing: %s", local->message);
                return NULL;
        }
        root = json_parser_get_root(parser);
        array = root && JSON_NODE_HOLDS_OBJECT(root)
                        ? member_array(json_node_get_object(root), "nftables")
                        : NULL;
        if (!array)
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "nftables: its JSON listing has no \"nftables\" array");
        return array;
}

NetisoNftListing *
netiso_nft_listing_parse(const char *text, GError **error)
{
        g_autoptr(NetisoNftListing) listing = g_new0(NetisoNftListing, 1);
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonArray *array;

        listing->sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify)g_ptr_array_unref);
        listing->counters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        listing->chains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        listing->named_counters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        if (!text || !*text)
                return g_steal_pointer(&listing);
        array = objects(parser, text, error);
        if (!array)
                return NULL;
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonObject *o = object_at(array, i);
                JsonObject *set = member_object(o, "set");
                JsonObject *chain = member_object(o, "chain");
                JsonObject *rule = member_object(o, "rule");
                JsonObject *counter = member_object(o, "counter");

                if (!set)
                        set = member_object(o, "map");
                if (set)
                        add_set(listing, set);
                else if (chain && member_string(chain, "name"))
                        count_rule(listing, member_string(chain, "name"), /* is_rule */ FALSE);
                else if (rule && member_string(rule, "chain"))
                        count_rule(listing, member_string(rule, "chain"), /* is_rule */ TRUE);
                else if (counter && member_string(counter, "name"))
                        g_hash_table_replace(listing->named_counters,
                                             g_strdup(member_string(counter, "name")),
                                             counter_new(counter));
        }
        return g_steal_pointer(&listing);
}

gboolean
netiso_nft_listing_has_element(const NetisoNftListing *listing, const char *set,
                               const char *element)
{
        GPtrArray *elements = g_hash_table_lookup(listing->sets, set);

        for (guint i = 0; elements && i < elements->len; i++)
                if (g_str_equal(g_ptr_array_index(elements, i), element))
                        return TRUE;
        return FALSE;
}

gboolean
netiso_nft_listing_chain_rules(const NetisoNftListing *listing, const char *chain, guint *ret_count)
{
        gpointer count;

        if (!g_hash_table_lookup_extended(listing->chains, chain, NULL, &count))
                return FALSE;
        *ret_count = GPOINTER_TO_UINT(count);
        return TRUE;
}

GPtrArray *
netiso_nft_foreign_drop_chains(const char *text, const char *our_table, GError **error)
{
        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonArray *array;

        if (!text || !*text)
                return g_steal_pointer(&found);
        array = objects(parser, text, error);
        if (!array)
                return NULL;
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonObject *c = member_object(object_at(array, i), "chain");
                const char *family = member_string(c, "family");
                const char *table = member_string(c, "table");
                const char *name = member_string(c, "name");
                const char *hook = member_string(c, "hook");
                const char *policy = member_string(c, "policy");

                if (!family || !table || !name || !hook || !policy || !g_str_equal(policy, "drop"))
                        continue;
                if ((g_str_equal(family, "inet") || g_str_equal(family, "bridge")) &&
                    g_str_equal(table, our_table))
                        continue;
                if (!g_str_equal(hook, "forward") && !g_str_equal(hook, "input") &&
                    !g_str_equal(hook, "output"))
                        continue;
                g_ptr_array_add(found, g_strdup_printf("%s %s %s (hook %s, policy drop)", family,
                                                       table, name, hook));
        }
        return g_steal_pointer(&found);
}
