/* nf_tables over a NETLINK_NETFILTER socket, for the event fast path:
 * libmnl carries and walks the messages, libnftnl builds and parses the
 * nf_tables objects. Answers are matched by port id and sequence number,
 * and every wait has a deadline. Family inet; callers validate names. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "nft/nft-netlink-internal.h"
#include "nft/nft-netlink.h"
#include "util/error.h"

#define DUMP_TRIES 3
/* Our requests name a table and one object: a few hundred bytes. */
#define REQUEST_SIZE 4096

gboolean
netiso_nl_fail(GError **error, const char *format, ...)
{
        g_autofree char *what = NULL;
        va_list ap;

        va_start(ap, format);
        what = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "nf_tables netlink: %s", what);
        return FALSE;
}

NetisoNl *
netiso_nl_open(GError **error)
{
        g_autoptr(NetisoNl) nl = g_new0(NetisoNl, 1);
        int one = 1;

        /* Non-blocking: every read waits in poll() with a deadline first. */
        nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
                netiso_nl_fail(error, "cannot open a socket: %s", g_strerror(errno));
                return NULL;
        }
        /* Errors without a copy of the request they answer. */
        mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
        nl->portid = mnl_socket_get_portid(nl->sock);
        /* Far from wrapping (a batch's numbers must stay in order) and
         * never 0, which libmnl takes for "any". */
        nl->seq = (guint32)(g_get_monotonic_time() % (1u << 30)) + 1;
        nl->buf = g_malloc(NETISO_NL_RECV_SIZE);
        return g_steal_pointer(&nl);
}

void
netiso_nl_close(NetisoNl *nl)
{
        if (!nl)
                return;
        if (nl->sock)
                mnl_socket_close(nl->sock);
        g_free(nl->buf);
        g_free(nl);
}

guint64
netiso_nl_netns(NetisoNl *nl)
{
        socklen_t len = sizeof(nl->netns);

        if (nl->netns == 0 && getsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_NETNS_COOKIE,
                                         &nl->netns, &len) < 0)
                nl->netns = 0;
        return nl->netns;
}

/* ---- receiving ---- */

gboolean
netiso_nl_wait(NetisoNl *nl, gint64 deadline, GError **error)
{
        struct pollfd p = { .fd = mnl_socket_get_fd(nl->sock), .events = POLLIN };

        for (;;) {
                gint64 left_ms = (deadline - g_get_monotonic_time() + 999) / 1000;
                int n;

                if (left_ms <= 0)
                        return netiso_nl_fail(error, "no answer within %d ms", NETISO_NL_WAIT_MS);
                n = poll(&p, 1, (int)MIN(left_ms, G_MAXINT));
                if (n > 0)
                        return TRUE;
                if (n < 0 && errno != EINTR)
                        return netiso_nl_fail(error, "poll: %s", g_strerror(errno));
        }
}

ssize_t
netiso_nl_receive(NetisoNl *nl)
{
        ssize_t n;

        do
                n = mnl_socket_recvfrom(nl->sock, nl->buf, NETISO_NL_RECV_SIZE);
        while (n < 0 && errno == EINTR);
        return n;
}

/* ---- queries ---- */

typedef struct {
        guint8 answer; /* the NFT_MSG_ type of an answer */
        mnl_cb_t each; /* called for every answer */
        void *data;
        gboolean dump;
        guint32 seq; /* the request's (set by ask()) */
        int err;     /* the kernel's refusal, positive; 0 when none */
} Query;

/* Only answers to this request reach each: libmnl lets messages of
 * sequence 0 through (notifications, such as the echo of a batch whose
 * answers were not all read), and libnftnl's parsers exit() on a message
 * of another type ("kernel ABI is broken"). */
static int
query_data(const struct nlmsghdr *h, void *data)
{
        Query *q = data;

        if (h->nlmsg_seq != q->seq || h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | q->answer))
                return MNL_CB_OK;
        if (q->each && q->each(h, q->data) < MNL_CB_OK) {
                errno = EBADMSG;
                return MNL_CB_ERROR;
        }
        return q->dump ? MNL_CB_OK : MNL_CB_STOP;
}

static int
query_error(const struct nlmsghdr *h, void *data)
{
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
        Query *q = data;

        if (h->nlmsg_seq != q->seq)
                return MNL_CB_OK;
        q->err = h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) ? EBADMSG : -e->error;
        return MNL_CB_STOP;
}

