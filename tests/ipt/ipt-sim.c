/* The filter and raw tables in memory for the iptables backend's tests:
 * each table's section of a restore batch is applied to a copy and kept
 * only when every line succeeds, and packets walk the chains with
 * iptables' jump, goto and return rules and connection marks. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "ipt-sim-private.h"

const char *const ipt_sim_builtins[_NETISO_IPT_TABLE_MAX][4] = {
        [NETISO_IPT_TABLE_FILTER] = { "INPUT", "FORWARD", "OUTPUT", NULL },
        [NETISO_IPT_TABLE_RAW] = { "PREROUTING", "OUTPUT", NULL },
};
static const char *const verdicts[] = { "ACCEPT", "DROP", "RETURN", "LOG", "CONNMARK", NULL };

static void
rule_free(gpointer data)
{
        SimRule *r = data;

        g_free(r->spec);
        g_free(r->src);
        g_free(r->dst);
        g_free(r->iif);
        g_free(r->oif);
        g_free(r->proto);
        g_free(r->ctstate);
        g_free(r->ctdir);
        g_free(r->target);
        g_free(r);
}

static void
chain_free(gpointer data)
{
        SimChain *c = data;

        g_free(c->name);
        g_ptr_array_unref(c->rules);
        g_free(c);
}

static SimChain *
chain_new(const char *name, gboolean builtin)
{
        SimChain *c = g_new0(SimChain, 1);

        c->name = g_strdup(name);
        c->builtin = builtin;
        c->rules = g_ptr_array_new_with_free_func(rule_free);
        return c;
}

static GHashTable *
chains_new(void)
{
        return g_hash_table_new_full(g_str_hash, g_str_equal, NULL, chain_free);
}

static void
add_chain(GHashTable *chains, SimChain *c)
{
        g_hash_table_insert(chains, c->name, c);
}

IptSim *
ipt_sim_new(void)
{
        IptSim *sim = g_new0(IptSim, 1);

        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++) {
                sim->tables[t] = chains_new();
                for (gsize i = 0; ipt_sim_builtins[t][i]; i++)
                        add_chain(sim->tables[t],
                                  chain_new(ipt_sim_builtins[t][i], /* builtin */ TRUE));
        }
        return sim;
}

void
ipt_sim_free(IptSim *sim)
{
        if (!sim)
                return;
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++)
                g_hash_table_unref(sim->tables[t]);
        g_free(sim);
}

/* Words of a rule spec; quoted words keep their spaces (quotes dropped). */
static GPtrArray *
split_words(const char *spec)
{
        GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
        const char *p = spec;

        while (*p) {
                GString *w = g_string_new(NULL);

                while (*p == ' ')
                        p++;
                if (!*p) {
                        g_string_free(w, /* free_segment */ TRUE);
                        break;
                }
                if (*p == '"') {
                        for (p++; *p && *p != '"'; p++)
                                g_string_append_c(w, *p);
                        if (*p)
                                p++;
                } else {
                        for (; *p && *p != ' '; p++)
                                g_string_append_c(w, *p);
                }
                g_ptr_array_add(words, g_string_free(w, /* free_segment */ FALSE));
        }
        return words;
}

/* "0x70000/0xffff0000": iptables-save's form, nothing else. */
static gboolean
parse_mark(const char *text, guint32 *ret_value, guint32 *ret_mask)
{
        g_auto(GStrv) parts = g_strsplit(text, "/", 2);
        g_autofree char *canon = NULL;

        if (!parts[1] || !g_str_has_prefix(parts[0], "0x") || !g_str_has_prefix(parts[1], "0x"))
                return FALSE;
        *ret_value = (guint32)g_ascii_strtoull(parts[0] + 2, NULL, 16);
        *ret_mask = (guint32)g_ascii_strtoull(parts[1] + 2, NULL, 16);
        canon = g_strdup_printf("0x%x/0x%x", *ret_value, *ret_mask);
        return g_str_equal(canon, text);
}

