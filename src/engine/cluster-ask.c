/* Claims asked of the local watch daemon (engine/cluster-ask.h): a unix
 * socket, one request line, one answer line, a deadline over all of it. */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/remote.h"
#include "core/state.h"
#include "engine/cluster-ask.h"
#include "util/addr.h"
#include "util/error.h"

char *
netiso_cluster_claim_request(const NetisoPolicy *policy)
{
        g_autoptr(GString) line = g_string_new(NULL);
        guint n = 0;

        g_string_append_printf(line, "claim %s %s ", policy->uuid, policy->tenant);
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                for (guint a = 0; a < p->addresses->len; a++) {
                        const NetisoCidr *addr = &g_array_index(p->addresses, NetisoCidr, a);
                        g_autofree char *text = NULL;

                        /* A bridged guest's fe80:: address (EUI-64) is one
                         * per link, never the cluster's: nothing to claim. */
                        if (netiso_addr_is_link_local_v6(addr))
                                continue;
                        text = netiso_cidr_to_string(addr, FALSE);
                        g_string_append_printf(line, "%s%s", n++ ? "," : "", text);
                }
        }
        /* The name goes last: it may hold spaces, never a control character. */
        g_string_append_printf(line, "%s %s\n", n ? "" : "-", policy->domain);
        return g_string_free(g_steal_pointer(&line), FALSE);
}

static int
remaining_ms(gint64 deadline)
{
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;

        return (int)CLAMP(left, 0, G_MAXINT);
}

static gboolean
ask_failed(GError **error, const char *path, const char *what, int err)
{
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_CLUSTER, "watch daemon at %s: %s%s%s", path,
                    what, err ? ": " : "", err ? g_strerror(err) : "");
        return FALSE;
}

/* Waits for fd to be ready for events, until the deadline. */
static gboolean
wait_fd(int fd, short events, gint64 deadline)
{
        struct pollfd pfd = { .fd = fd, .events = events };
        int r;

        do
                r = poll(&pfd, 1, remaining_ms(deadline));
        while (r < 0 && errno == EINTR);
        return r > 0;
}

static gboolean
exchange(int fd, const char *path, const char *request, gint64 deadline, char **ret_answer,
         GError **error)
{
        g_autoptr(GString) answer = g_string_new(NULL);
        gsize sent = 0, len = strlen(request);
        char buf[4096];

        while (sent < len) {
                ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return ask_failed(error, path, "cannot send", errno);
                if (n > 0)
                        sent += (gsize)n;
                else if (!wait_fd(fd, POLLOUT, deadline))
                        return ask_failed(error, path, "no room to send in time", 0);
        }
        for (;;) {
                const char *end = memchr(answer->str, '\n', answer->len);
                ssize_t n;

                if (end) {
                        *ret_answer = g_strndup(answer->str, end - answer->str);
                        return TRUE;
                }
                if (answer->len > NETISO_CLUSTER_LINE_MAX)
                        return ask_failed(error, path, "answer too long", 0);
                if (!wait_fd(fd, POLLIN, deadline))
                        return ask_failed(error, path, "no answer in time", 0);
                n = recv(fd, buf, sizeof(buf), 0);
                if (n == 0)
                        return ask_failed(error, path, "closed without an answer", 0);
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return ask_failed(error, path, "cannot read", errno);
                if (n > 0)
                        g_string_append_len(answer, buf, n);
        }
}

gboolean
netiso_cluster_ask(const char *state_dir, const char *request, guint timeout_ms, char **ret_answer,
                   GError **error)
{
        g_autofree char *path = netiso_cluster_socket_path(state_dir);
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        gboolean ok;
        int fd;

        if (strlen(path) >= sizeof(sun.sun_path))
                return ask_failed(error, path, "socket path too long", 0);
        strcpy(sun.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return ask_failed(error, path, "cannot open a socket", errno);
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno != EINPROGRESS &&
            errno != EAGAIN) {
                int e = errno;
                close(fd);
                return ask_failed(error, path, "not running", e);
        }
        ok = exchange(fd, path, request, deadline, ret_answer, error);
        close(fd);
        return ok;
}

/* The record shows this host installed the guest with these addresses. */
static gboolean
record_holds(const NetisoRecord *record, const NetisoPolicy *policy, gboolean same_tenant)
{
        if (!record || g_strcmp0(record->uuid, policy->uuid) != 0 ||
            (same_tenant && g_strcmp0(record->tenant, policy->tenant) != 0))
                return FALSE;
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                for (guint a = 0; a < p->addresses->len; a++) {
                        const NetisoCidr *want = &g_array_index(p->addresses, NetisoCidr, a);
                        gboolean found = FALSE;
                        for (guint k = 0; k < record->ports->len && !found; k++) {
                                const NetisoRecordPort *rp = g_ptr_array_index(record->ports, k);
                                for (guint b = 0; b < rp->addresses->len && !found; b++)
                                        found = netiso_cidr_equal(
                                                &g_array_index(rp->addresses, NetisoCidr, b), want);
                        }
                        if (!found)
                                return FALSE;
                }
        }
        return TRUE;
}

gboolean
netiso_cluster_claim_for_install(const NetisoConfig *config, const NetisoPolicy *policy,
                                 GError **error)
{
        g_autoptr(NetisoRecord) record = NULL;
        g_autoptr(GError) local = NULL;
        g_autofree char *request = NULL;
        g_autofree char *answer = NULL;
        const char *why;

        if (!config->cluster)
                return TRUE;
        if (!policy->uuid) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                            "domain '%s' has no uuid: a cluster claims addresses by domain uuid",
                            policy->domain);
                return FALSE;
        }
        /* Unreadable, it proves nothing: the claim is asked for. */
        netiso_state_load(config->state_dir, policy->domain, &record, NULL);
        if (record_holds(record, policy, /* same_tenant */ TRUE))
                return TRUE;
        request = netiso_cluster_claim_request(policy);
        if (netiso_cluster_ask(config->state_dir, request, config->cluster->claim_timeout_ms,
                               &answer, &local)) {
                if (g_str_has_prefix(answer, "ok"))
                        return TRUE;
                if (g_str_has_prefix(answer, "conflict ")) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFLICT,
                                    "cannot claim the addresses of domain '%s': %s", policy->domain,
                                    answer + strlen("conflict "));
                        return FALSE;
                }
                why = strchr(answer, ' ') ? strchr(answer, ' ') + 1 : answer;
        } else {
                why = local->message;
        }
        if (record_holds(record, policy, /* same_tenant */ FALSE)) {
                g_warning("domain '%s': claim not confirmed (%s): this host already owns every "
                          "address, going on",
                          policy->domain, why);
                return TRUE;
        }
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_CLUSTER,
                    "cannot claim the addresses of domain '%s': %s (new claims fail closed while "
                    "etcd or the watch daemon is unreachable)",
                    policy->domain, why);
        return FALSE;
}
