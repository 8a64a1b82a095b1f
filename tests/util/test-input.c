/* netiso_read_bounded(): the limit plus one byte is kept, drain reads the
 * rest, a failed read returns its errno. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/input.h"

/* A pipe holding n bytes of 'x', its write end closed. */
static int
pipe_with(gsize n)
{
        g_autofree char *data = g_malloc(n + 1); /* never NULL, even for 0 bytes */
        int fds[2];

        memset(data, 'x', n);
        g_assert_cmpint(pipe(fds), ==, 0);
        g_assert_cmpint(fcntl(fds[1], F_SETPIPE_SZ, 1 << 20), >=, (int)n);
        g_assert_cmpint(write(fds[1], data, n), ==, (gssize)n);
        close(fds[1]);
        return fds[0];
}

static void
test_under_and_over_the_limit(void)
{
        static const struct {
                gsize size, limit, kept;
                gboolean drain;
        } cases[] = {
                { 0, 10, 0, FALSE },      { 10, 10, 10, FALSE },
                { 11, 10, 11, FALSE },    { 200000, 10, 11, FALSE },
                { 200000, 10, 11, TRUE }, { 150000, 200000, 150000, TRUE },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GString) out = g_string_new(NULL);
                int fd = pipe_with(cases[i].size);
                char rest;

                g_assert_cmpint(netiso_read_bounded(fd, cases[i].limit, cases[i].drain, out), ==,
                                0);
                g_assert_cmpuint(out->len, ==, cases[i].kept);
                /* Drained, or stopped early with bytes left in the pipe. */
                g_assert_cmpint(read(fd, &rest, 1), ==,
                                cases[i].drain || cases[i].size <= cases[i].limit + 1 ? 0 : 1);
                close(fd);
        }
}

static void
test_read_error(void)
{
        g_autoptr(GString) out = g_string_new(NULL);

        g_assert_cmpint(netiso_read_bounded(-1, 10, /* drain */ TRUE, out), ==, EBADF);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/input/under-and-over-the-limit", test_under_and_over_the_limit);
        g_test_add_func("/input/read-error", test_read_error);
        return g_test_run();
}
