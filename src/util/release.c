/* The hook's last step: a child process releases its netfilter netlink
 * sockets, and waits in the kernel for that, while libvirtd goes on
 * (release.h). */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/release.h"

#define MAX_FDS 256

static gboolean deferred;

void
netiso_release_defer(void)
{
        deferred = TRUE;
}

gboolean
netiso_release_deferred(void)
{
        return deferred;
}

static gboolean
is_netfilter_socket(int fd)
{
        int domain = 0, protocol = 0;
        socklen_t len = sizeof domain;

        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_NETLINK)
                return FALSE;
        len = sizeof protocol;
        return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 &&
               protocol == NETLINK_NETFILTER;
}

/* Every open descriptor, and which of them are netfilter netlink sockets;
 * FALSE when there are too many to keep track of. */
static gboolean
scan(int *all, int *n_all, int *sockets, int *n_sockets)
{
        DIR *dir = opendir("/proc/self/fd");
        struct dirent *e;
        gboolean ok = TRUE;

        *n_all = *n_sockets = 0;
        if (!dir)
                return FALSE;
        while (ok && (e = readdir(dir))) {
                char *end;
                long fd = strtol(e->d_name, &end, 10);

                if (e->d_name[0] == '.' || *end || fd == dirfd(dir))
                        continue;
                if (*n_all == MAX_FDS) {
                        ok = FALSE;
                        break;
                }
                all[(*n_all)++] = (int)fd;
                if (is_netfilter_socket((int)fd))
                        sockets[(*n_sockets)++] = (int)fd;
        }
        closedir(dir);
        return ok;
}

static gboolean
listed(const int *fds, int n, int fd)
{
        for (int i = 0; i < n; i++)
                if (fds[i] == fd)
                        return TRUE;
        return FALSE;
}

/* The child: nothing open but the sockets and the gate; the sockets are
 * closed once the gate reads end of file (the parent dropped its copies,
 * so these closes are the last references). */
G_GNUC_NORETURN static void
child(const int *all, int n_all, const int *sockets, int n_sockets, int gate)
{
        char c;

        for (int i = 0; i < n_all; i++)
                if (all[i] != gate && !listed(sockets, n_sockets, all[i]))
                        close(all[i]);
        while (read(gate, &c, 1) < 0 && errno == EINTR)
                ;
        for (int i = 0; i < n_sockets; i++)
                close(sockets[i]);
        _exit(0);
}

void
netiso_release_netlink_in_child(void)
{
        int all[MAX_FDS], sockets[MAX_FDS], n_all, n_sockets, gate[2], null;
        pid_t pid;

        if (!scan(all, &n_all, sockets, &n_sockets) || n_sockets == 0)
                return;
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0)
                return;
        if (pipe2(gate, O_CLOEXEC) < 0) {
                close(null);
                return;
        }
        pid = fork();
        if (pid == 0) {
                all[n_all++] = null; /* closed with the others */
                all[n_all++] = gate[1];
                child(all, n_all, sockets, n_sockets, gate[0]);
        }
        if (pid > 0)
                for (int i = 0; i < n_sockets; i++)
                        dup2(null, sockets[i]);
        close(gate[0]);
        close(gate[1]);
        close(null);
}
