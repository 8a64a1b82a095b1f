/* The set of taps the iptables backend installs and the radix tries that
 * dispatch by interface name: per packet, a walk down the tap's name instead
 * of a scan over every guest. Pure functions of the set. */
#include "autoconfig.h"

#include <string.h>

#include "ipt/ipt-trie.h"
#include "util/error.h"
#include "util/names.h"

static void
port_free(gpointer data)
{
        NetisoIptPort *port = data;

        g_free(port->tap);
        g_free(port->tenant);
        g_array_unref(port->addresses);
        g_free(port);
}

static NetisoIptPort *
port_copy(const NetisoIptPort *port)
{
        NetisoIptPort *copy = g_new0(NetisoIptPort, 1);

        copy->tap = g_strdup(port->tap);
        copy->tenant = g_strdup(port->tenant);
        memcpy(copy->tenant_id, port->tenant_id, sizeof(copy->tenant_id));
        copy->flow_id = port->flow_id;
        copy->addresses = g_array_copy(port->addresses);
        return copy;
}

NetisoIptSet *
netiso_ipt_set_new(void)
{
        NetisoIptSet *set = g_new0(NetisoIptSet, 1);

        set->ports = g_ptr_array_new_with_free_func(port_free);
        return set;
}

void
netiso_ipt_set_free(NetisoIptSet *set)
{
        if (!set)
                return;
        g_ptr_array_unref(set->ports);
        g_free(set);
}

NetisoIptSet *
netiso_ipt_set_copy(const NetisoIptSet *set)
{
        NetisoIptSet *copy = netiso_ipt_set_new();

        for (guint i = 0; i < set->ports->len; i++)
                g_ptr_array_add(copy->ports, port_copy(g_ptr_array_index(set->ports, i)));
        copy->finished = set->finished;
        return copy;
}

void
netiso_ipt_tenant_id(const char *tenant, char ret_id[NETISO_IPT_TENANT_ID_LEN + 1])
{
        g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, tenant, -1);

        memcpy(ret_id, digest, NETISO_IPT_TENANT_ID_LEN);
        ret_id[NETISO_IPT_TENANT_ID_LEN] = '\0';
}

gboolean
netiso_ipt_set_add(NetisoIptSet *set, const char *tap, const char *tenant, guint16 flow_id,
                   const GArray *addresses, GError **error)
{
        g_autofree char *tenant_problem = netiso_tenant_name_problem(tenant);
        const char *tap_problem = netiso_ifname_problem(tap);
        NetisoIptPort *port;

        if (tap_problem || tenant_problem) {
                /* Reported without the value: it failed the check that makes it printable. */
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE,
                            "iptables: refusing a recorded %s name: %s",
                            tap_problem ? "tap" : "tenant",
                            tap_problem ? tap_problem : tenant_problem);
                return FALSE;
        }
        port = g_new0(NetisoIptPort, 1);
        port->tap = g_strdup(tap);
        port->tenant = g_strdup(tenant);
        netiso_ipt_tenant_id(tenant, port->tenant_id);
        port->flow_id = flow_id;
        port->addresses = g_array_copy((GArray *)addresses);
        g_ptr_array_add(set->ports, port);
        set->finished = FALSE;
        return TRUE;
}

gboolean
netiso_ipt_set_add_record(NetisoIptSet *set, const NetisoRecord *record, GError **error)
{
        for (guint i = 0; i < record->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(record->ports, i);
                if (!netiso_ipt_set_add(set, p->tap, record->tenant, record->flow_id, p->addresses,
                                        error))
                        return FALSE;
        }
        return TRUE;
}

static gint
compare_ports(gconstpointer a, gconstpointer b, gpointer order)
{
        const NetisoIptPort *x = *(NetisoIptPort *const *)a;
        const NetisoIptPort *y = *(NetisoIptPort *const *)b;
        int c = strcmp(x->tap, y->tap);
        guint ix = GPOINTER_TO_UINT(g_hash_table_lookup(order, x));
        guint iy = GPOINTER_TO_UINT(g_hash_table_lookup(order, y));

        if (c != 0)
                return c;
        return ix < iy ? -1 : ix > iy;
}

