/* netprobe: the end-to-end tier's one traffic tool (static, for the busybox
 * guests and the namespaces): a server answering and logging TCP and UDP,
 * a client that reports ok only on a reply, a stream of such probes, DNS
 * queries, and (netprobe-l2.c) crafted frames and an observer of them. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "netprobe.h"

#define MAX_LISTEN 24
#define MAX_FDS 256

static int
usage(void)
{
        fprintf(stderr,
                "usage: netprobe serve NAME tcp|udp PORT [tcp|udp PORT ...]\n"
                "       netprobe send tcp|udp ADDR PORT TOKEN [SRC|ADDR@PORT|-@PORT|-] [TIMEOUT_MS] [TRIES]\n"
                "       netprobe stream udp ADDR PORT TAG INTERVAL_MS [TIMEOUT_MS] [COUNT]\n"
                "       netprobe dns udp|tcp SERVER NAME [TIMEOUT_MS] [TRIES]\n"
                "       netprobe frame IFACE KIND ARGS...   (netprobe-l2.c)\n"
                "       netprobe sniff IFACE\n");
        return 2;
}

/* Parses a numeric IPv4 or IPv6 address into a socket address of its own family. */
static int
parse_addr(const char *s, int port, struct sockaddr_storage *ss, socklen_t *len)
{
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

        memset(ss, 0, sizeof(*ss));
        if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons(port);
                *len = sizeof(*in4);
                return 0;
        }
        if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                *len = sizeof(*in6);
                return 0;
        }
        return -1;
}

static void
format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

        if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
                inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, len);
        else if (ss->ss_family == AF_INET6)
                inet_ntop(AF_INET6, &in6->sin6_addr, buf, len);
        else
                inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, len);
}

static long
now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The token is the first word of what the peer sent, limited to a safe alphabet so that
 * the log line stays one parseable line whatever arrives. */
static void
clean_token(char *buf, ssize_t n)
{
        ssize_t i;

        if (n < 0)
                n = 0;
        buf[n] = '\0';
        for (i = 0; i < n; i++) {
                char c = buf[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == ':')) {
                        buf[i] = '\0';
                        break;
                }
        }
        if (buf[0] == '\0')
                strcpy(buf, "-");
}

/* TCP listens dual-stack on one socket; UDP on one socket per family, so that a reply
 * can leave from the address the datagram was sent to (IP_PKTINFO/IPV6_PKTINFO): with a
 * wildcard socket the kernel would pick the route's source and the client would drop it. */
static int
listen_on(const char *proto, int port, int family)
{
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
        struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_addr.s_addr = INADDR_ANY };
        int tcp = strcmp(proto, "tcp") == 0;
        int fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
        int v6only = !tcp, one = 1, rc;

        if (fd < 0)
                return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (family == AF_INET6) {
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
                setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
                in6.sin6_port = htons(port);
                rc = bind(fd, (struct sockaddr *)&in6, sizeof(in6));
        } else {
                setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
                in4.sin_port = htons(port);
                rc = bind(fd, (struct sockaddr *)&in4, sizeof(in4));
        }
        if (rc < 0 || (tcp && listen(fd, 64) < 0)) {
                close(fd);
                return -1;
        }
        return fd;
}

/* A TCP peer's token arrived (or it gave up): log it, answer, close. */
static void
answer_tcp(int fd, const char *name, int port)
{
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        char from[INET6_ADDRSTRLEN] = "?", buf[256], reply[320];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        int len;

        if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
                format_addr(&peer, from, sizeof(from));
        clean_token(buf, n);
        printf("RECV id=%s proto=tcp port=%d from=%s token=%s\n", name, port, from, buf);
        fflush(stdout);
        len = snprintf(reply, sizeof(reply), "%s %s\n", name, buf);
        if (write(fd, reply, len) < 0) {
                /* the client gave up; the log line above is what counts */
        }
        close(fd);
}

