/* netiso_log() through GLib's journald writer: the fields a real journal
 * socket receives, and the syslog/stderr text when there is none. Each case
 * runs in a child with a private mount namespace and /run on a new tmpfs. */
#include "autoconfig.h"

#include <sched.h>
#include <stdio.h>
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

static void
journal_child(void)
{
        const NetisoLogFields fields = { "web", "prod", "start begin", "installed" };
        char buf[4096];
        ssize_t n;
        int fd;

        if (!private_run())
                return;
        fd = fake_journal();
        netiso_log_open("netiso-test");
        netiso_log(LOG_ERR, &fields, "guest refused: %s", "why");
        n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        g_assert_cmpint(n, >, 0);
        buf[n] = '\0';
        g_assert_nonnull(strstr(buf, "MESSAGE=guest refused: why\n"));
        g_assert_nonnull(strstr(buf, "PRIORITY=3\n"));
        g_assert_nonnull(strstr(buf, "SYSLOG_IDENTIFIER=netiso-test\n"));
        g_assert_nonnull(strstr(buf, "BLIXARD_DOMAIN=web\n"));
        g_assert_nonnull(strstr(buf, "BLIXARD_TENANT=prod\n"));
        g_assert_nonnull(strstr(buf, "BLIXARD_EVENT=start begin\n"));
        g_assert_nonnull(strstr(buf, "BLIXARD_OUTCOME=installed\n"));
        close(fd);
        printf("journal-ok\n");
}

static void
test_journal_fields(void)
{
        if (g_test_subprocess()) {
                journal_child();
                return;
        }
        if (getuid() != 0) {
                g_test_skip("needs root for a private mount namespace");
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        g_test_trap_assert_stdout("journal-ok\n");
}

/* A newline in a value must not forge a field: GLib writes such a value in
 * the journal's length-prefixed form. */
static void
forged_child(void)
{
        const NetisoLogFields fields = { .domain = "a\nBLIXARD_OUTCOME=forged" };
        char buf[4096];
        ssize_t n;
        int fd;

        if (!private_run())
                return;
        fd = fake_journal();
        netiso_log_open("netiso-test");
        netiso_log(LOG_INFO, &fields, "x");
        n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        g_assert_cmpint(n, >, 0);
        buf[n] = '\0';
        g_assert_null(strstr(buf, "\nBLIXARD_OUTCOME=forged\n"));
        g_assert_nonnull(memmem(buf, (gsize)n, "BLIXARD_DOMAIN\n", strlen("BLIXARD_DOMAIN\n")));
        close(fd);
        printf("forged-ok\n");
}

static void
test_newline_cannot_forge(void)
{
        if (g_test_subprocess()) {
                forged_child();
                return;
        }
        if (getuid() != 0) {
                g_test_skip("needs root for a private mount namespace");
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        g_test_trap_assert_stdout("forged-ok\n");
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
