/* Structured logging: journald's native datagram protocol when its socket
 * exists (fields DOMAIN=, TENANT=, EVENT=, OUTCOME= become searchable with
 * journalctl), plain syslog with the same fields in the text otherwise. */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static const char *log_identifier = "blixard-netiso";
static gboolean log_stderr;

void
netiso_log_open(const char *identifier)
{
        log_identifier = identifier;
        openlog(identifier, LOG_PID, LOG_DAEMON);
}

void
netiso_log_set_stderr(gboolean on)
{
        log_stderr = on;
}

/* Journal fields are KEY=VALUE lines; our values are single-line by
 * construction, but a newline is folded anyway so a field cannot forge another. */
static void
add_field(GString *out, const char *key, const char *value)
{
        if (!value)
                return;
        g_string_append_printf(out, "%s=", key);
        for (const char *p = value; *p; p++)
                g_string_append_c(out, *p == '\n' ? ' ' : *p);
        g_string_append_c(out, '\n');
}

static gboolean
send_journal(const char *payload, gsize len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;
        gboolean ok;

        if (access(JOURNAL_SOCKET, W_OK) < 0)
                return FALSE;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return FALSE;
        g_strlcpy(sa.sun_path, JOURNAL_SOCKET, sizeof(sa.sun_path));
        ok = sendto(fd, payload, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) ==
             (ssize_t)len;
        close(fd);
        return ok;
}

void
netiso_log(int priority, const NetisoLogFields *fields, const char *format, ...)
{
        g_autofree char *message = NULL;
        g_autoptr(GString) journal = g_string_new(NULL);
        g_autoptr(GString) plain = g_string_new(NULL);
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);

        g_string_append(plain, message);
        if (fields) {
                const char *keys[] = { "domain", "tenant", "event", "outcome" };
                const char *values[] = { fields->domain, fields->tenant, fields->event,
                                         fields->outcome };
                for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
                        if (values[i])
                                g_string_append_printf(plain, " %s=%s", keys[i], values[i]);
        }

        add_field(journal, "MESSAGE", plain->str);
        g_string_append_printf(journal, "PRIORITY=%d\n", priority);
        add_field(journal, "SYSLOG_IDENTIFIER", log_identifier);
        if (fields) {
                add_field(journal, "BLIXARD_DOMAIN", fields->domain);
                add_field(journal, "BLIXARD_TENANT", fields->tenant);
                add_field(journal, "BLIXARD_EVENT", fields->event);
                add_field(journal, "BLIXARD_OUTCOME", fields->outcome);
        }
        if (!send_journal(journal->str, journal->len))
                syslog(priority, "%s", plain->str);
        if (log_stderr)
                fprintf(stderr, "%s: %s\n", log_identifier, plain->str);
}