static void
serve_udp(int fd, const char *name, int port)
{
        struct sockaddr_storage peer;
        char from[INET6_ADDRSTRLEN], buf[256], reply[320];
        union {
                char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
                struct cmsghdr align;
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr msg = { .msg_name = &peer,
                              .msg_namelen = sizeof(peer),
                              .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = control.buf,
                              .msg_controllen = sizeof(control.buf) };
        struct cmsghdr *cmsg;
        ssize_t n = recvmsg(fd, &msg, 0);

        if (n < 0)
                return;
        clean_token(buf, n);
        format_addr(&peer, from, sizeof(from));
        printf("RECV id=%s proto=udp port=%d from=%s token=%s\n", name, port, from, buf);
        fflush(stdout);
        /* Reply from the address the datagram was sent to: keep only the packet info. */
        for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
                if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO) {
                        struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cmsg);
                        pi->ipi_spec_dst = pi->ipi_addr;
                        pi->ipi_ifindex = 0;
                }
        }
        iov.iov_base = reply;
        iov.iov_len = snprintf(reply, sizeof(reply), "%s %s\n", name, buf);
        sendmsg(fd, &msg, 0);
}

/* One poll loop for every listener and every accepted connection, so that a slow
 * client never delays another (guests under TCG are slow). */
static int
serve(int argc, char **argv)
{
        struct pollfd pfd[MAX_FDS];
        int port[MAX_FDS], kind[MAX_FDS]; /* kind: 0 udp, 1 tcp listener, 2 connection */
        long deadline[MAX_FDS];
        const char *name = argv[0];
        int n = 0, nlisten, i, f;

        for (i = 1; i + 1 < argc; i += 2) {
                int is_tcp = strcmp(argv[i], "tcp") == 0;

                for (f = 0; f < (is_tcp ? 1 : 2) && n < MAX_LISTEN; f++, n++) {
                        port[n] = atoi(argv[i + 1]);
                        kind[n] = is_tcp;
                        pfd[n].fd = listen_on(argv[i], port[n], f ? AF_INET : AF_INET6);
                        pfd[n].events = POLLIN;
                        if (pfd[n].fd < 0) {
                                fprintf(stderr, "netprobe: cannot listen on %s/%s: %s\n", argv[i],
                                        argv[i + 1], strerror(errno));
                                return 1;
                        }
                }
        }
        nlisten = n;
        printf("LISTEN id=%s sockets=%d\n", name, n);
        fflush(stdout);
        for (;;) {
                if (poll(pfd, n, n > nlisten ? 200 : -1) < 0 && errno != EINTR)
                        return 1;
                for (i = 0; i < n; i++) {
                        if (kind[i] == 2 && (pfd[i].revents || now_ms() > deadline[i])) {
                                answer_tcp(pfd[i].fd, name, port[i]);
                                pfd[i].fd = -1;
                        } else if (kind[i] == 1 && (pfd[i].revents & POLLIN)) {
                                int c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);

                                if (c < 0)
                                        continue;
                                if (n == MAX_FDS) {
                                        answer_tcp(c, name, port[i]);
                                        continue;
                                }
                                pfd[n].fd = c;
                                pfd[n].events = POLLIN;
                                pfd[n].revents = 0;
                                port[n] = port[i];
                                kind[n] = 2;
                                deadline[n] = now_ms() + 3000;
                                n++;
                        } else if (kind[i] == 0 && (pfd[i].revents & POLLIN)) {
                                serve_udp(pfd[i].fd, name, port[i]);
                        }
                }
                /* drop finished connections, keeping the order of the others */
                for (i = f = nlisten; i < n; i++) {
                        if (pfd[i].fd < 0)
                                continue;
                        pfd[f] = pfd[i];
                        port[f] = port[i];
                        kind[f] = kind[i];
                        deadline[f] = deadline[i];
                        f++;
                }
                n = f;
        }
}