gboolean
netiso_ipt_set_finish(NetisoIptSet *set, GError **error)
{
        g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) order = g_hash_table_new(NULL, NULL);

        /* Sort by name, then by when it was added: of two entries for one
         * tap, the later one wins (a new policy over an old record). */
        for (guint i = 0; i < set->ports->len; i++)
                g_hash_table_insert(order, g_ptr_array_index(set->ports, i), GUINT_TO_POINTER(i));
        g_ptr_array_sort_with_data(set->ports, compare_ports, order);
        for (guint i = set->ports->len; i > 1; i--) {
                const NetisoIptPort *a = g_ptr_array_index(set->ports, i - 2);
                const NetisoIptPort *b = g_ptr_array_index(set->ports, i - 1);
                if (g_str_equal(a->tap, b->tap))
                        g_ptr_array_remove_index(set->ports, i - 2);
        }
        for (guint i = 0; i < set->ports->len; i++) {
                NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                const char *other = g_hash_table_lookup(ids, p->tenant_id);

                /* A collision would merge two tenants' chains: refuse it loudly. */
                if (other && !g_str_equal(other, p->tenant)) {
                        g_set_error(
                                error, NETISO_ERROR, NETISO_ERROR_CONFLICT,
                                "iptables: tenants '%s' and '%s' share the chain id %s; rename one of them or use the nftables backend",
                                other, p->tenant, p->tenant_id);
                        return FALSE;
                }
                g_hash_table_insert(ids, p->tenant_id, p->tenant);
        }
        set->finished = TRUE;
        return TRUE;
}

