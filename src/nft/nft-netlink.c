/* nf_tables over a plain NETLINK_NETFILTER socket, for the event fast
 * path: messages are built and parsed here from the kernel's UAPI headers
 * alone. Everything is family inet; names are validated by the callers. */
#include "autoconfig.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nft/nft-netlink.h"
#include "util/error.h"

/* nftables' rule userdata: type-length-value records, type 0 the comment. */
#define UDATA_RULE_COMMENT 0
#define RECV_SIZE 65536
#define NLA_DATA(a) ((const guint8 *)(a) + NLA_HDRLEN)

struct NetisoNl {
        int fd;
        guint32 seq;
};

struct NetisoNlBatch {
        char *table;
        GByteArray *buf; /* the command messages, without begin and end */
        guint commands;
};

NetisoNl *
netiso_nl_open(GError **error)
{
        g_autofree NetisoNl *nl = g_new0(NetisoNl, 1);
        int one = 1;

        nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (nl->fd < 0) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "nf_tables netlink: %s",
                            g_strerror(errno));
                return NULL;
        }
        /* Acknowledgements without a copy of each request. */
        setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        nl->seq = (guint32)g_get_monotonic_time();
        return g_steal_pointer(&nl);
}

void
netiso_nl_close(NetisoNl *nl)
{
        if (!nl)
                return;
        close(nl->fd);
        g_free(nl);
}

/* ---- building messages ---- */

static void
pad(GByteArray *buf)
{
        static const guint8 zeros[NLA_ALIGNTO];

        g_byte_array_append(buf, zeros, NLA_ALIGN(buf->len) - buf->len);
}

static gsize
msg_begin(GByteArray *buf, guint16 type, guint16 flags, guint8 family, guint16 res_id, guint32 seq)
{
        struct nlmsghdr h = { .nlmsg_type = type,
                              .nlmsg_flags = NLM_F_REQUEST | flags,
                              .nlmsg_seq = seq };
        struct nfgenmsg g = { .nfgen_family = family,
                              .version = NFNETLINK_V0,
                              .res_id = g_htons(res_id) };
        gsize start = buf->len;

        g_byte_array_append(buf, (const guint8 *)&h, sizeof(h));
        g_byte_array_append(buf, (const guint8 *)&g, sizeof(g));
        return start;
}

static void
msg_end(GByteArray *buf, gsize start)
{
        struct nlmsghdr *h = (struct nlmsghdr *)(buf->data + start);

        pad(buf);
        h = (struct nlmsghdr *)(buf->data + start);
        h->nlmsg_len = buf->len - start;
}

static void
put(GByteArray *buf, guint16 type, const void *data, gsize len)
{
        struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };

        g_byte_array_append(buf, (const guint8 *)&a, sizeof(a));
        g_byte_array_append(buf, data, len);
        pad(buf);
}

static void
put_str(GByteArray *buf, guint16 type, const char *s)
{
        put(buf, type, s, strlen(s) + 1);
}

static void
put_be32(GByteArray *buf, guint16 type, guint32 v)
{
        guint32 be = g_htonl(v);

        put(buf, type, &be, sizeof(be));
}

static gsize
nest_begin(GByteArray *buf, guint16 type)
{
        gsize start = buf->len;

        put(buf, type | NLA_F_NESTED, NULL, 0);
        return start;
}

static void
nest_end(GByteArray *buf, gsize start)
{
        ((struct nlattr *)(buf->data + start))->nla_len = buf->len - start;
}

/* ---- talking ---- */

static gboolean
send_all(NetisoNl *nl, const GByteArray *buf, GError **error)
{
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        ssize_t n;

        do
                n = sendto(nl->fd, buf->data, buf->len, 0, (struct sockaddr *)&sa, sizeof(sa));
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)buf->len) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "nf_tables netlink: send: %s", n < 0 ? g_strerror(errno) : "short");
                return FALSE;
        }
        return TRUE;
}

/* A batch goes out with sendmsg() and queries with sendto(), as libnftables
 * does: the fault tests hold the hook at the batch's sendmsg() on both paths. */