/* One attempt: returns 0 and fills reply when the server answered with our token. */
static int
send_once(int tcp, const struct sockaddr_storage *dst, socklen_t dlen,
          const struct sockaddr_storage *src, socklen_t slen, const char *token, int timeout_ms,
          char *reply, size_t rlen, const char **why)
{
        int fd = socket(dst->ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
        long deadline = now_ms() + timeout_ms;
        char msg[256];
        size_t got = 0;
        struct pollfd p;
        int err = 0, rc = -1;
        socklen_t elen = sizeof(err);

        *why = "socket";
        if (fd < 0)
                return -1;
        if (slen)
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
        if (slen && bind(fd, (const struct sockaddr *)src, slen) < 0) {
                *why = "bind";
                goto out;
        }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        p.fd = fd;
        if (connect(fd, (const struct sockaddr *)dst, dlen) < 0 && errno != EINPROGRESS) {
                *why = "connect";
                goto out;
        }
        if (tcp) {
                p.events = POLLOUT;
                if (poll(&p, 1, timeout_ms) != 1) {
                        *why = "timeout";
                        goto out;
                }
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
                if (err) {
                        *why = err == ECONNREFUSED ? "refused" : "unreachable";
                        goto out;
                }
        }
        snprintf(msg, sizeof(msg), "%s\n", token);
        if (send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0) {
                *why = errno == ECONNREFUSED ? "refused" : "send";
                goto out;
        }
        *why = "timeout";
        while (got + 1 < rlen) {
                long left = deadline - now_ms();
                ssize_t n;

                p.events = POLLIN;
                if (left <= 0 || poll(&p, 1, (int)left) != 1)
                        break;
                n = recv(fd, reply + got, rlen - 1 - got, 0);
                if (n < 0 && errno == ECONNREFUSED) {
                        *why = "refused";
                        break;
                }
                if (n <= 0)
                        break;
                got += n;
                reply[got] = '\0';
                if (strchr(reply, '\n') || !tcp)
                        break;
        }
        reply[got] = '\0';
        if (got && strstr(reply, token)) {
                reply[strcspn(reply, "\n")] = '\0';
                rc = 0;
        } else if (got) {
                *why = "badreply";
        }
out:
        close(fd);
        return rc;
}

/* A probe's source: ADDR, ADDR@PORT, or -@PORT (any address of the destination's
 * family, a fixed port: a flow whose tuple the test knows). */
static int
parse_src(const char *s, int family, struct sockaddr_storage *ss, socklen_t *len)
{
        char addr[INET6_ADDRSTRLEN + 1];
        const char *at = strchr(s, '@');
        int port = at ? atoi(at + 1) : 0;
        size_t n = at ? (size_t)(at - s) : strlen(s);

        if (n >= sizeof(addr))
                return -1;
        memcpy(addr, s, n);
        addr[n] = '\0';
        if (strcmp(addr, "-") == 0)
                snprintf(addr, sizeof(addr), "%s", family == AF_INET ? "0.0.0.0" : "::");
        return parse_addr(addr, port, ss, len);
}

static int
send_probe(int argc, char **argv)
{
        struct sockaddr_storage dst, src;
        socklen_t dlen, slen = 0;
        int tcp = strcmp(argv[0], "tcp") == 0;
        int timeout_ms = argc > 5 ? atoi(argv[5]) : 2000;
        int tries = argc > 6 ? atoi(argv[6]) : 1;
        const char *why = "none";
        char reply[320];
        int i;

        if (parse_addr(argv[1], atoi(argv[2]), &dst, &dlen) < 0)
                return usage();
        if (argc > 4 && strcmp(argv[4], "-") != 0 &&
            parse_src(argv[4], dst.ss_family, &src, &slen) < 0)
                return usage();
        for (i = 0; i < tries; i++) {
                long start = now_ms();

                if (send_once(tcp, &dst, dlen, &src, slen, argv[3], timeout_ms, reply,
                              sizeof(reply), &why) == 0) {
                        printf("ok %s\n", reply);
                        return 0;
                }
                /* a refusal comes back at once: pace the retries anyway */
                if (i + 1 < tries && now_ms() - start < timeout_ms)
                        usleep((timeout_ms - (now_ms() - start)) * 1000L);
        }
        printf("fail %s\n", why);
        return 1;
}

/* netprobe dns udp|tcp SERVER NAME [TIMEOUT_MS] [TRIES]: an A query; ok when the server
 * answers it with at least one record. */
static int
dns_probe(int argc, char **argv)
{
        struct sockaddr_storage dst;
        socklen_t dlen;
        int tcp = strcmp(argv[0], "tcp") == 0;
        int timeout_ms = argc > 3 ? atoi(argv[3]) : 2000;
        int tries = argc > 4 ? atoi(argv[4]) : 1;
        unsigned char q[300], r[600];
        const char *why = "timeout";
        size_t qlen = 2 + 12;
        char name[256];

        if (parse_addr(argv[1], 53, &dst, &dlen) < 0 || strlen(argv[2]) > 200)
                return usage();
        /* the query after a 2-byte length (TCP's framing; UDP sends from q + 2) */
        memset(q, 0, sizeof(q));
        q[2] = 0x4e;
        q[3] = (unsigned char)(getpid() & 0xff);
        q[4] = 0x01; /* recursion desired */
        q[7] = 1;    /* one question */
        snprintf(name, sizeof(name), "%s", argv[2]);
        for (char *label = strtok(name, "."); label; label = strtok(NULL, ".")) {
                size_t l = strlen(label);
                q[qlen++] = (unsigned char)l;
                memcpy(q + qlen, label, l);
                qlen += l;
        }
        q[qlen++] = 0;
        q[qlen + 1] = 1; /* type A */
        q[qlen + 3] = 1; /* class IN */
        qlen += 4;
        q[0] = (unsigned char)((qlen - 2) >> 8);
        q[1] = (unsigned char)((qlen - 2) & 0xff);
        for (int i = 0; i < tries; i++) {
                int fd = socket(dst.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
                struct pollfd p = { .fd = fd, .events = POLLIN };
                long deadline = now_ms() + timeout_ms;
                size_t got = 0, off = tcp ? 2 : 0;
                ssize_t n;

                struct timeval tv = { .tv_sec = timeout_ms / 1000,
                                      .tv_usec = (timeout_ms % 1000) * 1000 };

                /* SO_SNDTIMEO bounds a blocking connect too: a dropped SYN costs the
                 * timeout, not the kernel's two minutes of retries */
                if (fd >= 0)
                        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
                if (fd < 0 || connect(fd, (struct sockaddr *)&dst, dlen) < 0) {
                        why = errno == ECONNREFUSED  ? "refused"
                              : errno == EINPROGRESS ? "timeout"
                                                     : "connect";
                        if (fd >= 0)
                                close(fd);
                        continue;
                }
                if (send(fd, tcp ? q : q + 2, tcp ? qlen : qlen - 2, MSG_NOSIGNAL) < 0) {
                        why = "send";
                        close(fd);
                        continue;
                }
                while (got < sizeof(r) && now_ms() < deadline &&
                       poll(&p, 1, (int)(deadline - now_ms())) == 1) {
                        n = recv(fd, r + got, sizeof(r) - got, 0);
                        if (n <= 0) {
                                why = n < 0 && errno == ECONNREFUSED ? "refused" : "closed";
                                break;
                        }
                        got += (size_t)n;
                        if (got >= off + 12)
                                break;
                }
                close(fd);
                if (got >= off + 12 && r[off] == q[2] && r[off + 1] == q[3] &&
                    (r[off + 2] & 0x80)) {
                        unsigned rcode = r[off + 3] & 0xf, answers = r[off + 6] << 8 | r[off + 7];

                        if (rcode == 0 && answers > 0) {
                                printf("ok dns-answers=%u\n", answers);
                                return 0;
                        }
                        why = rcode ? "dns-error" : "dns-empty";
                }
        }
        printf("fail %s\n", why);
        return 1;
}

#define STREAM_SLOTS 64

/* One UDP probe every INTERVAL_MS, each from a new socket (a new flow that the firewall
 * judges afresh), with the token TAG.SEQ; one line per probe as it resolves:
 * "STREAM tag=TAG seq=N result=ok|fail detail=...". Runs until COUNT probes or a signal. */
static int
stream(int argc, char **argv)
{
        struct sockaddr_storage dst;
        socklen_t dlen;
        const char *tag = argv[3];
        int interval = atoi(argv[4]);
        int timeout_ms = argc > 5 ? atoi(argv[5]) : 1000;
        long count = argc > 6 ? atol(argv[6]) : 100000;
        struct pollfd p[STREAM_SLOTS];
        long seq[STREAM_SLOTS], deadline[STREAM_SLOTS], next = now_ms(), sent = 0;
        int n = 0, i;

        if (strcmp(argv[0], "udp") != 0 || interval <= 0 || timeout_ms <= 0 ||
            parse_addr(argv[1], atoi(argv[2]), &dst, &dlen) < 0)
                return usage();
        while (sent < count || n > 0) {
                long now = now_ms(), wait = 1000;

                if (sent < count && now >= next && n < STREAM_SLOTS) {
                        char msg[128];
                        int fd =
                                socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

                        sent++;
                        next += interval;
                        snprintf(msg, sizeof(msg), "%s.%ld\n", tag, sent);
                        if (fd < 0 || connect(fd, (struct sockaddr *)&dst, dlen) < 0 ||
                            send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0) {
                                printf("STREAM tag=%s seq=%ld result=fail detail=%s\n", tag, sent,
                                       errno == ECONNREFUSED ? "refused" : "send");
                                if (fd >= 0)
                                        close(fd);
                        } else {
                                p[n].fd = fd;
                                p[n].events = POLLIN;
                                seq[n] = sent;
                                deadline[n] = now + timeout_ms;
                                n++;
                        }
                }
                for (i = 0; i < n; i++)
                        if (deadline[i] - now < wait)
                                wait = deadline[i] - now;
                if (sent < count && next - now < wait)
                        wait = next - now;
                if (poll(p, n, wait < 0 ? 0 : (int)wait) < 0 && errno != EINTR)
                        return 1;
                now = now_ms();
                for (i = 0; i < n;) {
                        char reply[320], token[80];
                        const char *result = NULL, *detail = "none";

                        if (p[i].revents) {
                                ssize_t got = recv(p[i].fd, reply, sizeof(reply) - 1, 0);

                                snprintf(token, sizeof(token), " %s.%ld", tag, seq[i]);
                                if (got > 0) {
                                        reply[got] = '\0';
                                        reply[strcspn(reply, "\n")] = '\0';
                                        result = strstr(reply, token) ? "ok" : "fail";
                                        detail = strstr(reply, token) ? reply : "badreply";
                                } else {
                                        result = "fail";
                                        detail = errno == ECONNREFUSED ? "refused" : "recv";
                                }
                        } else if (now >= deadline[i]) {
                                result = "fail";
                                detail = "timeout";
                        }
                        if (!result) {
                                i++;
                                continue;
                        }
                        /* the reply is "NAME TOKEN": keep the answering name only */
                        if (strcmp(result, "ok") == 0)
                                reply[strcspn(reply, " ")] = '\0';
                        printf("STREAM tag=%s seq=%ld result=%s detail=%s\n", tag, seq[i], result,
                               detail);
                        close(p[i].fd);
                        p[i] = p[n - 1];
                        seq[i] = seq[n - 1];
                        deadline[i] = deadline[n - 1];
                        n--;
                }
        }
        return 0;
}

int
main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc >= 7 && strcmp(argv[1], "stream") == 0)
                return stream(argc - 2, argv + 2);
        if (argc >= 5 && strcmp(argv[1], "serve") == 0)
                return serve(argc - 2, argv + 2);
        if (argc >= 6 && strcmp(argv[1], "send") == 0)
                return send_probe(argc - 2, argv + 2);
        if (argc >= 5 && strcmp(argv[1], "dns") == 0)
                return dns_probe(argc - 2, argv + 2);
        if (argc >= 4 && strcmp(argv[1], "frame") == 0)
                return netprobe_frame(argc - 2, argv + 2);
        if (argc == 3 && strcmp(argv[1], "sniff") == 0)
                return netprobe_sniff(argc - 2, argv + 2);
        return usage();
}
