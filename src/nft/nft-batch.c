/* One nf_tables transaction of the event fast path, built with libnftnl:
 * element changes and deletions of chains and sets, bound to a ruleset
 * generation, sent at once and decided by the kernel's first answer. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "nft/nft-batch-internal.h"
#include "nft/nft-batch.h"
#include "nft/nft-netlink-internal.h"

/* What libnftables reserves in the receive buffer per command of a batch
 * (mnl_batch_talk): enough for an error for every one of them. */
#define ANSWER_SIZE 1024
/* The echo of the first command and the commit's NEWGEN, each a page. */
#define ECHO_SIZE (2 * 8192)
/* A buffer this small needs no sizing (grow_buffer). */
#define SMALL_BUFFER (64 * 1024)
/* nftnl_batch pages; a message must fit in the overrun past a page's end:
 * one command of ours is well under a kilobyte, a bulk message
 * (nft-batch-bulk.c) under 32 KiB. */
#define BATCH_PAGE (128 * 1024)
#define BATCH_OVERRUN (64 * 1024)

static void
command_clear(gpointer p)
{
        Command *c = p;

        if (c->object && c->free_object)
                c->free_object(c->object);
        g_free(c->name);
        g_clear_pointer(&c->key, g_bytes_unref);
        g_clear_pointer(&c->data, g_bytes_unref);
        g_free(c->jump);
        g_free(c->device);
}

NetisoNlBatch *
netiso_nl_batch_new(const char *table)
{
        NetisoNlBatch *b = g_new0(NetisoNlBatch, 1);

        b->table = g_strdup(table);
        b->family = NFPROTO_INET;
        b->commands = g_array_new(FALSE, TRUE, sizeof(Command));
        g_array_set_clear_func(b->commands, command_clear);
        return b;
}

void
netiso_nl_batch_free(NetisoNlBatch *batch)
{
        if (!batch)
                return;
        g_free(batch->table);
        g_array_unref(batch->commands);
        netiso_nl_batch_groups_free(batch);
        g_free(batch);
}

guint
netiso_nl_batch_length(const NetisoNlBatch *batch)
{
        return batch->commands->len + netiso_nl_batch_group_messages(batch);
}

void
netiso_nl_batch_family(NetisoNlBatch *b, guint8 family)
{
        b->family = family;
}

guint
netiso_nl_batch_command(NetisoNlBatch *b, guint16 type, const char *name)
{
        Command c = { .type = type, .family = b->family, .name = g_strdup(name) };

        g_array_append_val(b->commands, c);
        return b->commands->len - 1;
}

guint
netiso_nl_batch_element(NetisoNlBatch *b, gboolean add, const char *set, const void *key,
                        gsize key_len, const void *data, gsize data_len, const char *jump)
{
        guint i;
        Command *c;

        g_return_val_if_fail(key_len <= G_MAXUINT8 && data_len <= G_MAXUINT8, 0);
        if (add && b->groups) {
                netiso_nl_batch_group_add(b, set, key, key_len, data, data_len, jump);
                return 0;
        }
        i = netiso_nl_batch_command(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, set);
        c = &g_array_index(b->commands, Command, i);

        c->key = g_bytes_new(key, key_len);
        if (add && jump)
                c->jump = g_strdup(jump);
        else if (add && data)
                c->data = g_bytes_new(data, data_len);
        return i;
}

guint
netiso_nl_batch_delete_chain(NetisoNlBatch *b, const char *chain)
{
        return netiso_nl_batch_command(b, NFT_MSG_DELCHAIN, chain);
}

guint
netiso_nl_batch_flowtable_device(NetisoNlBatch *b, const char *flowtable, const char *device)
{
        guint i = netiso_nl_batch_command(b, NFT_MSG_NEWFLOWTABLE, flowtable);

        g_array_index(b->commands, Command, i).device = g_strdup(device);
        return i;
}

guint
netiso_nl_batch_delete_set(NetisoNlBatch *b, const char *set)
{
        return netiso_nl_batch_command(b, NFT_MSG_DELSET, set);
}

guint
netiso_nl_batch_flush_set(NetisoNlBatch *b, const char *set)
{
        /* A DELSETELEM without elements flushes the set. */
        return netiso_nl_batch_command(b, NFT_MSG_DELSETELEM, set);
}

