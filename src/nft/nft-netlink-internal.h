/* What nft-netlink.c (the socket and queries) shares with nft-batch.c
 * (batches) and nobody else: the socket's insides and its I/O. It names
 * struct NetisoNl itself so that it includes no header of the module. */
#pragma once

#include <glib.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <sys/types.h>

/* The kernel answers within the sendmsg() of a batch (and a dump within
 * each recvmsg()): waiting this long means it is not going to. */
#define NETISO_NL_WAIT_MS 2000
/* A dump part is at most 32 KiB (netlink's max_recvmsg_len). */
#define NETISO_NL_RECV_SIZE 65536

struct NetisoNl {
        struct mnl_socket *sock;
        guint32 portid;
        guint32 seq;
        int rcvbuf, sndbuf; /* what the socket holds, 0 until asked */
        guint64 netns;      /* SO_NETNS_COOKIE, 0 until asked */
        guint8 *buf;        /* NETISO_NL_RECV_SIZE */
};

/* Sets error to "nf_tables netlink: ..." and returns FALSE. */
gboolean netiso_nl_fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Waits until the socket has something to read, at most until deadline
 * (g_get_monotonic_time()). */
gboolean netiso_nl_wait(struct NetisoNl *nl, gint64 deadline, GError **error);

/* One datagram into nl->buf: its length, or -1 with errno (EAGAIN when
 * none is waiting, ENOBUFS when the kernel dropped answers). */
ssize_t netiso_nl_receive(struct NetisoNl *nl);

/* A libnftnl set object naming table and set. */
struct nftnl_set *netiso_nl_set_named(const char *table, const char *set);

/* A NEWGEN message's generation (libmnl callback: data is a guint32 *). */
int netiso_nl_parse_generation(const struct nlmsghdr *h, void *data);