/* First index whose tap sorts at or after prefix. */
static guint
lower_bound(const NetisoIptSet *set, const char *prefix)
{
        guint lo = 0, hi = set->ports->len;

        while (lo < hi) {
                guint mid = lo + (hi - lo) / 2;
                const NetisoIptPort *p = g_ptr_array_index(set->ports, mid);
                if (strcmp(p->tap, prefix) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

const NetisoIptPort *
netiso_ipt_set_lookup(const NetisoIptSet *set, const char *tap)
{
        guint i = lower_bound(set, tap);
        const NetisoIptPort *p;

        g_assert(set->finished);
        if (i >= set->ports->len)
                return NULL;
        p = g_ptr_array_index(set->ports, i);
        return g_str_equal(p->tap, tap) ? p : NULL;
}

NetisoIptSet *
netiso_ipt_set_tenant(const NetisoIptSet *set, const char *tenant_id)
{
        NetisoIptSet *sub = netiso_ipt_set_new();

        g_assert(set->finished);
        for (guint i = 0; i < set->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                if (g_str_equal(p->tenant_id, tenant_id))
                        g_ptr_array_add(sub->ports, port_copy(p));
        }
        sub->finished = TRUE;
        return sub;
}

gboolean
netiso_ipt_port_equal(const NetisoIptPort *a, const NetisoIptPort *b)
{
        if (!g_str_equal(a->tenant, b->tenant) || a->flow_id != b->flow_id ||
            a->addresses->len != b->addresses->len)
                return FALSE;
        for (guint i = 0; i < a->addresses->len; i++)
                if (!netiso_cidr_equal(&g_array_index(a->addresses, NetisoCidr, i),
                                       &g_array_index(b->addresses, NetisoCidr, i)))
                        return FALSE;
        return TRUE;
}

/* ---- chains ---- */

static const char *const trie_prefix[] = {
        [NETISO_IPT_TRIE_FWD_FROM] = "BLXFI-", [NETISO_IPT_TRIE_HOST_FROM] = "BLXII-",
        [NETISO_IPT_TRIE_FWD_TO] = "BLXFO-",   [NETISO_IPT_TRIE_ACCEPT_TO] = "BLXOO-",
        [NETISO_IPT_TRIE_BLOCK_TO] = "BLXDM-", [NETISO_IPT_TRIE_BIND_TO] = "BLXBO-",
        [NETISO_IPT_TRIE_PRE_FROM] = "BLXPI-",
};

NetisoIptTable
netiso_ipt_trie_table(NetisoIptTrie trie)
{
        return trie == NETISO_IPT_TRIE_PRE_FROM ? NETISO_IPT_TABLE_RAW : NETISO_IPT_TABLE_FILTER;
}

char *
netiso_ipt_node_chain(NetisoIptTrie trie, const char *tenant_id, const char *prefix)
{
        /* At most 4 + 8 + 1 + 14 = 27 characters: iptables allows 28. */
        if (trie == NETISO_IPT_TRIE_TENANT)
                return g_strdup_printf("BLXK%s-%s", tenant_id, prefix);
        g_assert(trie < NETISO_IPT_TRIE_TENANT);
        return g_strconcat(trie_prefix[trie], prefix, NULL);
}

char *
netiso_ipt_tenant_head(const char *tenant_id)
{
        return g_strdup_printf("BLXG%s", tenant_id);
}

GPtrArray *
netiso_ipt_tenant_head_rules(const NetisoIptPort *port)
{
        GPtrArray *rules = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *root = netiso_ipt_node_chain(NETISO_IPT_TRIE_TENANT, port->tenant_id, "");

        /* Antispoofing and the flow's binding ran in the tap's leaf; the
         * order after it is the nftables backend's from_guest. A bound flow
         * (related packets included: the leaf proved that the connection
         * they quote is the guest's own) goes on to BLX-EST, which checks
         * where it goes. The comment maps the id back to the tenant for
         * people reading iptables-save. */
        g_ptr_array_add(rules,
                        g_strdup("-m conntrack --ctstate RELATED,ESTABLISHED -g " NETISO_IPT_EST));
        g_ptr_array_add(rules, g_strdup("-m conntrack --ctstate INVALID -j RETURN"));
        g_ptr_array_add(rules, g_strdup_printf("-m comment --comment \"tenant %s\" -j %s",
                                               port->tenant, root));
        g_ptr_array_add(rules, g_strdup("-g " NETISO_IPT_REST));
        return rules;
}

/* ---- nodes ---- */

static gboolean
by_input(NetisoIptTrie trie)
{
        return trie == NETISO_IPT_TRIE_FWD_FROM || trie == NETISO_IPT_TRIE_HOST_FROM ||
               trie == NETISO_IPT_TRIE_PRE_FROM;
}

static void
item_free(gpointer data)
{
        NetisoIptItem *item = data;

        g_free(item->rules);
        g_free(item->name);
        g_free(item);
}

static NetisoIptItem *
item_new(char *rules, const char *name, gboolean link)
{
        NetisoIptItem *item = g_new0(NetisoIptItem, 1);

        item->rules = rules;
        item->name = g_strdup(name);
        item->link = link;
        return item;
}

gboolean
netiso_ipt_item_leads_to(const NetisoIptItem *item, const char *tap)
{
        return item->link ? g_str_has_prefix(tap, item->name) : g_str_equal(tap, item->name);
}

/* The binding of a tap's flows (DEVELOPERS.md): a connection's mark holds
 * its originator's flow id in the upper half and its responder's in the
 * lower half, set from the first packet's taps. A tracked packet from the
 * tap must carry the tap's id in the half of its direction, one towards
 * the tap in the other half; anything else is another install's flow.
 * host_errors lets related packets through towards the tap in the reply
 * direction (BLXOO-, reached from OUTPUT after BLXBO- for forwarded ones):
 * the host's own ICMP errors about a guest's packet it never forwarded
 * (TTL 1, no route, too big) quote a connection nobody marked. */
static void
bind_rules(GString *out, const NetisoIptPort *p, gboolean from, gboolean host_errors)
{
        const char *dir = from ? "-i" : "-o";
        const char *drop = from ? NETISO_IPT_BLOCK : NETISO_IPT_INBOUND;
        guint32 upper = (guint32)p->flow_id << 16, lower = p->flow_id;
        guint32 own = from ? upper : lower, other = from ? lower : upper;
        const char *own_mask = from ? "0xffff0000" : "0xffff";
        const char *other_mask = from ? "0xffff" : "0xffff0000";

        g_string_append_printf(out,
                               "%s %s -m conntrack --ctstate NEW -j CONNMARK --set-xmark 0x%x/%s\n",
                               dir, p->tap, own, own_mask);
        g_string_append_printf(
                out,
                "%s %s -m conntrack --ctstate RELATED,ESTABLISHED --ctdir ORIGINAL -m connmark ! --mark 0x%x/%s -j %s\n",
                dir, p->tap, own, own_mask, drop);
        g_string_append_printf(
                out,
                "%s %s -m conntrack --ctstate %s --ctdir REPLY -m connmark ! --mark 0x%x/%s -j %s\n",
                dir, p->tap, host_errors ? "ESTABLISHED" : "RELATED,ESTABLISHED", other, other_mask,
                drop);
}

/* The rules one tap gets in a node: for the "from" tries its source
 * addresses (anything else is spoofed), for the "to" tries one verdict. */
static NetisoIptItem *
leaf_item(const NetisoIptPort *p, NetisoIptTrie trie, NetisoFamily family)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *head = netiso_ipt_tenant_head(p->tenant_id);
        const char *next = trie == NETISO_IPT_TRIE_FWD_FROM ? head : NETISO_IPT_HOST;

        switch (trie) {
        case NETISO_IPT_TRIE_FWD_FROM:
        case NETISO_IPT_TRIE_HOST_FROM:
                bind_rules(out, p, /* from */ TRUE, /* host_errors */ FALSE);
                if (trie == NETISO_IPT_TRIE_HOST_FROM && family == NETISO_FAMILY_IPV6)
                        g_string_append_printf(out, "-i %s -j " NETISO_IPT_ND "\n", p->tap);
                for (guint i = 0; i < p->addresses->len; i++) {
                        const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, i);
                        g_autofree char *a = NULL;

                        if (c->family != family)
                                continue;
                        a = netiso_cidr_to_string(c, /* with_host_prefix */ TRUE);
                        /* Back from the policy chain means refused: drop, counted per tap. */
                        g_string_append_printf(out, "-s %s -i %s -j %s\n", a, p->tap, next);
                        g_string_append_printf(out, "-s %s -i %s -j " NETISO_IPT_BLOCK "\n", a,
                                               p->tap);
                }
                g_string_append_printf(out, "-i %s -j " NETISO_IPT_SPOOF, p->tap);
                break;
        case NETISO_IPT_TRIE_PRE_FROM:
                /* Before routing, so that the host answers no forged source
                 * with an ICMP error. Neighbour discovery comes from link-local
                 * or unspecified sources; hop limit 255 proves it is on-link. */
                for (guint type = 133; family == NETISO_FAMILY_IPV6 && type <= 136; type++)
                        if (type != 134)
                                g_string_append_printf(
                                        out,
                                        "-i %s -p ipv6-icmp -m icmp6 --icmpv6-type %u -m hl --hl-eq 255 -j ACCEPT\n",
                                        p->tap, type);
                for (guint i = 0; i < p->addresses->len; i++) {
                        const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, i);
                        g_autofree char *a = NULL;

                        if (c->family != family)
                                continue;
                        a = netiso_cidr_to_string(c, /* with_host_prefix */ TRUE);
                        g_string_append_printf(out, "-s %s -i %s -j ACCEPT\n", a, p->tap);
                }
                g_string_append_printf(out, "-i %s -j " NETISO_IPT_SPOOF, p->tap);
                break;
        case NETISO_IPT_TRIE_BIND_TO:
                /* A guest receives only what is addressed to it, whatever the
                 * routes say: an address it lost may still be routed to it. */
                bind_rules(out, p, /* from */ FALSE, /* host_errors */ FALSE);
                for (guint i = 0; i < p->addresses->len; i++) {
                        const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, i);
                        g_autofree char *a = NULL;

                        if (c->family != family)
                                continue;
                        a = netiso_cidr_to_string(c, /* with_host_prefix */ TRUE);
                        g_string_append_printf(out, "-d %s -o %s -j RETURN\n", a, p->tap);
                }
                g_string_append_printf(out, "-o %s -j " NETISO_IPT_INBOUND, p->tap);
                break;
        case NETISO_IPT_TRIE_FWD_TO:
                g_string_append_printf(out, "-o %s -j " NETISO_IPT_TO "\n", p->tap);
                g_string_append_printf(out, "-o %s -j " NETISO_IPT_INBOUND, p->tap);
                break;
        case NETISO_IPT_TRIE_ACCEPT_TO:
                bind_rules(out, p, /* from */ FALSE, /* host_errors */ TRUE);
                g_string_append_printf(out, "-o %s -j ACCEPT", p->tap);
                break;
        case NETISO_IPT_TRIE_BLOCK_TO:
                g_string_append_printf(out, "-o %s -j " NETISO_IPT_BLOCK, p->tap);
                break;
        case NETISO_IPT_TRIE_TENANT:
                g_string_append_printf(out, "-o %s -g " NETISO_IPT_PEER, p->tap);
                break;
        default:
                g_assert_not_reached();
        }
        return item_new(g_string_free(g_steal_pointer(&out), /* free_segment */ FALSE), p->tap,
                        /* link */ FALSE);
}

