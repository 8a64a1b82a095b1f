/* Small-packet sender for bench/data-path.sh: 64-byte UDP datagrams from
 * guest 1 to guest 2 of several hosts in alternating slices, counting what
 * arrives ("new": one-way flows; "established": answered once first). */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 64
#define PAYLOAD 64
#define DISCARD_PORT 9

typedef struct {
        char *label;
        int dst_ns; /* guest 2's namespace, where packets are counted */
        int fd;     /* a UDP socket made in guest 1's namespace */
} Target;

static double
now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
open_ns(const char *name)
{
        g_autofree char *path = g_build_filename("/run/netns", name, NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return fd;
}

static gboolean
enter(int ns)
{
        if (setns(ns, CLONE_NEWNET) == 0)
                return TRUE;
        fprintf(stderr, "setns: %s\n", strerror(errno));
        return FALSE;
}

/* Received packets of eth0 in the current namespace: /proc/self/net
 * follows the namespace of the reading task, unlike /sys. */
static guint64
rx_packets(void)
{
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        guint64 packets = 0;

        if (!g_file_get_contents("/proc/self/net/dev", &text, NULL, NULL))
                return 0;
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i]; i++) {
                const char *line = g_strchug(lines[i]);
                guint64 bytes;

                if (g_str_has_prefix(line, "eth0:") &&
                    sscanf(line + 5, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &bytes,
                           &packets) == 2)
                        return packets;
        }
        return 0;
}

/* Guest 2 answers the flow once, from the port the flood goes to, so that
 * the host's conntrack entry for it is established. */
static gboolean
answer_once(const Target *t, int home)
{
        struct sockaddr_in src, dst;
        socklen_t len = sizeof(src);
        int fd, one = 1;
        char byte = 0;

        if (send(t->fd, &byte, 1, 0) < 0 || getsockname(t->fd, (struct sockaddr *)&src, &len) < 0)
                return FALSE;
        len = sizeof(dst);
        if (getpeername(t->fd, (struct sockaddr *)&dst, &len) < 0)
                return FALSE;
        g_usleep(20000);
        if (!enter(t->dst_ns))
                return FALSE;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
            sendto(fd, &byte, 1, 0, (struct sockaddr *)&src, sizeof(src)) < 0) {
                fprintf(stderr, "%s: answer: %s\n", t->label, strerror(errno));
                return FALSE;
        }
        close(fd);
        g_usleep(20000);
        return enter(home);
}

/* LABEL,SRC-NETNS,DST-NETNS,DST-ADDRESS */
static gboolean
target_open(const char *spec, int home, Target *t)
{
        g_auto(GStrv) f = g_strsplit(spec, ",", -1);
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(DISCARD_PORT) };
        int src;

        if (g_strv_length(f) != 4 || inet_pton(AF_INET, f[3], &to.sin_addr) != 1) {
                fprintf(stderr, "target '%s': want LABEL,SRC-NETNS,DST-NETNS,IPV4\n", spec);
                return FALSE;
        }
        t->label = g_strdup(f[0]);
        src = open_ns(f[1]);
        t->dst_ns = open_ns(f[2]);
        if (src < 0 || t->dst_ns < 0 || !enter(src))
                return FALSE;
        t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (t->fd < 0 || connect(t->fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
                fprintf(stderr, "%s: socket: %s\n", t->label, strerror(errno));
                return FALSE;
        }
        close(src);
        return enter(home);
}

/* Send for slice_s seconds; returns packets per second that arrived. */
static double
slice(const Target *t, int home, double slice_s)
{
        static char payload[PAYLOAD];
        struct iovec iov = { payload, sizeof(payload) };
        struct mmsghdr msgs[BURST];
        guint64 before, after;
        double t0, t1;

        for (int i = 0; i < BURST; i++)
                msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
        if (!enter(t->dst_ns))
                return 0;
        before = rx_packets();
        enter(home);
        t0 = now_s();
        do {
                /* A full queue (ENOBUFS) just means the host is the bottleneck. */
                if (sendmmsg(t->fd, msgs, BURST, 0) < 0 && errno != ENOBUFS && errno != EAGAIN &&
                    errno != EINTR && errno != ECONNREFUSED) {
                        fprintf(stderr, "%s: send: %s\n", t->label, strerror(errno));
                        return 0;
                }
        } while ((t1 = now_s()) - t0 < slice_s);
        g_usleep(20000); /* let the last packets land */
        if (!enter(t->dst_ns))
                return 0;
        after = rx_packets();
        enter(home);
        return (double)(after - before) / (t1 - t0);
}

int
main(int argc, char **argv)
{
        g_autofree Target *targets = NULL;
        const char *mode, *test;
        double slice_s;
        int rounds, n, home;

        if (argc < 5 || (strcmp(argv[1], "new") != 0 && strcmp(argv[1], "established") != 0)) {
                fprintf(stderr,
                        "usage: %s new|established SLICE-MS ROUNDS TARGET...\n"
                        "  TARGET: LABEL,SRC-NETNS,DST-NETNS,DST-IPV4\n"
                        "  prints ROUND LABEL small-new|small-est KPPS per slice\n",
                        argv[0]);
                return 2;
        }
        mode = argv[1];
        test = g_str_equal(mode, "new") ? "small-new" : "small-est";
        slice_s = atof(argv[2]) / 1000;
        rounds = atoi(argv[3]);
        if (slice_s <= 0 || rounds < 1) {
                fprintf(stderr, "%s: SLICE-MS and ROUNDS must be positive\n", argv[0]);
                return 2;
        }
        home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        n = argc - 4;
        targets = g_new0(Target, n);
        for (int i = 0; i < n; i++) {
                if (home < 0 || !target_open(argv[4 + i], home, &targets[i]))
                        return 1;
                if (g_str_equal(mode, "established") && !answer_once(&targets[i], home))
                        return 1;
        }
        /* A first slice each resolves neighbours and creates the conntrack entry. */
        for (int i = 0; i < n; i++)
                slice(&targets[i], home, slice_s);
        for (int r = 1; r <= rounds; r++)
                for (int i = 0; i < n; i++)
                        printf("%d %s %s %.1f\n", r, targets[i].label, test,
                               slice(&targets[i], home, slice_s) / 1000);
        return 0;
}