guint
netiso_nl_batch_object(NetisoNlBatch *b, guint16 type, guint16 flags, gpointer object,
                       NetisoNlPayload payload, GDestroyNotify free_object)
{
        guint i = netiso_nl_batch_command(b, type, NULL);
        Command *c = &g_array_index(b->commands, Command, i);

        c->object = object;
        c->payload = payload;
        c->free_object = free_object;
        c->flags = flags;
        return i;
}

static void
put_command(struct nftnl_batch *nb, const char *table, const Command *c, guint16 flags, guint32 seq)
{
        struct nlmsghdr *h =
                nftnl_nlmsg_build_hdr(nftnl_batch_buffer(nb), c->type, c->family, flags, seq);

        if (c->payload) {
                c->payload(h, c->object);
        } else if (c->type == NFT_MSG_DELCHAIN) {
                struct nftnl_chain *chain = nftnl_chain_alloc();

                nftnl_chain_set_str(chain, NFTNL_CHAIN_TABLE, table);
                nftnl_chain_set_str(chain, NFTNL_CHAIN_NAME, c->name);
                nftnl_chain_nlmsg_build_payload(h, chain);
                nftnl_chain_free(chain);
        } else if (c->type == NFT_MSG_NEWFLOWTABLE) {
                struct nftnl_flowtable *ft = nftnl_flowtable_alloc();
                const char *devices[] = { c->device, NULL };

                nftnl_flowtable_set_str(ft, NFTNL_FLOWTABLE_TABLE, table);
                nftnl_flowtable_set_str(ft, NFTNL_FLOWTABLE_NAME, c->name);
                nftnl_flowtable_set_u32(ft, NFTNL_FLOWTABLE_HOOKNUM, NF_NETDEV_INGRESS);
                nftnl_flowtable_set_u32(ft, NFTNL_FLOWTABLE_PRIO, 0);
                nftnl_flowtable_set_array(ft, NFTNL_FLOWTABLE_DEVICES, devices);
                nftnl_flowtable_nlmsg_build_payload(h, ft);
                nftnl_flowtable_free(ft);
        } else if (c->type == NFT_MSG_DELSET) {
                struct nftnl_set *s = netiso_nl_set_named(table, c->name);

                nftnl_set_nlmsg_build_payload(h, s);
                nftnl_set_free(s);
        } else {
                struct nftnl_set *s = netiso_nl_set_named(table, c->name);
                struct nftnl_set_elem *e;
                gsize len = 0;
                const void *key;

                if (!c->key) {
                        /* A flush: the set's name alone. */
                        nftnl_set_elems_nlmsg_build_payload(h, s);
                        nftnl_set_free(s);
                        return;
                }
                e = nftnl_set_elem_alloc();
                key = g_bytes_get_data(c->key, &len);
                nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
                if (c->jump) {
                        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (guint32)NFT_JUMP);
                        nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, c->jump);
                } else if (c->data) {
                        const void *data = g_bytes_get_data(c->data, &len);
                        nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, len);
                }
                nftnl_set_elem_add(s, e);
                nftnl_set_elems_nlmsg_build_payload(h, s);
                nftnl_set_free(s);
        }
}

/* The batch as libnftnl pages, sequence numbers from begin on: begin, the
 * commands, a bulk batch's elements set by set, end. The begin message carries the generation to
 * bind it to (NFNL_BATCH_GENID). Only the last command asks for an acknowledgement (errors come
 * anyway). The first asks for an echo: the commit's NEWGEN notification goes to the sender when the
 * message after begin has NLM_F_ECHO (nf_tables_gen_notify() reads nlmsg_hdr() of the batch past
 * its begin message; tried on 6.18: NLM_F_ECHO on begin brings nothing). */