static NetisoIptItem *
link_item(NetisoIptTrie trie, const char *tenant_id, const char *child)
{
        g_autofree char *chain = netiso_ipt_node_chain(trie, tenant_id, child);

        /* Goto, not jump: falling off a node returns straight to the chain
         * that entered the trie, which then treats the name as unknown. */
        return item_new(g_strdup_printf("%s %s+ -g %s", by_input(trie) ? "-i" : "-o", child, chain),
                        child, /* link */ TRUE);
}

static gsize
common_prefix(const char *a, const char *b)
{
        gsize n = 0;

        while (a[n] && a[n] == b[n])
                n++;
        return n;
}

/* nf_tables refuses chains nested deeper than 16 (NFT_JUMP_STACK_SIZE,
 * "Too many links"), gotos included: FORWARD 0, BLIXARD_VM_FWD 1, a "from"
 * trie's node of depth d at 1 + d, the tenant head at 2 + d, its trie's
 * node of depth k at 2 + d + k, BLX-PEER at 3 + d + k; BLX-REST and BLX-EST
 * at 3 + d, BLXOO- nodes at 3 + d + k and their leaves' drop chain (like
 * BLXDM-'s) at 4 + d + k; BLXBO- and raw's BLXPI- nodes at 1 + d. So each
 * trie has a depth budget (root = 1): a node at its budget holds every
 * name below it as a leaf. Names deep enough to reach it (100 000 vnetN)
 * cost a longer scan in that one node instead of a refused batch. */