static SimRule *
parse_rule(const char *spec, char **ret_error)
{
        g_autoptr(GPtrArray) w = split_words(spec);
        SimRule *r = g_new0(SimRule, 1);
        gboolean negate = FALSE;

        r->spec = g_strdup(spec);
        r->dport = r->icmp6_type = r->hl_eq = -1;
        for (guint i = 0; i < w->len; i++) {
                const char *k = g_ptr_array_index(w, i);
                const char *v = i + 1 < w->len ? g_ptr_array_index(w, i + 1) : NULL;
                char **slot = NULL;

                if (g_str_equal(k, "-m")) {
                        if (!v ||
                            !g_strv_contains((const char *const[]){ "tcp", "udp", "conntrack",
                                                                    "comment", "limit", "icmp6",
                                                                    "hl", "connmark", NULL },
                                             v))
                                goto bad;
                        i++;
                        continue;
                }
                /* Only the connection mark is ever negated. */
                if (g_str_equal(k, "!")) {
                        if (!v || !g_str_equal(v, "--mark"))
                                goto bad;
                        negate = TRUE;
                        continue;
                }
                if (!v)
                        goto bad;
                if (g_str_equal(k, "--mark")) {
                        if (r->has_mark || !parse_mark(v, &r->mark, &r->mark_mask))
                                goto bad;
                        r->has_mark = TRUE;
                        r->not_mark = negate;
                        i++;
                        continue;
                }
                if (g_str_equal(k, "--set-xmark")) {
                        if (r->set_mark || !parse_mark(v, &r->xmark, &r->xmark_mask))
                                goto bad;
                        r->set_mark = TRUE;
                        i++;
                        continue;
                }
                if (g_str_equal(k, "-s"))
                        slot = &r->src;
                else if (g_str_equal(k, "-d"))
                        slot = &r->dst;
                else if (g_str_equal(k, "-i"))
                        slot = &r->iif;
                else if (g_str_equal(k, "-o"))
                        slot = &r->oif;
                else if (g_str_equal(k, "-p"))
                        slot = &r->proto;
                else if (g_str_equal(k, "--ctstate"))
                        slot = &r->ctstate;
                else if (g_str_equal(k, "--ctdir")) {
                        if (!g_str_equal(v, "ORIGINAL") && !g_str_equal(v, "REPLY"))
                                goto bad;
                        slot = &r->ctdir;
                } else if (g_str_equal(k, "-j") || g_str_equal(k, "-g")) {
                        slot = &r->target;
                        r->go = k[1] == 'g';
                } else if (g_str_equal(k, "--dport"))
                        r->dport = atoi(v);
                else if (g_str_equal(k, "--icmpv6-type"))
                        r->icmp6_type = atoi(v);
                else if (g_str_equal(k, "--hl-eq"))
                        r->hl_eq = atoi(v);
                else if (!g_strv_contains((const char *const[]){ "--comment", "--limit",
                                                                 "--log-prefix", NULL },
                                          k))
                        goto bad;
                if (slot) {
                        if (*slot)
                                goto bad;
                        *slot = g_strdup(v);
                }
                i++;
        }
        /* CONNMARK takes --set-xmark and nothing takes it but CONNMARK. */
        if (r->target && g_str_equal(r->target, "CONNMARK") == r->set_mark)
                return r;
bad:
        *ret_error = g_strdup_printf("cannot parse rule '%s'", spec);
        rule_free(r);
        return NULL;
}

static GHashTable *
copy_chains(GHashTable *chains)
{
        GHashTable *copy = chains_new();
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, chains);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                const SimChain *c = value;
                SimChain *d = chain_new(c->name, c->builtin);
                for (guint i = 0; i < c->rules->len; i++) {
                        char *e = NULL;
                        g_ptr_array_add(
                                d->rules,
                                parse_rule(((SimRule *)g_ptr_array_index(c->rules, i))->spec, &e));
                }
                add_chain(copy, d);
        }
        return copy;
}

static gboolean
is_verdict(const char *target)
{
        return g_strv_contains((const char *const *)verdicts, target);
}

static gboolean
referenced(GHashTable *chains, const char *name)
{
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, chains);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                const SimChain *c = value;
                for (guint i = 0; i < c->rules->len; i++)
                        if (g_str_equal(((SimRule *)g_ptr_array_index(c->rules, i))->target, name))
                                return TRUE;
        }
        return FALSE;
}

static gboolean
same_rule(const SimRule *a, const char *spec)
{
        return g_str_equal(a->spec, spec);
}

