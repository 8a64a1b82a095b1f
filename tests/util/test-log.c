/* netiso_log() through GLib's journald writer: the fields a real journal
 * socket receives, and the syslog/stderr text when there is none. Each case
 * runs in a child with a private mount namespace and /run on a new tmpfs. */
#include "autoconfig.h"

#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* In the child: an empty /run of our own (private, so the host's /run is
 * never touched). FALSE when this process may not do that (not root). */
static gboolean
private_run(void)
{
        if (unshare(CLONE_NEWNS) != 0)
                return FALSE;
        g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
        g_assert_cmpint(mount("tmpfs", "/run", "tmpfs", 0, "size=1m"), ==, 0);
        return TRUE;
}

static int
fake_journal(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(g_mkdir_with_parents("/run/systemd/journal", 0755), ==, 0);
        g_strlcpy(sa.sun_path, JOURNAL_SOCKET, sizeof sa.sun_path);
        g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
        return fd;
}

/* Logs one message into a journal socket of our own; the datagram, with a
 * NUL after it. */
static char *
journal_datagram(int priority, const NetisoLogFields *fields, const char *message, gsize *ret_len)
{
        char buf[4096];
        ssize_t n;
        int fd = fake_journal();

        netiso_log_open("netiso-test");
        netiso_log(priority, fields, "%s", message);
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        g_assert_cmpint(n, >, 0);
        close(fd);
        *ret_len = (gsize)n;
        return g_strndup(buf, (gsize)n);
}

/* The test runs child in a subprocess with a private /run; root only. */
static void
with_private_run(void (*child)(void))
{
        if (g_test_subprocess()) {
                g_assert_true(private_run());
                child();
                return;
        }
        if (getuid() != 0) {
                g_test_skip("needs root for a private mount namespace");
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
}

static void
journal_child(void)
{
        const NetisoLogFields fields = { "web", "prod", "start begin", "installed" };
        gsize len;
        g_autofree char *d = journal_datagram(LOG_ERR, &fields, "guest refused: why", &len);

        g_assert_nonnull(strstr(d, "MESSAGE=guest refused: why\n"));
        g_assert_nonnull(strstr(d, "PRIORITY=3\n"));
        g_assert_nonnull(strstr(d, "SYSLOG_IDENTIFIER=netiso-test\n"));
        g_assert_nonnull(strstr(d, "BLIXARD_DOMAIN=web\n"));
        g_assert_nonnull(strstr(d, "BLIXARD_TENANT=prod\n"));
        g_assert_nonnull(strstr(d, "BLIXARD_EVENT=start begin\n"));
        g_assert_nonnull(strstr(d, "BLIXARD_OUTCOME=installed\n"));
}

static void
test_journal_fields(void)
{
        with_private_run(journal_child);
}

/* A newline in a value must not forge a field: GLib writes such a value in
 * the journal's length-prefixed form. */
static void
forged_child(void)
{
        const NetisoLogFields fields = { .domain = "a\nBLIXARD_OUTCOME=forged" };
        gsize len;
        g_autofree char *d = journal_datagram(LOG_INFO, &fields, "x", &len);

        g_assert_null(
                memmem(d, len, "\nBLIXARD_OUTCOME=forged\n", strlen("\nBLIXARD_OUTCOME=forged\n")));
        g_assert_nonnull(memmem(d, len, "BLIXARD_DOMAIN\n", strlen("BLIXARD_DOMAIN\n")));
}

static void
test_newline_cannot_forge(void)
{
        with_private_run(forged_child);
}

/* No journald: the stderr copy (what the CLI and the tests read) has the
 * fields in its text, and nothing fails. */
static void
stderr_child(void)
{
        const NetisoLogFields fields = { .domain = "web", .outcome = "connected" };

        if (geteuid() == 0 && !private_run())
                return;
        netiso_log_open("netiso-test");
        netiso_log_set_stderr(/* on */ TRUE);
        netiso_log(LOG_NOTICE, &fields, "connected to %s", "qemu:///system");
}

static void
test_stderr_copy(void)
{
        if (g_test_subprocess()) {
                stderr_child();
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        g_test_trap_assert_stderr(
                "netiso-test: connected to qemu:///system domain=web outcome=connected\n");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/log/journal-fields", test_journal_fields);
        g_test_add_func("/log/newline-cannot-forge", test_newline_cannot_forge);
        g_test_add_func("/log/stderr-copy", test_stderr_copy);
        return g_test_run();
}