static gboolean
send_batch(NetisoNl *nl, const GByteArray *buf, GError **error)
{
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        struct iovec iov = { .iov_base = buf->data, .iov_len = buf->len };
        struct msghdr mh = {
                .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1
        };
        ssize_t n;

        do
                n = sendmsg(nl->fd, &mh, 0);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)buf->len) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "nf_tables netlink: send batch: %s",
                            n < 0 ? g_strerror(errno) : "short");
                return FALSE;
        }
        return TRUE;
}

static ssize_t
recv_some(NetisoNl *nl, guint8 *buf, GError **error)
{
        ssize_t n;

        do
                n = recv(nl->fd, buf, RECV_SIZE, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "nf_tables netlink: receive: %s", n < 0 ? g_strerror(errno) : "eof");
        return n;
}

/* Calls each for every answer to request seq until the dump is done (or,
 * for a plain request, the one answer came). An error answer ends it with
 * *ret_errno set (0 when none). */
typedef void (*NlEach)(const struct nlmsghdr *h, gpointer data);

static gboolean
request(NetisoNl *nl, GByteArray *msg, gboolean dump, NlEach each, gpointer data, int *ret_errno,
        GError **error)
{
        g_autofree guint8 *buf = g_malloc(RECV_SIZE);
        guint32 seq = ((struct nlmsghdr *)msg->data)->nlmsg_seq;

        *ret_errno = 0;
        if (!send_all(nl, msg, error))
                return FALSE;
        for (;;) {
                ssize_t n = recv_some(nl, buf, error);
                int len = (int)n;

                if (n <= 0)
                        return FALSE;
                for (const struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len);
                     h = NLMSG_NEXT(h, len)) {
                        if (h->nlmsg_seq != seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_DONE)
                                return TRUE;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                *ret_errno = -e->error;
                                return TRUE;
                        }
                        each(h, data);
                        if (!dump)
                                return TRUE;
                }
        }
}

/* Attributes of an nf_tables message, by type (up to max). */
static void
parse_attrs(const struct nlmsghdr *h, const struct nlattr **tb, int max)
{
        const guint8 *p = (const guint8 *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
        const guint8 *end = (const guint8 *)h + h->nlmsg_len;

        memset(tb, 0, sizeof(*tb) * (max + 1));
        while (p + NLA_HDRLEN <= end) {
                const struct nlattr *a = (const void *)p;
                int type = a->nla_type & NLA_TYPE_MASK;

                if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
                        break;
                if (type <= max)
                        tb[type] = a;
                p += NLA_ALIGN(a->nla_len);
        }
}

static guint16
nft_type(guint8 msg)
{
        return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

static GByteArray *
get_request(NetisoNl *nl, guint8 msg, gboolean dump)
{
        GByteArray *buf = g_byte_array_new();

        msg_begin(buf, nft_type(msg), dump ? NLM_F_DUMP : 0, NFPROTO_INET, 0, ++nl->seq);
        return buf;
}

typedef struct {
        guint count;
        char *first_comment;
} RuleWalk;

static void
each_rule(const struct nlmsghdr *h, gpointer data)
{
        RuleWalk *w = data;
        const struct nlattr *tb[NFTA_RULE_MAX + 1];

        if (w->count++ > 0)
                return;
        parse_attrs(h, tb, NFTA_RULE_MAX);
        if (!tb[NFTA_RULE_USERDATA])
                return;
        const guint8 *p = NLA_DATA(tb[NFTA_RULE_USERDATA]);
        const guint8 *end = p + tb[NFTA_RULE_USERDATA]->nla_len - NLA_HDRLEN;

        for (; p + 2 <= end && p + 2 + p[1] <= end; p += 2 + p[1])
                if (p[0] == UDATA_RULE_COMMENT && p[1] > 0 && !w->first_comment)
                        w->first_comment = g_strndup((const char *)p + 2, p[1]);
}

gboolean
netiso_nl_chain_rules(NetisoNl *nl, const char *table, const char *chain, guint *ret_count,
                      char **ret_first_comment, GError **error)
{
        g_autoptr(GByteArray) msg = get_request(nl, NFT_MSG_GETRULE, TRUE);
        RuleWalk w = { 0 };
        int err = 0;

        put_str(msg, NFTA_RULE_TABLE, table);
        put_str(msg, NFTA_RULE_CHAIN, chain);
        msg_end(msg, 0);
        if (!request(nl, msg, TRUE, each_rule, &w, &err, error)) {
                g_free(w.first_comment);
                return FALSE;
        }
        if (err && err != ENOENT) {
                g_free(w.first_comment);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "nf_tables netlink: rules of chain %s: %s", chain, g_strerror(err));
                return FALSE;
        }
        *ret_count = err ? 0 : w.count;
        *ret_first_comment = w.first_comment;
        return TRUE;
}

static void
each_chain(const struct nlmsghdr *h, gpointer data)
{
        const struct nlattr *tb[NFTA_CHAIN_MAX + 1];
        guint32 *use = data;

        parse_attrs(h, tb, NFTA_CHAIN_MAX);
        if (tb[NFTA_CHAIN_USE] && tb[NFTA_CHAIN_USE]->nla_len >= NLA_HDRLEN + 4) {
                guint32 be;
                memcpy(&be, NLA_DATA(tb[NFTA_CHAIN_USE]), sizeof(be));
                *use = g_ntohl(be);
        }
}

/* A plain get: *ret_found says whether the object exists. */
static gboolean
get_object(NetisoNl *nl, GByteArray *msg, const char *what, const char *name, NlEach each,
           gpointer data, gboolean *ret_found, GError **error)
{
        int err = 0;

        msg_end(msg, 0);
        if (!request(nl, msg, FALSE, each, data, &err, error))
                return FALSE;
        if (err && err != ENOENT) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "nf_tables netlink: %s %s: %s", what, name, g_strerror(err));
                return FALSE;
        }
        *ret_found = err == 0;
        return TRUE;
}