/* Whether a datagram holds the end of request seq's answer. */
static gboolean
ends(const guint8 *buf, ssize_t n, guint32 seq)
{
        int len = (int)n;

        for (const struct nlmsghdr *h = (const void *)buf; mnl_nlmsg_ok(h, len);
             h = mnl_nlmsg_next(h, &len))
                if (h->nlmsg_seq == seq &&
                    (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR))
                        return TRUE;
        return FALSE;
}

typedef enum { ANSWERED, INTERRUPTED, FAILED } Asked;

/* Sends one request and reads its whole answer. A dump a commit changed
 * while it ran (NLM_F_DUMP_INTR) is read to its end and INTERRUPTED. */
static Asked
ask(NetisoNl *nl, struct nlmsghdr *req, Query *q, const char *what, GError **error)
{
        static mnl_cb_t control[NLMSG_ERROR + 1] = { [NLMSG_ERROR] = query_error };
        gint64 deadline = g_get_monotonic_time() + (gint64)NETISO_NL_WAIT_MS * 1000;
        guint32 seq = ++nl->seq;
        gboolean interrupted = FALSE;

        req->nlmsg_seq = seq;
        q->seq = seq;
        q->err = 0;
        if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) {
                netiso_nl_fail(error, "%s: send: %s", what, g_strerror(errno));
                return FAILED;
        }
        for (;;) {
                ssize_t n = netiso_nl_receive(nl);
                int r;

                /* The kernel mostly answers within the send: read first. */
                if (n < 0 && errno == EAGAIN) {
                        if (!netiso_nl_wait(nl, deadline, error)) {
                                g_prefix_error(error, "%s: ", what);
                                return FAILED;
                        }
                        continue;
                }
                if (n < 0) {
                        netiso_nl_fail(error, "%s: receive: %s", what, g_strerror(errno));
                        return FAILED;
                }
                if (interrupted) {
                        if (ends(nl->buf, n, seq))
                                return INTERRUPTED;
                        continue;
                }
                r = mnl_cb_run2(nl->buf, n, seq, nl->portid, query_data, q, control,
                                G_N_ELEMENTS(control));
                if (r == MNL_CB_STOP)
                        return ANSWERED;
                if (r == MNL_CB_OK)
                        continue;
                if (errno == EINTR) {
                        interrupted = TRUE;
                        if (ends(nl->buf, n, seq))
                                return INTERRUPTED;
                } else if (errno != ESRCH && errno != EPROTO) {
                        /* ESRCH, EPROTO: an answer to an earlier request, not ours. */
                        netiso_nl_fail(error, "%s: bad answer: %s", what, g_strerror(errno));
                        return FAILED;
                }
        }
}

/* A get (not a dump) whose only acceptable refusal is ENOENT. */
static gboolean
get(NetisoNl *nl, struct nlmsghdr *req, Query *q, const char *what, gboolean *ret_found,
    GError **error)
{
        if (ask(nl, req, q, what, error) != ANSWERED)
                return FALSE;
        if (q->err && q->err != ENOENT)
                return netiso_nl_fail(error, "%s: %s", what, g_strerror(q->err));
        *ret_found = q->err == 0;
        return TRUE;
}

int
netiso_nl_parse_generation(const struct nlmsghdr *h, void *data)
{
        struct nftnl_gen *gen;
        int r = MNL_CB_ERROR;

        if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN))
                return MNL_CB_ERROR;
        gen = nftnl_gen_alloc();
        if (gen && nftnl_gen_nlmsg_parse(h, gen) == 0 && nftnl_gen_is_set(gen, NFTNL_GEN_ID)) {
                *(guint32 *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
                r = MNL_CB_OK;
        }
        nftnl_gen_free(gen);
        return r;
}

gboolean
netiso_nl_generation(NetisoNl *nl, guint32 *ret_generation, GError **error)
{
        char buf[REQUEST_SIZE];
        struct nlmsghdr *req = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, 0);
        guint32 generation = 0;
        Query q = { .answer = NFT_MSG_NEWGEN,
                    .each = netiso_nl_parse_generation,
                    .data = &generation };
        gboolean found = FALSE;

        if (!get(nl, req, &q, "ruleset generation", &found, error))
                return FALSE;
        if (!found || generation == 0)
                return netiso_nl_fail(error, "ruleset generation: no answer");
        *ret_generation = generation;
        return TRUE;
}