static struct nftnl_batch *
build(const NetisoNlBatch *b, guint32 begin, guint32 generation)
{
        struct nftnl_batch *nb = nftnl_batch_alloc(BATCH_PAGE, BATCH_OVERRUN);
        struct nlmsghdr *h;
        guint n = netiso_nl_batch_length(b);
        guint k = b->commands->len;

        if (!nb)
                g_error("out of memory for an nf_tables batch");
        h = nftnl_batch_begin(nftnl_batch_buffer(nb), begin);
        if (generation)
                mnl_attr_put_u32(h, NFNL_BATCH_GENID, htonl(generation));
        if (nftnl_batch_update(nb) < 0)
                g_error("out of memory for an nf_tables batch");
        for (guint i = 0; i < k; i++) {
                const Command *c = &g_array_index(b->commands, Command, i);
                guint16 flags = c->type == NFT_MSG_NEWSETELEM || c->type == NFT_MSG_NEWFLOWTABLE
                                        ? NLM_F_CREATE
                                        : 0;

                if (i == 0)
                        flags |= NLM_F_ECHO;
                if (i == n - 1)
                        flags |= NLM_F_ACK;
                flags |= c->flags;
                put_command(nb, b->table, c, flags, begin + 1 + i);
                if (nftnl_batch_update(nb) < 0)
                        g_error("out of memory for an nf_tables batch");
        }
        netiso_nl_batch_put_groups(nb, b, begin, &k, n);
        nftnl_batch_end(nftnl_batch_buffer(nb), begin + 1 + n);
        if (nftnl_batch_update(nb) < 0)
                g_error("out of memory for an nf_tables batch");
        return nb;
}

/* As libnftables does (mnl_set_sndbuffer, mnl_set_rcvbuffer): the send
 * buffer must hold the whole batch (netlink refuses a message larger, with
 * EMSGSIZE), and the receive buffer an answer to every command, or the
 * kernel drops answers (ENOBUFS). SO_*BUFFORCE needs CAP_NET_ADMIN, which
 * a commit needs anyway; SO_*BUF is the fallback, up to the system's limit. */
static void
grow_buffer(NetisoNl *nl, int *known, int option, int forced, int want)
{
        socklen_t len = sizeof(*known);
        int fd = mnl_socket_get_fd(nl->sock);

        /* Below every default (net.core.[rw]mem_default, 208 KiB): no need
         * to ask. The first answer always fits, and it decides. */
        if (want <= SMALL_BUFFER)
                return;
        if (*known == 0 && getsockopt(fd, SOL_SOCKET, option, known, &len) < 0)
                *known = 0;
        if (*known >= want)
                return;
        if (setsockopt(fd, SOL_SOCKET, forced, &want, sizeof(want)) < 0)
                setsockopt(fd, SOL_SOCKET, option, &want, sizeof(want));
        len = sizeof(*known);
        if (getsockopt(fd, SOL_SOCKET, option, known, &len) < 0)
                *known = 0;
}

static gsize
batch_bytes(const struct iovec *iov, int count)
{
        gsize total = 0;

        for (int i = 0; i < count; i++)
                total += iov[i].iov_len;
        return total;
}

/* The answers that decide a batch, in the order the kernel sends them:
 * a refusal of the batch as a whole (ERESTART, EPERM) or of its commit;
 * or the commit's NEWGEN, then each command's error, or acknowledgement
 * when asked for. Netlink drops answers only once the receive buffer is
 * full, so what arrives is always a prefix of what was sent: the first
 * answer alone decides. */
typedef struct {
        guint32 begin, first, last;
        guint32 generation; /* from NEWGEN */
        gboolean decided, committed, last_seen;
        int err, command;
} Answers;

static gboolean
ours(const Answers *a, guint32 seq)
{
        return seq >= a->begin && seq <= a->last;
}

static int
answer_data(const struct nlmsghdr *h, void *data)
{
        Answers *a = data;
        guint32 generation = 0;

        if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN) ||
            !ours(a, h->nlmsg_seq) || netiso_nl_parse_generation(h, &generation) != MNL_CB_OK)
                return MNL_CB_OK; /* the echo of the first command's change */
        /* Only a commit announces a generation. */
        a->generation = generation;
        if (!a->decided)
                a->decided = a->committed = TRUE;
        return MNL_CB_OK;
}

static int
answer_error(const struct nlmsghdr *h, void *data)
{
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
        Answers *a = data;

        if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) || !ours(a, h->nlmsg_seq))
                return MNL_CB_OK;
        if (h->nlmsg_seq == a->last)
                a->last_seen = TRUE;
        if (a->decided || (e->error == 0 && h->nlmsg_seq != a->last))
                return MNL_CB_OK;
        a->decided = TRUE;
        if (e->error == 0) {
                a->committed = TRUE;
                return MNL_CB_OK;
        }
        a->err = -e->error;
        a->command = h->nlmsg_seq >= a->first ? (int)(h->nlmsg_seq - a->first) : -1;
        return MNL_CB_OK;
}

