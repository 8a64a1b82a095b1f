/* nft-monitor: nf_tables' change notifications, read on a thread with
 * libmnl (the generation and chain dumps with libnftnl). The kernel sends one
 * message per changed object and then NFT_MSG_NEWGEN, which closes the batch
 * and names the process that committed it; the committer's parent is read
 * from /proc right then, while an iptables-restore child is still alive. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/gen.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/nft-monitor.h"
#include "util/error.h"

/* A flush of a large ruleset is tens of thousands of messages sent at once;
 * what does not fit is lost (ENOBUFS), which is reported, never ignored. */
#define RCVBUF_BYTES (32 * 1024 * 1024)

/* Where summaries go; shared with the summaries in flight, which may run
 * after the monitor is gone (they then do nothing). Main context only. */
typedef struct {
        NetisoNftCommitFunc func;
        gpointer data;
        gboolean alive;
} Sink;

struct NetisoNftMonitor {
        struct mnl_socket *nl;
        int wake[2]; /* a pipe: writing to wake[1] stops the thread */
        GThread *thread;
        GMainContext *context;
        Sink *sink; /* an atomic reference-counted box */
        /* The batch being read (thread only). */
        guint touched;
        guint deleted;
        guint changes;
        char *what;    /* the most telling change so far */
        int what_rank; /* a table before a chain or set before a rule or element */
};

typedef struct {
        Sink *sink;
        NetisoNftCommit commit;
} Delivery;

static void
commit_clear(NetisoNftCommit *c)
{
        g_free(c->comm);
        g_free(c->parent_comm);
        g_free(c->what);
}

static void
delivery_free(gpointer data)
{
        Delivery *d = data;

        commit_clear(&d->commit);
        g_atomic_rc_box_release(d->sink);
        g_free(d);
}

static gboolean
deliver(gpointer data)
{
        Delivery *d = data;

        if (d->sink->alive)
                d->sink->func(&d->commit, d->sink->data);
        return G_SOURCE_REMOVE;
}

static void
post(NetisoNftMonitor *m, NetisoNftCommit *commit)
{
        Delivery *d = g_new0(Delivery, 1);
        GSource *source = g_idle_source_new();

        d->sink = g_atomic_rc_box_acquire(m->sink);
        d->commit = *commit;
        g_source_set_priority(source, G_PRIORITY_HIGH);
        g_source_set_callback(source, deliver, d, delivery_free);
        g_source_attach(source, m->context);
        g_source_unref(source);
}

/* ---- which objects are watched ---- */

static gboolean
is_ipt_chain(const char *chain)
{
        /* The built-in chains hold our jumps; the rest are ours (ipt-ruleset.h). */
        return !chain || g_str_equal(chain, "FORWARD") || g_str_equal(chain, "INPUT") ||
               g_str_equal(chain, "OUTPUT") || g_str_has_prefix(chain, "BLIXARD_") ||
               g_str_has_prefix(chain, "BLX");
}

/* chain is NULL for a change of the table itself or of a set. */
static guint
classify(guint32 family, const char *table, const char *chain)
{
        if (!table)
                return 0;
        /* Both of our tables: inet, and bridge for bridged guests. */
        if ((family == NFPROTO_INET || family == NFPROTO_BRIDGE) && g_str_equal(table, "blixard"))
                return NETISO_NFT_TOUCHED_BLIXARD;
        if ((family == NFPROTO_IPV4 || family == NFPROTO_IPV6) && g_str_equal(table, "filter") &&
            is_ipt_chain(chain))
                return NETISO_NFT_TOUCHED_IPT;
        return 0;
}

static const char *
family_name(guint32 family)
{
        switch (family) {
        case NFPROTO_INET:
                return "inet";
        case NFPROTO_BRIDGE:
                return "bridge";
        case NFPROTO_IPV4:
                return "ip";
        case NFPROTO_IPV6:
                return "ip6";
        default:
                return "?";
        }
}

/* ---- one message ---- */

typedef struct {
        guint32 family;
        const char *table;
        const char *chain; /* chain of a rule or chain message */
        const char *object;
        const char *kind; /* as nft names it: "table", "chain", "rule", "set", "element" */
} Target;