static int
each_count(const struct nlmsghdr *h, void *data)
{
        (*(guint *)data)++;
        return MNL_CB_OK;
}

gboolean
netiso_nl_chain_rules(NetisoNl *nl, guint8 family, const char *table, const char *chain,
                      guint *ret_count, GError **error)
{
        g_autofree char *what = g_strdup_printf("rules of chain %s", chain);
        char buf[REQUEST_SIZE];
        struct nftnl_rule *r = nftnl_rule_alloc();
        struct nlmsghdr *req;
        guint count = 0;
        Query q = { .answer = NFT_MSG_NEWRULE, .each = each_count, .data = &count, .dump = TRUE };

        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
        req = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP, 0);
        nftnl_rule_nlmsg_build_payload(req, r);
        nftnl_rule_free(r);
        for (int try = 0; try < DUMP_TRIES; try++) {
                Asked a;

                count = 0;
                a = ask(nl, req, &q, what, error);
                if (a == FAILED)
                        return FALSE;
                if (a == INTERRUPTED)
                        continue;
                if (q.err && q.err != ENOENT)
                        return netiso_nl_fail(error, "%s: %s", what, g_strerror(q.err));
                *ret_count = q.err ? 0 : count;
                return TRUE;
        }
        return netiso_nl_fail(error, "%s: the ruleset kept changing during %d dumps", what,
                              DUMP_TRIES);
}

static int
each_chain_use(const struct nlmsghdr *h, void *data)
{
        struct nftnl_chain *c = nftnl_chain_alloc();
        int r = MNL_CB_ERROR;

        if (c && nftnl_chain_nlmsg_parse(h, c) == 0) {
                *(guint32 *)data = nftnl_chain_is_set(c, NFTNL_CHAIN_USE)
                                           ? nftnl_chain_get_u32(c, NFTNL_CHAIN_USE)
                                           : G_MAXUINT32;
                r = MNL_CB_OK;
        }
        nftnl_chain_free(c);
        return r;
}

gboolean
netiso_nl_chain_use(NetisoNl *nl, guint8 family, const char *table, const char *chain,
                    gboolean *ret_found, guint32 *ret_use, GError **error)
{
        g_autofree char *what = g_strdup_printf("chain %s", chain);
        char buf[REQUEST_SIZE];
        struct nftnl_chain *c = nftnl_chain_alloc();
        struct nlmsghdr *req;
        guint32 use = G_MAXUINT32;
        Query q = { .answer = NFT_MSG_NEWCHAIN, .each = each_chain_use, .data = &use };

        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
        req = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, 0, 0);
        nftnl_chain_nlmsg_build_payload(req, c);
        nftnl_chain_free(c);
        if (!get(nl, req, &q, what, ret_found, error))
                return FALSE;
        *ret_use = use;
        return TRUE;
}

typedef struct {
        const char *table;
        GPtrArray *names;
} ChainNames;

static int
each_chain_name(const struct nlmsghdr *h, void *data)
{
        struct nftnl_chain *c = nftnl_chain_alloc();
        ChainNames *d = data;
        int r = MNL_CB_ERROR;

        if (c && nftnl_chain_nlmsg_parse(h, c) == 0) {
                const char *table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
                const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);

                if (table && name && g_str_equal(table, d->table))
                        g_ptr_array_add(d->names, g_strdup(name));
                r = MNL_CB_OK;
        }
        nftnl_chain_free(c);
        return r;
}

GPtrArray *
netiso_nl_chain_names(NetisoNl *nl, guint8 family, const char *table, GError **error)
{
        g_autofree char *what = g_strdup_printf("chains of table %s", table);
        char buf[REQUEST_SIZE];
        struct nlmsghdr *req = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_DUMP, 0);
        ChainNames d = { table, NULL };
        Query q = { .answer = NFT_MSG_NEWCHAIN, .each = each_chain_name, .data = &d, .dump = TRUE };

        for (int try = 0; try < DUMP_TRIES; try++) {
                Asked a;

                g_clear_pointer(&d.names, g_ptr_array_unref);
                d.names = g_ptr_array_new_with_free_func(g_free);
                a = ask(nl, req, &q, what, error);
                if (a == FAILED)
                        break;
                if (a == INTERRUPTED)
                        continue;
                if (q.err && q.err != ENOENT) {
                        netiso_nl_fail(error, "%s: %s", what, g_strerror(q.err));
                        break;
                }
                return g_steal_pointer(&d.names);
        }
        if (d.names && error && !*error)
                netiso_nl_fail(error, "%s: the ruleset kept changing during %d dumps", what,
                               DUMP_TRIES);
        g_clear_pointer(&d.names, g_ptr_array_unref);
        return NULL;
}

