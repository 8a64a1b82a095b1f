/* The lock that serialises hooks running concurrently for different
 * domains (state.h): an exclusive flock() on STATE_DIR/lock. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/state.h"
#include "util/error.h"

struct NetisoLock {
        int fd;
};

/* Sleeps until the lock file is closed by someone (its holder releasing it,
 * or dying) or for at most 100 ms. Without inotify (its per-user instance
 * limit is 128 by default, shared with every root daemon) it sleeps 10 ms. */
static void
wait_for_release(int inotify_fd, gint64 deadline)
{
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        struct pollfd pfd = { .fd = inotify_fd, .events = POLLIN };
        char events[4096];

        if (inotify_fd < 0) {
                g_usleep(10000);
                return;
        }
        if (poll(&pfd, 1, (int)CLAMP(left_ms, 1, 100)) > 0)
                while (read(inotify_fd, events, sizeof(events)) > 0)
                        ;
}

static int
watch_closes(const char *path)
{
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

        if (fd >= 0 && inotify_add_watch(fd, path, IN_CLOSE_WRITE | IN_CLOSE_NOWRITE) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Benchmarks (bench/boot.sh): BLIXARD_NETISO_LOCK_TRACE=FILE appends one
 * line per acquisition, "lock-wait-us N", the time from the first try to
 * holding the lock (or giving up). */
static void
trace_wait(gint64 start)
{
        const char *path = g_getenv("BLIXARD_NETISO_LOCK_TRACE");
        g_autofree char *line = NULL;
        int fd;

        if (!path || !*path)
                return;
        line = g_strdup_printf("lock-wait-us %" G_GINT64_FORMAT "\n",
                               g_get_monotonic_time() - start);
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return;
        /* One write() of a short line to an O_APPEND file: lines of
         * concurrent hooks never interleave. */
        if (write(fd, line, strlen(line)) < 0)
                g_debug("%s: cannot trace the lock wait", path);
        close(fd);
}

NetisoLock *
netiso_lock_acquire(const char *state_dir, guint timeout_ms, GError **error)
{
        g_autofree char *path = g_build_filename(state_dir, "lock", NULL);
        gint64 start = g_get_monotonic_time();
        gint64 deadline = start + (gint64)timeout_ms * 1000;
        gboolean watching = FALSE, failed = FALSE;
        NetisoLock *lock;
        int fd, inotify_fd = -1;

        if (!netiso_state_ensure_dir(state_dir, error))
                return NULL;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                int e = errno;
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot open lock: %s",
                            path, g_strerror(e));
                return NULL;
        }
        /* Poll rather than block so that a stuck holder turns into an error
         * the hook can report, not a libvirtd worker waiting forever. Waiters
         * sleep until the file is closed: with 100 hooks at once, waking every
         * 2 ms to retry cost more CPU than the holder's work and made the last
         * ones time out. */
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                if (e != EWOULDBLOCK && e != EINTR) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot lock: %s",
                                    path, g_strerror(e));
                        failed = TRUE;
                        break;
                }
                if (g_get_monotonic_time() >= deadline) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE,
                                    "%s: still locked by another blixard-netiso after %u ms", path,
                                    timeout_ms);
                        failed = TRUE;
                        break;
                }
                /* Retry once the watch is set: a release before it left no event. */
                if (!watching) {
                        watching = TRUE;
                        inotify_fd = watch_closes(path);
                        continue;
                }
                wait_for_release(inotify_fd, deadline);
        }
        if (inotify_fd >= 0)
                close(inotify_fd);
        trace_wait(start);
        if (failed) {
                close(fd);
                return NULL;
        }
        lock = g_new0(NetisoLock, 1);
        lock->fd = fd;
        return lock;
}

void
netiso_lock_release(NetisoLock *lock)
{
        if (!lock)
                return;
        close(lock->fd); /* closing drops the flock */
        g_free(lock);
}