static void
note(NetisoNftMonitor *m, gboolean deleted, const Target *t)
{
        guint touched = classify(t->family, t->table, t->chain);
        int rank;

        if (!touched)
                return;
        if (deleted && g_str_equal(t->kind, "table"))
                m->deleted |= t->family == NFPROTO_INET || t->family == NFPROTO_BRIDGE
                                      ? NETISO_NFT_DELETED_BLIXARD
                              : t->family == NFPROTO_IPV4 ? NETISO_NFT_DELETED_IP_FILTER
                                                          : NETISO_NFT_DELETED_IP6_FILTER;
        m->touched |= touched;
        m->changes++;
        rank = g_str_equal(t->kind, "table")                                  ? 3
               : g_str_equal(t->kind, "chain") || g_str_equal(t->kind, "set") ? 2
                                                                              : 1;
        if (m->what && rank <= m->what_rank)
                return;
        g_free(m->what);
        m->what_rank = rank;
        m->what = g_strdup_printf("%s %s %s %s%s%s", deleted ? "deleted" : "added", t->kind,
                                  family_name(t->family), t->table, t->object ? " " : "",
                                  t->object ? t->object : "");
}

/* The names a message carries, read with libmnl from its top-level
 * attributes alone. libnftnl would parse every expression of every rule: a
 * flush of a large iptables-nft table is tens of thousands of rules, and
 * reading them whole delayed the restore by about 100 ms at 1,000 guests. */
typedef struct {
        guint16 table_attr;
        guint16 name_attr;
        const char *table;
        const char *name;
} Names;

static int
names_attr(const struct nlattr *attr, void *data)
{
        Names *n = data;
        guint16 type = mnl_attr_get_type(attr);

        if (type != n->table_attr && type != n->name_attr)
                return MNL_CB_OK;
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
                return MNL_CB_OK;
        if (type == n->table_attr)
                n->table = mnl_attr_get_str(attr);
        else
                n->name = mnl_attr_get_str(attr);
        return MNL_CB_OK;
}

static void
parse_object(NetisoNftMonitor *m, const struct nlmsghdr *nlh, int type)
{
        static const struct {
                int new_type, del_type;
                guint16 table_attr, name_attr;
                const char *kind;
        } kinds[] = {
                { NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFTA_TABLE_NAME, 0, "table" },
                { NFT_MSG_NEWCHAIN, NFT_MSG_DELCHAIN, NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, "chain" },
                { NFT_MSG_NEWRULE, NFT_MSG_DELRULE, NFTA_RULE_TABLE, NFTA_RULE_CHAIN, "rule" },
                { NFT_MSG_NEWSET, NFT_MSG_DELSET, NFTA_SET_TABLE, NFTA_SET_NAME, "set" },
                { NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM, NFTA_SET_ELEM_LIST_TABLE,
                  NFTA_SET_ELEM_LIST_SET, "element" },
                { NFT_MSG_NEWOBJ, NFT_MSG_DELOBJ, NFTA_OBJ_TABLE, NFTA_OBJ_NAME, "object" },
                { NFT_MSG_NEWFLOWTABLE, NFT_MSG_DELFLOWTABLE, NFTA_FLOWTABLE_TABLE,
                  NFTA_FLOWTABLE_NAME, "flowtable" },
        };
        const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
                return;
        /* Traces, generations and types this build does not know are skipped. */
        for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
                Names n = { kinds[i].table_attr, kinds[i].name_attr, NULL, NULL };
                gboolean deleted = type == kinds[i].del_type;
                Target t;

                if (type != kinds[i].new_type && !deleted)
                        continue;
                mnl_attr_parse(nlh, sizeof(*g), names_attr, &n);
                t = (Target){ g->nfgen_family, n.table,
                              type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN ||
                                              type == NFT_MSG_NEWRULE || type == NFT_MSG_DELRULE
                                      ? n.name
                                      : NULL,
                              n.name, kinds[i].kind };
                note(m, deleted, &t);
                return;
        }
}

/* ---- the end of a batch: who committed it ---- */

static char *
read_comm(guint32 pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%u/comm", pid);
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return g_strchomp(text);
}

static guint32
read_ppid(guint32 pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%u/stat", pid);
        g_autofree char *text = NULL;
        const char *p;
        guint ppid = 0;

        /* "PID (COMM) STATE PPID ...": the name may hold spaces and ')'. */
        if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strrchr(text, ')')))
                return 0;
        if (sscanf(p + 1, " %*c %u", &ppid) != 1)
                return 0;
        return ppid;
}