static const guint depth_budget[] = {
        [NETISO_IPT_TRIE_FWD_FROM] = 7, [NETISO_IPT_TRIE_HOST_FROM] = 7,
        [NETISO_IPT_TRIE_FWD_TO] = 7,   [NETISO_IPT_TRIE_ACCEPT_TO] = 4,
        [NETISO_IPT_TRIE_BLOCK_TO] = 4, [NETISO_IPT_TRIE_BIND_TO] = 7,
        [NETISO_IPT_TRIE_PRE_FROM] = 7, [NETISO_IPT_TRIE_TENANT] = 5,
};

/* [*ret_lo, *ret_hi): the taps that start with the first len bytes of prefix. */
static void
prefix_range(const NetisoIptSet *set, const char *prefix, gsize len, guint *ret_lo, guint *ret_hi)
{
        g_autofree char *from = g_strndup(prefix, len);
        /* Name characters are ASCII below 0x7f: nothing with the prefix sorts after this. */
        g_autofree char *to = g_strconcat(from, "\x7f", NULL);

        *ret_lo = lower_bound(set, from);
        *ret_hi = lower_bound(set, to);
}

static const char *
tap_at(const NetisoIptSet *set, guint i)
{
        return ((NetisoIptPort *)g_ptr_array_index(set->ports, i))->tap;
}

