/* Filter tables as chains of rule lines: built by the renderer, parsed from
 * iptables-save, compared by the drift check. The renderer writes rules the
 * way iptables-save prints them, so equal tables give equal lines. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "ipt/ipt-ruleset.h"
#include "util/error.h"

const NetisoIptHook netiso_ipt_hooks[NETISO_IPT_HOOKS] = {
        { NETISO_IPT_TABLE_FILTER, "FORWARD", NETISO_IPT_FWD },
        { NETISO_IPT_TABLE_FILTER, "INPUT", NETISO_IPT_IN },
        { NETISO_IPT_TABLE_FILTER, "OUTPUT", NETISO_IPT_OUT },
        { NETISO_IPT_TABLE_RAW, "PREROUTING", NETISO_IPT_PRE },
};

const char *
netiso_ipt_table_name(NetisoIptTable table)
{
        return table == NETISO_IPT_TABLE_RAW ? "raw" : "filter";
}

static void
rule_free(gpointer data)
{
        NetisoIptRule *rule = data;

        g_free(rule->spec);
        g_free(rule);
}

NetisoIptRuleset *
netiso_ipt_ruleset_new(void)
{
        NetisoIptRuleset *rs = g_new0(NetisoIptRuleset, 1);

        rs->chains = g_ptr_array_new_with_free_func(g_free);
        rs->rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)g_ptr_array_unref);
        return rs;
}

void
netiso_ipt_ruleset_free(NetisoIptRuleset *rs)
{
        if (!rs)
                return;
        g_ptr_array_unref(rs->chains);
        g_hash_table_unref(rs->rules);
        g_free(rs);
}

void
netiso_ipt_ruleset_add_chain(NetisoIptRuleset *rs, const char *chain)
{
        if (g_hash_table_contains(rs->rules, chain))
                return;
        g_ptr_array_add(rs->chains, g_strdup(chain));
        g_hash_table_insert(rs->rules, g_strdup(chain), g_ptr_array_new_with_free_func(rule_free));
}

static NetisoIptRule *
append(NetisoIptRuleset *rs, const char *chain, const char *spec)
{
        NetisoIptRule *rule = g_new0(NetisoIptRule, 1);

        netiso_ipt_ruleset_add_chain(rs, chain);
        rule->spec = g_strdup(spec);
        g_ptr_array_add(g_hash_table_lookup(rs->rules, chain), rule);
        return rule;
}

void
netiso_ipt_ruleset_append(NetisoIptRuleset *rs, const char *chain, const char *spec)
{
        append(rs, chain, spec);
}

GPtrArray *
netiso_ipt_ruleset_rules(const NetisoIptRuleset *rs, const char *chain)
{
        return g_hash_table_lookup(rs->rules, chain);
}

gboolean
netiso_ipt_ruleset_has_chain(const NetisoIptRuleset *rs, const char *chain)
{
        return g_hash_table_contains(rs->rules, chain);
}

/* "[PACKETS:BYTES] -A CHAIN SPEC" (counters only with -c). */
static gboolean
parse_rule(NetisoIptRuleset *rs, const char *line)
{
        guint64 packets = 0, bytes = 0;
        const char *p = line;
        const char *space;
        g_autofree char *chain = NULL;
        NetisoIptRule *rule;

        if (*p == '[') {
                if (sscanf(p, "[%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT "]", &packets, &bytes) !=
                    2)
                        return FALSE;
                p = strchr(p, ']');
                if (!p || p[1] != ' ')
                        return FALSE;
                p += 2;
        }
        if (!g_str_has_prefix(p, "-A "))
                return FALSE;
        p += 3;
        space = strchr(p, ' ');
        chain = space ? g_strndup(p, (gsize)(space - p)) : g_strdup(p);
        rule = append(rs, chain, space ? space + 1 : "");
        rule->packets = packets;
        rule->bytes = bytes;
        return TRUE;
}

NetisoIptRuleset *
netiso_ipt_ruleset_parse(const char *text, const char *table, GError **error)
{
        g_autoptr(NetisoIptRuleset) rs = netiso_ipt_ruleset_new();
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        gboolean in_table = FALSE;

        for (guint i = 0; lines[i]; i++) {
                const char *line = lines[i];

                if (*line == '*') {
                        in_table = g_str_equal(line + 1, table);
                } else if (g_str_equal(line, "COMMIT")) {
                        in_table = FALSE;
                } else if (strstr(line, "is incompatible, use 'nft' tool")) {
                        /* iptables-nft cannot show rules that nft added to its table. */
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                                    "iptables-save: the %s table holds rules only nft can show",
                                    table);
                        return NULL;
                } else if (!in_table || *line == '#' || *line == '\0') {
                        continue;
                } else if (*line == ':') {
                        g_autofree char *chain = g_strndup(line + 1, strcspn(line + 1, " "));
                        netiso_ipt_ruleset_add_chain(rs, chain);
                } else if (!parse_rule(rs, line)) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                                    "iptables-save: line %u not understood", i + 1);
                        return NULL;
                }
        }
        return g_steal_pointer(&rs);
}

static gboolean
is_tenant_chain(const char *chain)
{
        /* BLXG<8 hex> and BLXK<8 hex>-... */
        if (!g_str_has_prefix(chain, "BLXG") && !g_str_has_prefix(chain, "BLXK"))
                return FALSE;
        for (int i = 4; i < 12; i++)
                if (!g_ascii_isxdigit(chain[i]))
                        return FALSE;
        return chain[12] == '\0' ? chain[3] == 'G' : chain[12] == '-' && chain[3] == 'K';
}

gboolean
netiso_ipt_chain_is_ours(const char *chain)
{
        static const char *const prefixes[] = {
                "BLIXARD_VM_", "BLX-",   "BLXFI-", "BLXII-", "BLXFO-",
                "BLXOO-",      "BLXDM-", "BLXBO-", "BLXPI-",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(prefixes); i++)
                if (g_str_has_prefix(chain, prefixes[i]))
                        return TRUE;
        return is_tenant_chain(chain);
}

char *
netiso_ipt_rule_target(const char *spec)
{
        gboolean quoted = FALSE;

        /* Words inside quotes (comments, log prefixes) are not options. */
        for (const char *p = spec; *p; p++) {
                if (*p == '"' && (p == spec || p[-1] != '\\'))
                        quoted = !quoted;
                if (quoted || (p != spec && p[-1] != ' '))
                        continue;
                if ((g_str_has_prefix(p, "-j ") || g_str_has_prefix(p, "-g ")))
                        return g_strndup(p + 3, strcspn(p + 3, " "));
        }
        return NULL;
}

void
netiso_ipt_ruleset_write_chains(GString *out, const NetisoIptRuleset *rs)
{
        for (guint i = 0; i < rs->chains->len; i++)
                g_string_append_printf(out, ":%s - [0:0]\n",
                                       (const char *)g_ptr_array_index(rs->chains, i));
}

void
netiso_ipt_ruleset_write_rules(GString *out, const NetisoIptRuleset *rs)
{
        for (guint i = 0; i < rs->chains->len; i++) {
                const char *chain = g_ptr_array_index(rs->chains, i);
                GPtrArray *rules = netiso_ipt_ruleset_rules(rs, chain);

                for (guint k = 0; k < rules->len; k++)
                        g_string_append_printf(
                                out, "-A %s %s\n", chain,
                                ((NetisoIptRule *)g_ptr_array_index(rules, k))->spec);
        }
}