static int
gen_attr(const struct nlattr *attr, void *data)
{
        const struct nlattr **tb = data;
        int type = mnl_attr_get_type(attr);

        if (mnl_attr_type_valid(attr, NFTA_GEN_MAX) < 0)
                return MNL_CB_OK; /* newer than these headers: skip it */
        if ((type == NFTA_GEN_ID || type == NFTA_GEN_PROC_PID) &&
            mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
                return MNL_CB_OK;
        if (type == NFTA_GEN_PROC_NAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
                return MNL_CB_OK;
        tb[type] = attr;
        return MNL_CB_OK;
}

static void
end_batch(NetisoNftMonitor *m, const struct nlmsghdr *nlh)
{
        const struct nlattr *tb[NFTA_GEN_MAX + 1] = { NULL };
        NetisoNftCommit c = { 0 };
        struct nftnl_gen *gen = nftnl_gen_alloc();

        if (m->touched) {
                /* libnftnl 1.2.4 parses the generation id only; libmnl the rest. */
                if (gen && nftnl_gen_nlmsg_parse(nlh, gen) == 0)
                        c.gen = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
                mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, tb);
                if (tb[NFTA_GEN_PROC_PID])
                        c.pid = ntohl(mnl_attr_get_u32(tb[NFTA_GEN_PROC_PID]));
                if (tb[NFTA_GEN_PROC_NAME])
                        c.comm = g_strdup(mnl_attr_get_str(tb[NFTA_GEN_PROC_NAME]));
                if (c.pid) {
                        c.ppid = read_ppid(c.pid);
                        c.parent_comm = c.ppid ? read_comm(c.ppid) : NULL;
                }
                c.received = g_get_monotonic_time();
                c.touched = m->touched;
                c.deleted = m->deleted;
                c.changes = m->changes;
                c.what = g_steal_pointer(&m->what);
                post(m, &c);
        }
        nftnl_gen_free(gen);
        m->touched = 0;
        m->deleted = 0;
        m->changes = 0;
        g_clear_pointer(&m->what, g_free);
}

static int
on_message(const struct nlmsghdr *nlh, void *data)
{
        NetisoNftMonitor *m = data;
        int type = NFNL_MSG_TYPE(nlh->nlmsg_type);

        if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
                return MNL_CB_OK;
        if (type == NFT_MSG_NEWGEN)
                end_batch(m, nlh);
        else
                parse_object(m, nlh, type);
        return MNL_CB_OK;
}

static void
report_lost(NetisoNftMonitor *m)
{
        NetisoNftCommit c = { .touched = NETISO_NFT_TOUCHED_BLIXARD | NETISO_NFT_TOUCHED_IPT,
                              .lost = TRUE,
                              .received = g_get_monotonic_time() };

        /* The batch being read is incomplete: what it touched is unknown. */
        m->touched = 0;
        m->deleted = 0;
        m->changes = 0;
        g_clear_pointer(&m->what, g_free);
        c.what = g_strdup("lost notifications (receive buffer full)");
        post(m, &c);
}

static gpointer
run(gpointer data)
{
        NetisoNftMonitor *m = data;
        gsize size = 65536;
        g_autofree char *buf = g_malloc(size);
        struct pollfd fds[2] = {
                { .fd = mnl_socket_get_fd(m->nl), .events = POLLIN },
                { .fd = m->wake[0], .events = POLLIN },
        };

        for (;;) {
                ssize_t n;

                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (fds[1].revents)
                        break;
                n = mnl_socket_recvfrom(m->nl, buf, size);
                if (n < 0) {
                        if (errno == ENOBUFS)
                                report_lost(m);
                        else if (errno != EINTR && errno != EAGAIN)
                                g_usleep(100000); /* never spin on a broken socket */
                        continue;
                }
                mnl_cb_run(buf, n, 0, 0, on_message, m);
        }
        return NULL;
}

NetisoNftMonitor *
netiso_nft_monitor_new(NetisoNftCommitFunc func, gpointer data, GError **error)
{
        g_autoptr(NetisoNftMonitor) m = g_new0(NetisoNftMonitor, 1);
        int group = NFNLGRP_NFTABLES;
        int size = RCVBUF_BYTES;
        int fd;

        m->wake[0] = m->wake[1] = -1;
        m->sink = g_atomic_rc_box_new0(Sink);
        m->sink->func = func;
        m->sink->data = data;
        m->sink->alive = TRUE;
        m->nl = mnl_socket_open(NETLINK_NETFILTER);
        if (!m->nl || mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
            mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "cannot follow nf_tables notifications (netlink group %d): %s", group,
                            g_strerror(errno));
                return NULL;
        }
        fd = mnl_socket_get_fd(m->nl);
        /* FORCE goes past net.core.rmem_max, which root may. */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (!g_unix_open_pipe(m->wake, FD_CLOEXEC, error))
                return NULL;
        m->context = g_main_context_ref_thread_default();
        m->thread = g_thread_new("nft-monitor", run, m);
        return g_steal_pointer(&m);
}