/* The kernel refuses a ruleset in which a chain can reach itself. */
static gboolean
has_loop(GHashTable *chains, const char *name, GHashTable *path, GHashTable *done)
{
        const SimChain *c = g_hash_table_lookup(chains, name);

        if (g_hash_table_contains(done, name))
                return FALSE;
        if (!g_hash_table_add(path, (gpointer)name))
                return TRUE;
        for (guint i = 0; c && i < c->rules->len; i++) {
                const SimRule *r = g_ptr_array_index(c->rules, i);
                if (!is_verdict(r->target) && has_loop(chains, r->target, path, done))
                        return TRUE;
        }
        g_hash_table_remove(path, name);
        g_hash_table_add(done, (gpointer)name);
        return FALSE;
}

static gboolean
apply_line(GHashTable *chains, const char *line, char **ret_error)
{
        g_auto(GStrv) w = g_strsplit(line, " ", 3);
        const char *verb = w[0];
        const char *name = w[1];
        SimChain *c = name ? g_hash_table_lookup(chains, name) : NULL;
        const char *spec = name ? w[2] : NULL;
        SimRule *r;

        if (*line == ':') {
                g_autofree char *n = g_strndup(line + 1, strcspn(line + 1, " "));
                c = g_hash_table_lookup(chains, n);
                if (c && !c->builtin)
                        g_ptr_array_set_size(c->rules, 0);
                else if (!c)
                        add_chain(chains, chain_new(n, /* builtin */ FALSE));
                return TRUE;
        }
        if (!name) {
                *ret_error = g_strdup("no chain");
                return FALSE;
        }
        if (g_str_equal(verb, "-N")) {
                if (c) {
                        *ret_error = g_strdup_printf("chain %s already exists", name);
                        return FALSE;
                }
                add_chain(chains, chain_new(name, /* builtin */ FALSE));
                return TRUE;
        }
        if (!c) {
                *ret_error = g_strdup_printf("chain %s does not exist", name);
                return FALSE;
        }
        if (g_str_equal(verb, "-F")) {
                g_ptr_array_set_size(c->rules, 0);
                return TRUE;
        }
        if (g_str_equal(verb, "-X")) {
                if (c->builtin || c->rules->len || referenced(chains, name)) {
                        *ret_error =
                                g_strdup_printf("chain %s is built in, not empty or in use", name);
                        return FALSE;
                }
                g_hash_table_remove(chains, name);
                return TRUE;
        }
        if (g_str_equal(verb, "-I")) {
                g_auto(GStrv) rest = g_strsplit(spec ? spec : "", " ", 2);
                guint pos = (guint)atoi(rest[0]);
                if (!rest[1] || pos < 1 || pos > c->rules->len + 1) {
                        *ret_error = g_strdup_printf("bad insert into %s", name);
                        return FALSE;
                }
                if (!(r = parse_rule(rest[1], ret_error)))
                        return FALSE;
                if (!is_verdict(r->target) && !g_hash_table_contains(chains, r->target)) {
                        *ret_error = g_strdup_printf("chain %s does not exist", r->target);
                        rule_free(r);
                        return FALSE;
                }
                g_ptr_array_insert(c->rules, (gint)pos - 1, r);
                return TRUE;
        }
        if (!spec) {
                *ret_error = g_strdup_printf("%s %s needs a rule", verb, name);
                return FALSE;
        }
        if (g_str_equal(verb, "-D")) {
                for (guint i = 0; i < c->rules->len; i++) {
                        if (same_rule(g_ptr_array_index(c->rules, i), spec)) {
                                g_ptr_array_remove_index(c->rules, i);
                                return TRUE;
                        }
                }
                *ret_error = g_strdup_printf("no rule '%s' in %s", spec, name);
                return FALSE;
        }
        if (!g_str_equal(verb, "-A")) {
                *ret_error = g_strdup_printf("unknown command %s", verb);
                return FALSE;
        }
        if (!(r = parse_rule(spec, ret_error)))
                return FALSE;
        if (!is_verdict(r->target) && !g_hash_table_contains(chains, r->target)) {
                *ret_error = g_strdup_printf("chain %s does not exist", r->target);
                rule_free(r);
                return FALSE;
        }
        g_ptr_array_add(c->rules, r);
        return TRUE;
}

/* The longest chain of jumps and gotos below name (0 for a chain that
 * jumps nowhere). */
static guint
height(GHashTable *chains, const char *name, GHashTable *memo)
{
        const SimChain *c = g_hash_table_lookup(chains, name);
        gpointer known;
        guint h = 0;

        if (g_hash_table_lookup_extended(memo, name, NULL, &known))
                return GPOINTER_TO_UINT(known);
        for (guint i = 0; c && i < c->rules->len; i++) {
                const SimRule *r = g_ptr_array_index(c->rules, i);
                if (!is_verdict(r->target))
                        h = MAX(h, 1 + height(chains, r->target, memo));
        }
        g_hash_table_insert(memo, (gpointer)name, GUINT_TO_POINTER(h));
        return h;
}