/* Reads answers until the last one came or, once decided, none is left
 * (the kernel queues them all within the sendmsg() call); while undecided
 * it waits until the deadline. FALSE (error set) when nothing decided it. */
static gboolean
read_answers(NetisoNl *nl, Answers *a, GError **error)
{
        static mnl_cb_t control[NLMSG_ERROR + 1] = { [NLMSG_ERROR] = answer_error };
        gint64 deadline = g_get_monotonic_time() + (gint64)NETISO_NL_WAIT_MS * 1000;
        gboolean overrun = FALSE;

        while (!a->last_seen) {
                ssize_t n = netiso_nl_receive(nl);

                if (n < 0 && errno == ENOBUFS) {
                        overrun = TRUE;
                        continue;
                }
                /* Nothing queued: wait while undecided; once decided (or
                 * answers were dropped) nothing more is coming. */
                if (n < 0 && errno == EAGAIN && !a->decided && !overrun) {
                        if (!netiso_nl_wait(nl, deadline, error))
                                return FALSE;
                        continue;
                }
                if (n < 0)
                        break;
                mnl_cb_run2(nl->buf, n, 0, nl->portid, answer_data, a, control,
                            G_N_ELEMENTS(control));
        }
        if (a->decided)
                return TRUE;
        return netiso_nl_fail(error, "the answers to the batch were lost (%s)",
                              overrun ? "receive buffer overrun" : g_strerror(errno));
}

NetisoNlOutcome
netiso_nl_batch_commit(NetisoNl *nl, const NetisoNlBatch *batch, guint32 generation,
                       guint32 *ret_generation, int *ret_errno, int *ret_command, GError **error)
{
        guint n = netiso_nl_batch_length(batch);
        Answers a = { .begin = nl->seq + 1, .first = nl->seq + 2, .last = nl->seq + 1 + n };
        struct nftnl_batch *nb;
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa) };
        g_autofree struct iovec *iov = NULL;
        int count;
        ssize_t sent;

        *ret_generation = 0;
        *ret_errno = 0;
        *ret_command = -1;
        if (n == 0) {
                *ret_generation = generation;
                return NETISO_NL_COMMITTED;
        }
        nl->seq += n + 2;
        nb = build(batch, a.begin, generation);
        count = nftnl_batch_iovec_len(nb);
        iov = g_new(struct iovec, count);
        nftnl_batch_iovec(nb, iov, count);
        mh.msg_iov = iov;
        mh.msg_iovlen = count;
        grow_buffer(nl, &nl->sndbuf, SO_SNDBUF, SO_SNDBUFFORCE,
                    (int)MIN(batch_bytes(iov, count) + 4096, G_MAXINT / 4));
        grow_buffer(nl, &nl->rcvbuf, SO_RCVBUF, SO_RCVBUFFORCE,
                    (int)MIN((gsize)n * ANSWER_SIZE + ECHO_SIZE, G_MAXINT / 4));
        /* sendmsg(), not sendto(), as libnftables: the fault tests hold a
         * hook at its batch's sendmsg() on either path. */
        do
                sent = sendmsg(mnl_socket_get_fd(nl->sock), &mh, 0);
        while (sent < 0 && errno == EINTR);
        nftnl_batch_free(nb);
        if (sent < 0) {
                /* The kernel never saw it. */
                *ret_errno = errno;
                netiso_nl_fail(error, "send batch: %s", g_strerror(errno));
                return NETISO_NL_REFUSED;
        }
        if (!read_answers(nl, &a, error))
                return NETISO_NL_UNKNOWN;
        if (!a.committed) {
                *ret_errno = a.err;
                *ret_command = a.command;
                if (a.command < 0)
                        netiso_nl_fail(error, "batch refused: %s", g_strerror(a.err));
                else
                        netiso_nl_fail(error, "batch command %d refused: %s", a.command,
                                       g_strerror(a.err));
                return NETISO_NL_REFUSED;
        }
        /* No NEWGEN: the batch changed nothing (every command was an element
         * already there), so the generation is the one it was bound to, if
         * nothing else was committed since. */
        if (a.generation)
                *ret_generation = a.generation;
        else if (generation && netiso_nl_generation(nl, ret_generation, NULL) &&
                 *ret_generation != generation)
                *ret_generation = 0;
        return NETISO_NL_COMMITTED;
}