struct nftnl_set *
netiso_nl_set_named(const char *table, const char *set)
{
        struct nftnl_set *s = nftnl_set_alloc();

        nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
        nftnl_set_set_str(s, NFTNL_SET_NAME, set);
        return s;
}

static int
each_element_data(struct nftnl_set_elem *e, void *data)
{
        GBytes **ret = data;
        uint32_t len = 0;
        const void *value = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);

        if (value && !*ret)
                *ret = g_bytes_new(value, len);
        return 0;
}

static int
each_element(const struct nlmsghdr *h, void *data)
{
        struct nftnl_set *s = nftnl_set_alloc();
        int r = MNL_CB_ERROR;

        if (s && nftnl_set_elems_nlmsg_parse(h, s) >= 0) {
                nftnl_set_elem_foreach(s, each_element_data, data);
                r = MNL_CB_OK;
        }
        nftnl_set_free(s);
        return r;
}

gboolean
netiso_nl_map_lookup(NetisoNl *nl, const char *table, const char *set, const void *key,
                     gsize key_len, GBytes **ret_data, GError **error)
{
        g_autofree char *what = g_strdup_printf("element of %s", set);
        char buf[REQUEST_SIZE];
        struct nftnl_set *s = netiso_nl_set_named(table, set);
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();
        struct nlmsghdr *req;
        GBytes *data = NULL;
        Query q = { .answer = NFT_MSG_NEWSETELEM, .each = each_element, .data = &data };
        gboolean found = FALSE;

        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, key_len);
        nftnl_set_elem_add(s, e);
        req = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, 0, 0);
        nftnl_set_elems_nlmsg_build_payload(req, s);
        nftnl_set_free(s);
        if (!get(nl, req, &q, what, &found, error)) {
                g_clear_pointer(&data, g_bytes_unref);
                return FALSE;
        }
        if (!found)
                g_clear_pointer(&data, g_bytes_unref);
        *ret_data = data;
        return TRUE;
}

typedef struct {
        NetisoNlElementFunc func;
        gpointer data;
} EachElement;

static int
each_dumped_element(struct nftnl_set_elem *e, void *data)
{
        EachElement *d = data;
        uint32_t key_len = 0, data_len = 0;
        const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &key_len);
        const void *value = NULL;
        const char *jump = NULL;

        if (!key)
                return 0;
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
                jump = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
        else if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA))
                value = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &data_len);
        d->func(key, key_len, value, value ? data_len : 0, jump, d->data);
        return 0;
}

static int
each_dumped(const struct nlmsghdr *h, void *data)
{
        struct nftnl_set *s = nftnl_set_alloc();
        int r = MNL_CB_ERROR;

        if (s && nftnl_set_elems_nlmsg_parse(h, s) >= 0) {
                nftnl_set_elem_foreach(s, each_dumped_element, data);
                r = MNL_CB_OK;
        }
        nftnl_set_free(s);
        return r;
}

gboolean
netiso_nl_set_elements(NetisoNl *nl, guint8 family, const char *table, const char *set,
                       NetisoNlElementFunc func, gpointer data, GError **error)
{
        g_autofree char *what = g_strdup_printf("elements of %s", set);
        char buf[REQUEST_SIZE];
        struct nftnl_set *s = netiso_nl_set_named(table, set);
        struct nlmsghdr *req =
                nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, 0);
        EachElement d = { func, data };
        Query q = { .answer = NFT_MSG_NEWSETELEM, .each = each_dumped, .data = &d, .dump = TRUE };
        Asked a;

        nftnl_set_elems_nlmsg_build_payload(req, s);
        nftnl_set_free(s);
        a = ask(nl, req, &q, what, error);
        if (a == FAILED)
                return FALSE;
        if (a == INTERRUPTED)
                return netiso_nl_fail(error, "%s: the ruleset changed during the dump", what);
        if (q.err)
                return netiso_nl_fail(error, "%s: %s", what, g_strerror(q.err));
        return TRUE;
}
