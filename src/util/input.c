/* The one bounded read loop behind the configuration, domain XML files and
 * the hook's standard input (input.h). */
#include "autoconfig.h"

#include <errno.h>
#include <unistd.h>

#include "util/input.h"

int
netiso_read_bounded(int fd, gsize limit, gboolean drain, GString *out)
{
        char chunk[65536];

        while (drain || out->len <= limit) {
                gssize n = read(fd, chunk, sizeof chunk);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno;
                if (n == 0)
                        break;
                if (out->len <= limit)
                        g_string_append_len(out, chunk, MIN((gsize)n, limit + 1 - out->len));
        }
        return 0;
}