/* Names part at this prefix (or one ends there and another goes on): in
 * sorted order the first and last of its range then differ right after it. */
static gboolean
branches(const NetisoIptSet *set, const char *prefix, gsize len)
{
        guint lo, hi;

        prefix_range(set, prefix, len, &lo, &hi);
        return hi - lo >= 2 && tap_at(set, lo)[len] != tap_at(set, hi - 1)[len];
}

/* How many nodes a packet passes from the root to this one, both included. */
static guint
node_depth(const NetisoIptSet *set, const char *prefix)
{
        guint depth = 1;

        for (gsize n = 1; n <= strlen(prefix); n++)
                depth += branches(set, prefix, n);
        return depth;
}

GPtrArray *
netiso_ipt_node_items(const NetisoIptSet *set, NetisoIptTrie trie, const char *prefix,
                      NetisoFamily family)
{
        gsize len = strlen(prefix);
        const char *tenant_id = NULL;
        GPtrArray *items;
        gboolean flat;
        guint lo, hi, i, depth;

        g_assert(set->finished);
        prefix_range(set, prefix, len, &lo, &hi);
        /* The global roots always exist, a tenant's root with its taps,
         * other nodes where names part, within the trie's depth budget. */
        if (len == 0 && trie == NETISO_IPT_TRIE_TENANT && hi == lo)
                return NULL;
        if (len > 0 && !branches(set, prefix, len))
                return NULL;
        depth = len > 0 ? node_depth(set, prefix) : 1;
        if (depth > depth_budget[trie])
                return NULL;
        flat = depth == depth_budget[trie];
        if (hi > lo)
                tenant_id = ((NetisoIptPort *)g_ptr_array_index(set->ports, lo))->tenant_id;

        items = g_ptr_array_new_with_free_func(item_free);
        for (i = lo; i < hi;) {
                const NetisoIptPort *first = g_ptr_array_index(set->ports, i);
                guint j = i + 1;

                /* A name that ends here is a slot of its own. */
                while (!flat && first->tap[len] && j < hi && tap_at(set, j)[len] == first->tap[len])
                        j++;
                if (j - i == 1) {
                        g_ptr_array_add(items, leaf_item(first, trie, family));
                } else {
                        /* Several names share this branch: link to the node
                         * where they part, skipping the letters they share. */
                        g_autofree char *child = g_strndup(
                                first->tap, common_prefix(first->tap, tap_at(set, j - 1)));
                        g_ptr_array_add(items, link_item(trie, tenant_id, child));
                }
                i = j;
        }
        return items;
}

GPtrArray *
netiso_ipt_node_prefixes(const NetisoIptSet *set)
{
        GPtrArray *prefixes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        /* The nodes of a radix trie over sorted names are the longest
         * common prefixes of neighbours (a name that is a prefix of its
         * neighbour is one of them). */
        g_assert(set->finished);
        g_ptr_array_add(prefixes, g_strdup(""));
        g_hash_table_add(seen, (gpointer) "");
        for (guint i = 0; i + 1 < set->ports->len; i++) {
                const char *a = ((NetisoIptPort *)g_ptr_array_index(set->ports, i))->tap;
                const char *b = ((NetisoIptPort *)g_ptr_array_index(set->ports, i + 1))->tap;
                char *p = g_strndup(a, common_prefix(a, b));

                if (g_hash_table_contains(seen, p)) {
                        g_free(p);
                        continue;
                }
                g_ptr_array_add(prefixes, p);
                g_hash_table_add(seen, p);
        }
        return prefixes;
}
