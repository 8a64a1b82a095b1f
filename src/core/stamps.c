/* The two time stamps of the state directory: written with a temporary
 * file and a rename, so a reader sees the old time or the new one. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "core/stamps.h"

static char *
stamp_path(const char *state_dir, NetisoStamp stamp)
{
        static const char *const names[_NETISO_STAMP_MAX] = {
                [NETISO_STAMP_EVENT] = "last-event",
                [NETISO_STAMP_REPAIR] = "last-repair",
        };
        g_assert(stamp < _NETISO_STAMP_MAX);
        return g_build_filename(state_dir, names[stamp], NULL);
}

void
netiso_stamp_touch(const char *state_dir, NetisoStamp stamp)
{
        g_autofree char *path = stamp_path(state_dir, stamp);
        g_autofree char *tmp = g_strdup_printf("%s.%d", path, (int)getpid());
        char text[32];
        int n = g_snprintf(text, sizeof(text), "%" G_GINT64_FORMAT "\n", g_get_real_time());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        gboolean ok = fd >= 0 && write(fd, text, n) == n;

        if (fd >= 0 && close(fd) < 0)
                ok = FALSE;
        if (ok && rename(tmp, path) == 0)
                return;
        g_warning("%s: cannot record the time: %s", path, g_strerror(errno));
        if (fd >= 0)
                unlink(tmp);
}

gint64
netiso_stamp_read(const char *state_dir, NetisoStamp stamp)
{
        g_autofree char *path = stamp_path(state_dir, stamp);
        g_autofree char *text = NULL;
        gint64 usec;
        char *end = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return 0;
        usec = g_ascii_strtoll(text, &end, 10);
        return end != text && usec > 0 ? usec : 0;
}
