/* iptables-restore input for one event of the iptables backend: the trie
 * nodes and tenant chains that differ between the records before and after
 * it, strictly (-N, -D), with the shared chains rewritten. */
#include "autoconfig.h"

#include <string.h>

#include "ipt/ipt-render.h"

/* Sections of a delta batch, in the order they must run: create chains
 * before rules jump to them, delete chains after nothing refers to them. */
typedef struct {
        GString *create;
        GString *remove;
        GString *add;
        GString *flush;
        GString *destroy;
} Delta;

static void
lines_to(GString *out, const char *verb, const char *chain, const char *item)
{
        g_auto(GStrv) lines = g_strsplit(item, "\n", -1);

        for (guint i = 0; lines[i]; i++)
                g_string_append_printf(out, "%s %s %s\n", verb, chain, lines[i]);
}

static gboolean
has_item(const GPtrArray *items, const NetisoIptItem *item)
{
        for (guint i = 0; items && i < items->len; i++)
                if (g_str_equal(((NetisoIptItem *)g_ptr_array_index(items, i))->rules, item->rules))
                        return TRUE;
        return FALSE;
}

static gboolean
leads_to_any(const NetisoIptItem *item, const GPtrArray *taps)
{
        for (guint i = 0; taps && i < taps->len; i++)
                if (netiso_ipt_item_leads_to(item, g_ptr_array_index(taps, i)))
                        return TRUE;
        return FALSE;
}

/* A changed item is removed whole and appended whole, so a leaf's rules
 * stay together and in order. Items of other taps are left alone, and so
 * are their counters. Items on the way to a verified tap are deleted and
 * appended again even when unchanged: the strict delete fails if someone
 * removed them, and the rebuild that follows repairs everything. */
static void
diff_node(Delta *d, const char *chain, const GPtrArray *before, const GPtrArray *after,
          const GPtrArray *verify)
{
        if (!before && !after)
                return;
        if (!after) {
                g_string_append_printf(d->flush, "-F %s\n", chain);
                g_string_append_printf(d->destroy, "-X %s\n", chain);
                return;
        }
        if (!before)
                g_string_append_printf(d->create, "-N %s\n", chain);
        for (guint i = 0; before && i < before->len; i++) {
                const NetisoIptItem *item = g_ptr_array_index(before, i);
                if (!has_item(after, item) || leads_to_any(item, verify))
                        lines_to(d->remove, "-D", chain, item->rules);
        }
        for (guint i = 0; i < after->len; i++) {
                const NetisoIptItem *item = g_ptr_array_index(after, i);
                if (!has_item(before, item) || leads_to_any(item, verify))
                        lines_to(d->add, "-A", chain, item->rules);
        }
}

/* Every prefix of a changed tap, the empty one included: only those nodes
 * can change when the tap comes or goes. */
static void
add_prefixes(GPtrArray *prefixes, GHashTable *seen, const char *tap)
{
        for (gsize n = 0; n <= strlen(tap); n++) {
                char *p = g_strndup(tap, n);

                if (g_hash_table_contains(seen, p)) {
                        g_free(p);
                        continue;
                }
                g_hash_table_add(seen, p);
                g_ptr_array_add(prefixes, p);
        }
}

/* A link that comes or goes means its child node is created or destroyed,
 * even when no changed tap is under it (a node's shape depends on all of its
 * taps): follow such links, so the child is diffed too. */
static void
follow_new_links(GPtrArray *work, GHashTable *seen, const GPtrArray *items, const GPtrArray *other)
{
        for (guint i = 0; items && i < items->len; i++) {
                const NetisoIptItem *item = g_ptr_array_index(items, i);

                if (!item->link || has_item(other, item) || g_hash_table_contains(seen, item->name))
                        continue;
                g_hash_table_add(seen, g_strdup(item->name));
                g_ptr_array_add(work, g_strdup(item->name));
        }
}