gboolean
netiso_nl_chain_use(NetisoNl *nl, const char *table, const char *chain, gboolean *ret_found,
                    guint32 *ret_use, GError **error)
{
        g_autoptr(GByteArray) msg = get_request(nl, NFT_MSG_GETCHAIN, FALSE);
        guint32 use = G_MAXUINT32;

        put_str(msg, NFTA_CHAIN_TABLE, table);
        put_str(msg, NFTA_CHAIN_NAME, chain);
        if (!get_object(nl, msg, "chain", chain, each_chain, &use, ret_found, error))
                return FALSE;
        *ret_use = use;
        return TRUE;
}

static void
each_ignore(const struct nlmsghdr *h, gpointer data)
{
}

gboolean
netiso_nl_set_exists(NetisoNl *nl, const char *table, const char *set, gboolean *ret_found,
                     GError **error)
{
        g_autoptr(GByteArray) msg = get_request(nl, NFT_MSG_GETSET, FALSE);

        put_str(msg, NFTA_SET_TABLE, table);
        put_str(msg, NFTA_SET_NAME, set);
        return get_object(nl, msg, "set", set, each_ignore, NULL, ret_found, error);
}

/* ---- batches ---- */

NetisoNlBatch *
netiso_nl_batch_new(const char *table)
{
        NetisoNlBatch *b = g_new0(NetisoNlBatch, 1);

        b->table = g_strdup(table);
        b->buf = g_byte_array_new();
        return b;
}

void
netiso_nl_batch_free(NetisoNlBatch *batch)
{
        if (!batch)
                return;
        g_free(batch->table);
        g_byte_array_unref(batch->buf);
        g_free(batch);
}

guint
netiso_nl_batch_length(const NetisoNlBatch *batch)
{
        return batch->commands;
}

/* Sequence numbers are filled in at commit: the command's index until then. */
static gsize
command_begin(NetisoNlBatch *b, guint8 msg, guint16 flags)
{
        return msg_begin(b->buf, nft_type(msg), NLM_F_ACK | flags, NFPROTO_INET, 0, b->commands);
}

static guint
command_end(NetisoNlBatch *b, gsize start)
{
        msg_end(b->buf, start);
        return b->commands++;
}

static void
put_data(GByteArray *buf, guint16 type, const void *value, gsize len)
{
        gsize nest = nest_begin(buf, type);

        put(buf, NFTA_DATA_VALUE, value, len);
        nest_end(buf, nest);
}