void
netiso_nft_monitor_free(NetisoNftMonitor *m)
{
        if (!m)
                return;
        if (m->thread) {
                (void)!write(m->wake[1], "x", 1);
                g_thread_join(m->thread);
        }
        if (m->wake[0] >= 0)
                close(m->wake[0]);
        if (m->wake[1] >= 0)
                close(m->wake[1]);
        if (m->nl)
                mnl_socket_close(m->nl);
        if (m->context)
                g_main_context_unref(m->context);
        m->sink->alive = FALSE;
        g_atomic_rc_box_release(m->sink);
        g_free(m->what);
        g_free(m);
}

/* ---- the current generation ---- */

static int
on_gen(const struct nlmsghdr *nlh, void *data)
{
        guint32 *ret_gen = data;
        struct nftnl_gen *gen = nftnl_gen_alloc();
        int r = MNL_CB_ERROR;

        if (gen && nftnl_gen_nlmsg_parse(nlh, gen) == 0) {
                *ret_gen = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
                r = MNL_CB_STOP;
        }
        nftnl_gen_free(gen);
        return r;
}

gboolean
netiso_nft_current_generation(guint32 *ret_gen, GError **error)
{
        char buf[8192]; /* MNL_SOCKET_BUFFER_SIZE at most */
        struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
        guint32 seq = (guint32)g_get_monotonic_time();
        struct nlmsghdr *nlh;
        ssize_t n = -1;
        int r = -1;

        if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0) {
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, seq);
                if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0)
                        n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                if (n > 0)
                        r = mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), on_gen, ret_gen);
        }
        if (r < 0 || n <= 0)
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "cannot read the nf_tables ruleset generation: %s",
                            g_strerror(errno ? errno : EIO));
        if (nl)
                mnl_socket_close(nl);
        return r >= 0 && n > 0;
}

/* ---- the chains of a table ---- */

typedef struct {
        const char *table;
        GPtrArray *names;
} ChainDump;

static int
on_chain(const struct nlmsghdr *nlh, void *data)
{
        ChainDump *dump = data;
        struct nftnl_chain *c = nftnl_chain_alloc();

        if (c && nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
            g_strcmp0(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), dump->table) == 0)
                g_ptr_array_add(dump->names, g_strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)));
        nftnl_chain_free(c);
        return MNL_CB_OK;
}

/* NLM_F_DUMP_INTR: the ruleset changed during the dump, which is then torn. */
static gboolean
interrupted(const char *buf, ssize_t len)
{
        int left = (int)len;

        for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
             h = mnl_nlmsg_next(h, &left))
                if (h->nlmsg_flags & NLM_F_DUMP_INTR)
                        return TRUE;
        return FALSE;
}

/* One dump; FALSE with errno set, EINTR when it was torn. */
static gboolean
dump_chains(struct mnl_socket *nl, guint32 family, ChainDump *dump)
{
        gsize size = 65536;
        g_autofree char *buf = g_malloc(size);
        guint32 seq = (guint32)g_get_monotonic_time();
        struct nlmsghdr *nlh =
                nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, (uint16_t)family, NLM_F_DUMP, seq);
        int r = MNL_CB_OK;

        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return FALSE;
        while (r > MNL_CB_STOP) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, size);

                if (n <= 0)
                        return FALSE;
                if (interrupted(buf, n)) {
                        errno = EINTR;
                        return FALSE;
                }
                r = mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), on_chain, dump);
        }
        return r == MNL_CB_STOP;
}

GPtrArray *
netiso_nft_list_chains(guint32 family, const char *table, GError **error)
{
        struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
        ChainDump dump = { table, NULL };
        gboolean ok = FALSE;

        if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0) {
                for (int attempt = 0; !ok && attempt < 10; attempt++) {
                        g_clear_pointer(&dump.names, g_ptr_array_unref);
                        dump.names = g_ptr_array_new_with_free_func(g_free);
                        ok = dump_chains(nl, family, &dump);
                        if (!ok && errno != EINTR)
                                break;
                }
        }
        if (!ok) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "cannot list the chains of table %s: %s", table,
                            g_strerror(errno ? errno : EIO));
                g_clear_pointer(&dump.names, g_ptr_array_unref);
        }
        if (nl)
                mnl_socket_close(nl);
        return dump.names;
}