static void
diff_trie(Delta *d, const NetisoIptSet *before, const NetisoIptSet *after, NetisoIptTrie trie,
          const char *id, const GPtrArray *prefixes, const GPtrArray *verify, NetisoFamily family)
{
        g_autoptr(GPtrArray) work = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; i < prefixes->len; i++) {
                const char *prefix = g_ptr_array_index(prefixes, i);

                if (g_hash_table_contains(seen, prefix))
                        continue;
                g_hash_table_add(seen, g_strdup(prefix));
                g_ptr_array_add(work, g_strdup(prefix));
        }
        for (guint i = 0; i < work->len; i++) {
                const char *prefix = g_ptr_array_index(work, i);
                g_autoptr(GPtrArray) b = netiso_ipt_node_items(before, trie, prefix, family);
                g_autoptr(GPtrArray) a = netiso_ipt_node_items(after, trie, prefix, family);
                g_autofree char *chain = netiso_ipt_node_chain(trie, id, prefix);

                diff_node(d, chain, b, a, verify);
                follow_new_links(work, seen, a, b);
                follow_new_links(work, seen, b, a);
        }
}

static void
diff_tenant(Delta *d, const NetisoIptSet *before, const NetisoIptSet *after, const char *id,
            const GPtrArray *changed, const GPtrArray *verify, NetisoFamily family)
{
        g_autoptr(NetisoIptSet) b = netiso_ipt_set_tenant(before, id);
        g_autoptr(NetisoIptSet) a = netiso_ipt_set_tenant(after, id);
        g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autofree char *head = netiso_ipt_tenant_head(id);
        g_autoptr(GPtrArray) rules = NULL;
        gboolean verified = FALSE;

        for (guint i = 0; i < changed->len; i++) {
                const char *tap = g_ptr_array_index(changed, i);
                if (netiso_ipt_set_lookup(b, tap) || netiso_ipt_set_lookup(a, tap))
                        add_prefixes(prefixes, seen, tap);
        }
        for (guint i = 0; verify && i < verify->len; i++) {
                const char *tap = g_ptr_array_index(verify, i);
                if (netiso_ipt_set_lookup(a, tap)) {
                        add_prefixes(prefixes, seen, tap);
                        verified = TRUE;
                }
        }
        if (a->ports->len > 0)
                rules = netiso_ipt_tenant_head_rules(g_ptr_array_index(a->ports, 0));
        if (b->ports->len == 0 && a->ports->len > 0) {
                g_string_append_printf(d->create, "-N %s\n", head);
        } else if (b->ports->len > 0 && a->ports->len == 0) {
                g_string_append_printf(d->flush, "-F %s\n", head);
                g_string_append_printf(d->destroy, "-X %s\n", head);
        } else if (verified) {
                for (guint k = 0; k < rules->len; k++)
                        lines_to(d->remove, "-D", head, g_ptr_array_index(rules, k));
        }
        for (guint k = 0; a->ports->len > 0 && (b->ports->len == 0 || verified) && k < rules->len;
             k++)
                lines_to(d->add, "-A", head, g_ptr_array_index(rules, k));
        diff_trie(d, b, a, NETISO_IPT_TRIE_TENANT, id, prefixes, verify, family);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Taps whose rules differ between before and after, sorted; their tenants
 * in ret_ids. */
static GPtrArray *
changed_taps(const NetisoIptSet *before, const NetisoIptSet *after, GPtrArray *ret_ids)
{
        GPtrArray *changed = g_ptr_array_new_with_free_func(g_free);
        const NetisoIptSet *sets[] = { before, after };

        for (gsize s = 0; s < G_N_ELEMENTS(sets); s++) {
                for (guint i = 0; i < sets[s]->ports->len; i++) {
                        const NetisoIptPort *p = g_ptr_array_index(sets[s]->ports, i);
                        const NetisoIptPort *q = netiso_ipt_set_lookup(sets[1 - s], p->tap);

                        if (q && netiso_ipt_port_equal(p, q))
                                continue;
                        if (!g_ptr_array_find_with_equal_func(changed, p->tap, g_str_equal, NULL))
                                g_ptr_array_add(changed, g_strdup(p->tap));
                        if (!g_ptr_array_find_with_equal_func(ret_ids, p->tenant_id, g_str_equal,
                                                              NULL))
                                g_ptr_array_add(ret_ids, g_strdup(p->tenant_id));
                }
        }
        g_ptr_array_sort(changed, compare_strings);
        g_ptr_array_sort(ret_ids, compare_strings);
        return changed;
}

static void
delta_free(Delta *d)
{
        g_string_free(d->create, /* free_segment */ TRUE);
        g_string_free(d->remove, /* free_segment */ TRUE);
        g_string_free(d->add, /* free_segment */ TRUE);
        g_string_free(d->flush, /* free_segment */ TRUE);
        g_string_free(d->destroy, /* free_segment */ TRUE);
}

/* One table's section of an event's batch. */
static void
table_event(GString *out, const NetisoConfig *config, const NetisoIptSet *before,
            const NetisoIptSet *after, const GPtrArray *verify, NetisoFamily family,
            gboolean move_hooks, NetisoIptTable table, const GPtrArray *changed,
            const GPtrArray *prefixes, const GPtrArray *ids)
{
        g_autoptr(NetisoIptRuleset) shared = netiso_ipt_render_shared(config, family, table);
        g_autoptr(NetisoIptSet) before_dm = netiso_ipt_unpatterned(config, before);
        g_autoptr(NetisoIptSet) after_dm = netiso_ipt_unpatterned(config, after);
        Delta d = { g_string_new(NULL), g_string_new(NULL), g_string_new(NULL), g_string_new(NULL),
                    g_string_new(NULL) };

        for (int t = 0; t < NETISO_IPT_TRIE_TENANT; t++) {
                if (netiso_ipt_trie_table(t) != table)
                        continue;
                if (t == NETISO_IPT_TRIE_BLOCK_TO)
                        diff_trie(&d, before_dm, after_dm, t, NULL, prefixes, verify, family);
                else
                        diff_trie(&d, before, after, t, NULL, prefixes, verify, family);
        }
        for (guint i = 0; table == NETISO_IPT_TABLE_FILTER && i < ids->len; i++)
                diff_tenant(&d, before, after, g_ptr_array_index(ids, i), changed, verify, family);

        g_string_append_printf(out, "*%s\n", netiso_ipt_table_name(table));
        /* Declaring a chain with --noflush empties it (or creates it): the
         * shared chains are rewritten whole, within the same transaction. */
        netiso_ipt_ruleset_write_chains(out, shared);
        g_string_append(out, d.create->str);
        g_string_append(out, d.remove->str);
        netiso_ipt_ruleset_write_rules(out, shared);
        g_string_append(out, d.add->str);
        g_string_append(out, d.flush->str);
        g_string_append(out, d.destroy->str);
        for (gsize i = 0; move_hooks && i < NETISO_IPT_HOOKS; i++)
                if (netiso_ipt_hooks[i].table == table)
                        g_string_append_printf(
                                out, "-D %s -j %s\n-I %s 1 -j %s\n", netiso_ipt_hooks[i].builtin,
                                netiso_ipt_hooks[i].ours, netiso_ipt_hooks[i].builtin,
                                netiso_ipt_hooks[i].ours);
        g_string_append(out, "COMMIT\n");
        delta_free(&d);
}

void
netiso_ipt_batch_event(GString *out, const NetisoConfig *config, const NetisoIptSet *before,
                       const NetisoIptSet *after, const GPtrArray *verify, NetisoFamily family,
                       gboolean move_hooks)
{
        g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) changed = changed_taps(before, after, ids);
        g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < changed->len; i++)
                add_prefixes(prefixes, seen, g_ptr_array_index(changed, i));
        for (guint i = 0; verify && i < verify->len; i++) {
                const NetisoIptPort *p = netiso_ipt_set_lookup(after, g_ptr_array_index(verify, i));
                add_prefixes(prefixes, seen, g_ptr_array_index(verify, i));
                if (p && !g_ptr_array_find_with_equal_func(ids, p->tenant_id, g_str_equal, NULL))
                        g_ptr_array_add(ids, g_strdup(p->tenant_id));
        }
        g_ptr_array_sort(prefixes, compare_strings);
        g_ptr_array_sort(ids, compare_strings);
        /* iptables-restore commits each table on its own: filter first, so
         * that a batch that stops after it leaves raw dropping what it did
         * (a new guest's tap is still one nobody installed there). */
        table_event(out, config, before, after, verify, family, move_hooks, NETISO_IPT_TABLE_FILTER,
                    changed, prefixes, ids);
        table_event(out, config, before, after, verify, family, move_hooks, NETISO_IPT_TABLE_RAW,
                    changed, prefixes, ids);
}
