/* A small reader for nft's own listing format: enough structure to tell
 * which elements and rules exist, without a JSON library. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft/nft-listing.h"

void
netiso_nft_listing_free(NetisoNftListing *listing)
{
        if (!listing)
                return;
        g_hash_table_unref(listing->sets);
        g_hash_table_unref(listing->counters);
        g_hash_table_unref(listing->chains);
        g_free(listing);
}

/* "\"vnet0\" counter packets 2 bytes 168" -> element "\"vnet0\"", counter "2 168" */
static void
add_element(NetisoNftListing *listing, GPtrArray *elements, const char *raw)
{
        g_autofree char *text = g_strstrip(g_strdup(raw));
        char *counter = strstr(text, " counter packets ");

        if (!*text)
                return;
        if (counter) {
                guint64 packets = 0, bytes = 0;
                char *bytes_at = strstr(counter, " bytes ");
                packets = g_ascii_strtoull(counter + strlen(" counter packets "), NULL, 10);
                if (bytes_at)
                        bytes = g_ascii_strtoull(bytes_at + strlen(" bytes "), NULL, 10);
                *counter = '\0';
                g_hash_table_replace(listing->counters, g_strdup(text),
                                     g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                                     packets, bytes));
        }
        g_ptr_array_add(elements, g_strdup(text));
}

static void
parse_elements(NetisoNftListing *listing, GPtrArray *elements, const char *body)
{
        g_auto(GStrv) parts = g_strsplit(body, ",", -1);

        for (guint i = 0; parts[i]; i++)
                add_element(listing, elements, parts[i]);
}

static GPtrArray *
new_list(void)
{
        return g_ptr_array_new_with_free_func(g_free);
}

NetisoNftListing *
netiso_nft_listing_parse(const char *text)
{
        NetisoNftListing *listing = g_new0(NetisoNftListing, 1);
        g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
        GPtrArray *current_set = NULL, *current_chain = NULL;
        g_autoptr(GString) pending = NULL; /* an elements = { ... } spanning lines */

        listing->sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify)g_ptr_array_unref);
        listing->counters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        listing->chains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify)g_ptr_array_unref);
        for (guint i = 0; lines[i]; i++) {
                char *line = g_strstrip(lines[i]);
                char name[257];

                if (pending) {
                        char *end = strchr(line, '}');
                        if (end)
                                *end = '\0';
                        g_string_append_printf(pending, ",%s", line);
                        if (end) {
                                parse_elements(listing, current_set, pending->str);
                                g_string_free(g_steal_pointer(&pending), TRUE);
                        }
                        continue;
                }
                if (sscanf(line, "set %256s {", name) == 1 ||
                    sscanf(line, "map %256s {", name) == 1) {
                        current_set = new_list();
                        current_chain = NULL;
                        g_hash_table_replace(listing->sets, g_strdup(name), current_set);
                } else if (sscanf(line, "chain %256s {", name) == 1) {
                        current_chain = new_list();
                        current_set = NULL;
                        g_hash_table_replace(listing->chains, g_strdup(name), current_chain);
                } else if (g_str_equal(line, "}")) {
                        current_set = current_chain = NULL;
                } else if (current_set && g_str_has_prefix(line, "elements = {")) {
                        char *body = line + strlen("elements = {");
                        char *end = strchr(body, '}');
                        if (end) {
                                *end = '\0';
                                parse_elements(listing, current_set, body);
                        } else {
                                pending = g_string_new(body);
                        }
                } else if (current_chain && *line && !g_str_has_prefix(line, "type ") &&
                           !g_str_has_prefix(line, "policy ") && !g_str_has_prefix(line, "#")) {
                        g_ptr_array_add(current_chain, g_strdup(line));
                }
        }
        return listing;
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

GPtrArray *
netiso_nft_foreign_drop_chains(const char *text, const char *our_table)
{
        g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
        GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
        char family[32] = "", table[257] = "", chain[257] = "";

        for (guint i = 0; lines[i]; i++) {
                char *line = g_strstrip(lines[i]);
                char hook[32];

                if (sscanf(line, "table %31s %256s {", family, table) == 2)
                        continue;
                if (sscanf(line, "chain %256s {", chain) == 1)
                        continue;
                if (sscanf(line, "type %*s hook %31s", hook) != 1 || !strstr(line, "policy drop"))
                        continue;
                if (g_str_equal(table, our_table) && g_str_equal(family, "inet"))
                        continue;
                if (!g_str_equal(hook, "forward") && !g_str_equal(hook, "input") &&
                    !g_str_equal(hook, "output"))
                        continue;
                g_ptr_array_add(found, g_strdup_printf("%s %s %s (hook %s, policy drop)", family,
                                                       table, chain, hook));
        }
        return found;
}
