/* A tenant's objects for the event fast path: the sets, chains and rules of
 * nft-skeleton.c's tables (netiso_nft_tenant_sets, _rules) as libnftnl
 * objects, encoded as nft 1.0.6 encodes netiso_nft_render_tenant()'s text. */
#include "autoconfig.h"

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include "nft/nft-fast-tenant.h"
#include "nft/nft-netlink-internal.h"
#include "nft/nft-skeleton.h"

/* nft's datatypes (its datatype.h) as a set's key type: a concatenation's
 * is each field's, shifted left by 6 bits per field after the first. */
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_IFNAME 41
#define TYPE_BITS 6
/* nft's byte orders (BYTEORDER_INVALID for a concatenation) and the
 * expression type it records for a concatenation key (EXPR_CONCAT). */
#define BYTEORDER_INVALID 0
#define BYTEORDER_HOST_ENDIAN 1
#define EXPR_CONCAT 13
/* A udata nest of a typeof key: its expression type, then its fields. */
#define TYPEOF_EXPR 0
#define TYPEOF_DATA 1

/* The address's type, length and offset in the network header. */
static void
address_of(guint8 nfproto, guint32 *ret_type, guint32 *ret_len, guint32 *ret_offset)
{
        gboolean v4 = nfproto == NFPROTO_IPV4;

        *ret_type = v4 ? TYPE_IPADDR : TYPE_IP6ADDR;
        *ret_len = v4 ? 4 : 16;
        *ret_offset = v4 ? 16 : 24; /* daddr in struct iphdr, struct ipv6hdr */
}

static void
free_set(gpointer p)
{
        nftnl_set_free(p);
}

static void
free_chain(gpointer p)
{
        nftnl_chain_free(p);
}

static void
free_rule(gpointer p)
{
        nftnl_rule_free(p);
}

static void
set_payload(struct nlmsghdr *h, gpointer p)
{
        nftnl_set_nlmsg_build_payload(h, p);
}

static void
chain_payload(struct nlmsghdr *h, gpointer p)
{
        nftnl_chain_nlmsg_build_payload(h, p);
}

static void
rule_payload(struct nlmsghdr *h, gpointer p)
{
        nftnl_rule_nlmsg_build_payload(h, p);
}

/* What nft writes in a named set's userdata: the key's byte order and, for
 * a concatenation, an (empty) typeof description of it. */
static void
set_userdata(struct nftnl_set *s, gboolean concat)
{
        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
        struct nftnl_udata *typeof_key, *fields;

        if (!ud)
                g_error("out of memory for a set's userdata");
        nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER,
                            concat ? BYTEORDER_INVALID : BYTEORDER_HOST_ENDIAN);
        if (concat) {
                typeof_key = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_KEY_TYPEOF);
                nftnl_udata_put_u32(ud, TYPEOF_EXPR, EXPR_CONCAT);
                fields = nftnl_udata_nest_start(ud, TYPEOF_DATA);
                nftnl_udata_nest_end(ud, fields);
                nftnl_udata_nest_end(ud, typeof_key);
        }
        nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
                           nftnl_udata_buf_len(ud));
        nftnl_udata_buf_free(ud);
}

static struct nftnl_set *
tenant_set(const char *table, const char *name, const NetisoNftTenantObject *o, guint32 id)
{
        struct nftnl_set *s = netiso_nl_set_named(table, name);
        guint32 type = TYPE_IFNAME, len = IFNAMSIZ;

        if (o->nfproto) {
                guint32 atype, alen, offset;

                address_of(o->nfproto, &atype, &alen, &offset);
                type = type << TYPE_BITS | atype;
                len += alen;
        }
        nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
        nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, type);
        nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, len);
        nftnl_set_set_u32(s, NFTNL_SET_ID, id);
        set_userdata(s, o->nfproto != 0);
        return s;
}

static void
add_expr(struct nftnl_rule *r, const char *name, const guint16 *attrs, const guint32 *values,
         gsize n)
{
        struct nftnl_expr *e = nftnl_expr_alloc(name);

        if (!e)
                g_error("out of memory for an nf_tables expression");
        for (gsize i = 0; i < n; i++)
                nftnl_expr_set_u32(e, attrs[i], values[i]);
        nftnl_rule_add_expr(r, e);
}

#define EXPR(r, name, ...)                                                                         \
        do {                                                                                       \
                const guint32 pairs_[] = { __VA_ARGS__ };                                          \
                guint16 attrs_[G_N_ELEMENTS(pairs_) / 2];                                          \
                guint32 values_[G_N_ELEMENTS(pairs_) / 2];                                         \
                for (gsize i_ = 0; i_ < G_N_ELEMENTS(attrs_); i_++) {                              \
                        attrs_[i_] = (guint16)pairs_[2 * i_];                                      \
                        values_[i_] = pairs_[2 * i_ + 1];                                          \
                }                                                                                  \
                add_expr(r, name, attrs_, values_, G_N_ELEMENTS(attrs_));                          \
        } while (0)