/* One table's section: applied to a copy, kept only if every line and the
 * whole table pass. */
static gboolean
restore_table(IptSim *sim, NetisoIptTable table, char **lines, guint first, guint *ret_next,
              char **ret_error)
{
        GHashTable *work = copy_chains(sim->tables[table]);
        g_autoptr(GHashTable) path = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
        char *why = NULL;
        guint i;

        for (i = first; lines[i] && !g_str_equal(lines[i], "COMMIT"); i++) {
                const char *l = lines[i];

                if (!*l || *l == '#')
                        continue;
                if (!apply_line(work, l, &why)) {
                        *ret_error = g_strdup_printf("line %u: %s", i + 1, why);
                        g_free(why);
                        g_hash_table_unref(work);
                        return FALSE;
                }
        }
        *ret_next = lines[i] ? i + 1 : i;
        for (gsize b = 0; ipt_sim_builtins[table][b]; b++) {
                g_autoptr(GHashTable) memo = g_hash_table_new(g_str_hash, g_str_equal);

                if (has_loop(work, ipt_sim_builtins[table][b], path, done)) {
                        *ret_error = g_strdup("a chain can reach itself (loop)");
                        g_hash_table_unref(work);
                        return FALSE;
                }
                /* nf_tables: NFT_JUMP_STACK_SIZE, gotos included (EMLINK). */
                if (height(work, ipt_sim_builtins[table][b], memo) > IPT_SIM_DEPTH_MAX) {
                        *ret_error = g_strdup_printf("Too many links: chains nested deeper than %d "
                                                     "below %s",
                                                     IPT_SIM_DEPTH_MAX, ipt_sim_builtins[table][b]);
                        g_hash_table_unref(work);
                        return FALSE;
                }
        }
        g_hash_table_unref(sim->tables[table]);
        sim->tables[table] = work;
        return TRUE;
}

gboolean
ipt_sim_restore(IptSim *sim, const char *batch, char **ret_error)
{
        g_auto(GStrv) lines = g_strsplit(batch, "\n", -1);

        for (guint i = 0; lines[i];) {
                const char *l = lines[i];
                int table = -1;

                if (!*l || *l == '#') {
                        i++;
                        continue;
                }
                for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++)
                        if (*l == '*' && g_str_equal(l + 1, netiso_ipt_table_name(t)))
                                table = t;
                if (table < 0) {
                        *ret_error =
                                g_strdup_printf("line %u: not a table this model knows", i + 1);
                        return FALSE;
                }
                if (!restore_table(sim, table, lines, i + 1, &i, ret_error))
                        return FALSE;
        }
        return TRUE;
}

typedef struct {
        NetisoIptTable table;
} NameOrder;

static gint
compare_names(gconstpointer a, gconstpointer b, gpointer data)
{
        const NameOrder *o = data;
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        gboolean bx = g_strv_contains(ipt_sim_builtins[o->table], x);
        gboolean by = g_strv_contains(ipt_sim_builtins[o->table], y);

        /* iptables-save: built-in chains first, then the others by name. */
        if (bx != by)
                return bx ? -1 : 1;
        return strcmp(x, y);
}

NetisoIptRuleset *
ipt_sim_ruleset(const IptSim *sim, NetisoIptTable table)
{
        NetisoIptRuleset *rs = netiso_ipt_ruleset_new();
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        NameOrder order = { table };
        GHashTableIter it;
        gpointer key;

        g_hash_table_iter_init(&it, sim->tables[table]);
        while (g_hash_table_iter_next(&it, &key, NULL))
                g_ptr_array_add(names, key);
        g_ptr_array_sort_with_data(names, compare_names, &order);
        for (guint i = 0; i < names->len; i++) {
                const SimChain *c =
                        g_hash_table_lookup(sim->tables[table], g_ptr_array_index(names, i));
                netiso_ipt_ruleset_add_chain(rs, c->name);
                for (guint k = 0; k < c->rules->len; k++)
                        netiso_ipt_ruleset_append(
                                rs, c->name, ((SimRule *)g_ptr_array_index(c->rules, k))->spec);
        }
        return rs;
}