guint
netiso_nl_batch_element(NetisoNlBatch *b, gboolean add, const char *set, const void *key,
                        gsize key_len, const void *data, gsize data_len, const char *jump)
{
        gsize start = command_begin(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                                    add ? NLM_F_CREATE : 0);
        gsize list, elem;

        put_str(b->buf, NFTA_SET_ELEM_LIST_TABLE, b->table);
        put_str(b->buf, NFTA_SET_ELEM_LIST_SET, set);
        list = nest_begin(b->buf, NFTA_SET_ELEM_LIST_ELEMENTS);
        elem = nest_begin(b->buf, NFTA_LIST_ELEM);
        put_data(b->buf, NFTA_SET_ELEM_KEY, key, key_len);
        if (add && jump) {
                gsize d = nest_begin(b->buf, NFTA_SET_ELEM_DATA);
                gsize v = nest_begin(b->buf, NFTA_DATA_VERDICT);

                put_be32(b->buf, NFTA_VERDICT_CODE, (guint32)NFT_JUMP);
                put_str(b->buf, NFTA_VERDICT_CHAIN, jump);
                nest_end(b->buf, v);
                nest_end(b->buf, d);
        } else if (add && data) {
                put_data(b->buf, NFTA_SET_ELEM_DATA, data, data_len);
        }
        nest_end(b->buf, elem);
        nest_end(b->buf, list);
        return command_end(b, start);
}

guint
netiso_nl_batch_delete_chain(NetisoNlBatch *b, const char *chain)
{
        gsize start = command_begin(b, NFT_MSG_DELCHAIN, 0);

        put_str(b->buf, NFTA_CHAIN_TABLE, b->table);
        put_str(b->buf, NFTA_CHAIN_NAME, chain);
        return command_end(b, start);
}

guint
netiso_nl_batch_delete_set(NetisoNlBatch *b, const char *set)
{
        gsize start = command_begin(b, NFT_MSG_DELSET, 0);

        put_str(b->buf, NFTA_SET_TABLE, b->table);
        put_str(b->buf, NFTA_SET_NAME, set);
        return command_end(b, start);
}

/* Every command asks for an acknowledgement; the kernel sends them (and
 * any error) after it committed or aborted the whole batch, a refused
 * commit first, so the first error seen is the one that decided. */
static gboolean
read_acks(NetisoNl *nl, guint32 first, guint commands, int *ret_errno, int *ret_command,
          GError **error)
{
        g_autofree guint8 *buf = g_malloc(RECV_SIZE);
        guint acked = 0;

        while (acked < commands) {
                ssize_t n = recv_some(nl, buf, error);
                int len = (int)n;

                if (n <= 0)
                        return FALSE;
                for (const struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len);
                     h = NLMSG_NEXT(h, len)) {
                        const struct nlmsgerr *e = NLMSG_DATA(h);
                        guint32 index = h->nlmsg_seq - first;

                        if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < first - 1 ||
                            h->nlmsg_seq > first + commands)
                                continue;
                        if (e->error == 0) {
                                acked++;
                                continue;
                        }
                        *ret_errno = -e->error;
                        *ret_command = index < commands ? (int)index : -1;
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                                    "nf_tables netlink: batch command %d refused: %s", *ret_command,
                                    g_strerror(*ret_errno));
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
netiso_nl_batch_commit(NetisoNl *nl, const NetisoNlBatch *batch, int *ret_errno, int *ret_command,
                       GError **error)
{
        g_autoptr(GByteArray) buf = g_byte_array_sized_new(batch->buf->len + 64);
        guint32 begin_seq = ++nl->seq;
        guint32 first = begin_seq + 1;
        gsize start;

        *ret_errno = 0;
        *ret_command = -1;
        start = msg_begin(buf, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, begin_seq);
        msg_end(buf, start);
        g_byte_array_append(buf, batch->buf->data, batch->buf->len);
        for (gsize off = buf->len - batch->buf->len; off < buf->len;) {
                struct nlmsghdr *h = (struct nlmsghdr *)(buf->data + off);

                h->nlmsg_seq += first;
                off += NLMSG_ALIGN(h->nlmsg_len);
        }
        nl->seq = first + batch->commands;
        start = msg_begin(buf, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, nl->seq);
        msg_end(buf, start);
        if (!send_batch(nl, buf, error))
                return FALSE;
        return read_acks(nl, first, batch->commands, ret_errno, ret_command, error);
}