/* oifname[ . ip daddr | . ip6 daddr] @set accept: nft's registers are the
 * 16-byte ones (NFT_REG_1, then NFT_REG_2 for the address), and in table
 * inet an address match first checks the packet's family. */
static struct nftnl_rule *
tenant_rule(const char *table, const char *chain, const char *set, guint32 set_id,
            const NetisoNftTenantObject *o)
{
        struct nftnl_rule *r = nftnl_rule_alloc();
        struct nftnl_expr *e;

        if (!r)
                g_error("out of memory for an nf_tables rule");
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
        if (o->nfproto) {
                guint8 nfproto = o->nfproto;

                EXPR(r, "meta", NFTNL_EXPR_META_KEY, NFT_META_NFPROTO, NFTNL_EXPR_META_DREG,
                     NFT_REG_1);
                e = nftnl_expr_alloc("cmp");
                if (!e)
                        g_error("out of memory for an nf_tables expression");
                nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
                nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
                nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &nfproto, sizeof(nfproto));
                nftnl_rule_add_expr(r, e);
        }
        EXPR(r, "meta", NFTNL_EXPR_META_KEY, NFT_META_OIFNAME, NFTNL_EXPR_META_DREG, NFT_REG_1);
        if (o->nfproto) {
                guint32 type, len, offset;

                address_of(o->nfproto, &type, &len, &offset);
                EXPR(r, "payload", NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_2, NFTNL_EXPR_PAYLOAD_BASE,
                     NFT_PAYLOAD_NETWORK_HEADER, NFTNL_EXPR_PAYLOAD_OFFSET, offset,
                     NFTNL_EXPR_PAYLOAD_LEN, len);
        }
        e = nftnl_expr_alloc("lookup");
        if (!e)
                g_error("out of memory for an nf_tables expression");
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
        nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
        nftnl_rule_add_expr(r, e);
        EXPR(r, "immediate", NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT, NFTNL_EXPR_IMM_VERDICT,
             NF_ACCEPT);
        return r;
}

/* The set's index in netiso_nft_tenant_sets, as its batch id (from 1). */
static guint32
set_id(const NetisoNftTenantObject *rule)
{
        for (gsize i = 0; i < NETISO_NFT_TENANT_SETS; i++) {
                const NetisoNftTenantObject *s = &netiso_nft_tenant_sets[i];

                if (s->family == rule->family && g_str_equal(s->set, rule->set))
                        return (guint32)i + 1;
        }
        g_error("tenant rule on set %s, which no tenant has", rule->set);
}

guint
netiso_nft_fast_tenant_create(NetisoNlBatch *b, const char *table, const char *tenant)
{
        g_autofree char *chain = g_strdup_printf("tenant-%s", tenant);
        guint first = netiso_nl_batch_length(b);

        /* In netiso_nft_render_tenant()'s order: each table's sets, then
         * its chain; then the rules. */
        for (gsize i = 0; i < NETISO_NFT_TENANT_SETS; i++) {
                const NetisoNftTenantObject *o = &netiso_nft_tenant_sets[i];
                g_autofree char *set = g_strdup_printf("%s-%s", chain, o->set);

                netiso_nl_batch_family(b, o->family);
                netiso_nl_batch_object(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL,
                                       tenant_set(table, set, o, (guint32)i + 1), set_payload,
                                       free_set);
                if (i + 1 == NETISO_NFT_TENANT_SETS ||
                    netiso_nft_tenant_sets[i + 1].family != o->family) {
                        struct nftnl_chain *c = nftnl_chain_alloc();

                        if (!c)
                                g_error("out of memory for an nf_tables chain");
                        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
                        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
                        netiso_nl_batch_object(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, c,
                                               chain_payload, free_chain);
                }
        }
        for (gsize i = 0; i < NETISO_NFT_TENANT_RULES; i++) {
                const NetisoNftTenantObject *o = &netiso_nft_tenant_rules[i];
                g_autofree char *set = g_strdup_printf("%s-%s", chain, o->set);

                netiso_nl_batch_family(b, o->family);
                netiso_nl_batch_object(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                                       tenant_rule(table, chain, set, set_id(o), o), rule_payload,
                                       free_rule);
        }
        netiso_nl_batch_family(b, NFPROTO_INET);
        return netiso_nl_batch_length(b) - first;
}

guint
netiso_nft_fast_tenant_rules(guint8 family)
{
        guint n = 0;

        for (gsize i = 0; i < NETISO_NFT_TENANT_RULES; i++)
                n += netiso_nft_tenant_rules[i].family == family;
        return n;
}
