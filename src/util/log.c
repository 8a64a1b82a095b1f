/* netiso_log() as GLib structured logging: g_log_writer_journald() sends the
 * fields to journald, syslog(3) takes the message with the fields in its text
 * when journald is not running (GLib 2.74 has no syslog writer). */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

static const char *log_identifier = "blixard-netiso";
static gboolean log_stderr;

/* The text of a message outside the journal: MESSAGE and then each
 * BLIXARD_X field as " x=value" (what syslog and stderr show, and what
 * tests grep for). */
static char *
plain_text(const GLogField *fields, gsize n_fields)
{
        GString *out = g_string_new(NULL);

        for (gsize i = 0; i < n_fields; i++)
                if (g_str_equal(fields[i].key, "MESSAGE"))
                        g_string_append(out, fields[i].value);
        for (gsize i = 0; i < n_fields; i++) {
                const char *key = fields[i].key;
                g_autofree char *name = NULL;

                if (!g_str_has_prefix(key, "BLIXARD_"))
                        continue;
                name = g_ascii_strdown(key + strlen("BLIXARD_"), -1);
                g_string_append_printf(out, " %s=%s", name, (const char *)fields[i].value);
        }
        return g_string_free(out, /* free_segment */ FALSE);
}

static int
syslog_priority(const GLogField *fields, gsize n_fields)
{
        for (gsize i = 0; i < n_fields; i++)
                if (g_str_equal(fields[i].key, "PRIORITY"))
                        return (int)g_ascii_strtoll(fields[i].value, NULL, 10);
        return LOG_INFO;
}

/* Our messages carry SYSLOG_IDENTIFIER; anything else (g_warning() from
 * the library) goes where GLib would send it. */
static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        g_autofree char *plain = NULL;
        gboolean ours = FALSE, journal;

        (void)user_data;
        for (gsize i = 0; i < n_fields && !ours; i++)
                ours = g_str_equal(fields[i].key, "SYSLOG_IDENTIFIER");
        if (!ours)
                return g_log_writer_default(level, fields, n_fields, NULL);
        journal = g_log_writer_journald(level, fields, n_fields, NULL) == G_LOG_WRITER_HANDLED;
        if (journal && !log_stderr)
                return G_LOG_WRITER_HANDLED;
        plain = plain_text(fields, n_fields);
        if (!journal)
                syslog(syslog_priority(fields, n_fields), "%s", plain);
        if (log_stderr)
                fprintf(stderr, "%s: %s\n", log_identifier, plain);
        return G_LOG_WRITER_HANDLED;
}

void
netiso_log_open(const char *identifier)
{
        log_identifier = identifier;
        openlog(identifier, LOG_PID, LOG_DAEMON);
        g_log_set_writer_func(writer, NULL, NULL);
}

void
netiso_log_set_stderr(gboolean on)
{
        log_stderr = on;
}

/* G_LOG_LEVEL_ERROR would abort: errors are logged as critical, with
 * PRIORITY= keeping syslog's own level for journald. */
static GLogLevelFlags
glib_level(int priority)
{
        if (priority <= LOG_ERR)
                return G_LOG_LEVEL_CRITICAL;
        if (priority == LOG_WARNING)
                return G_LOG_LEVEL_WARNING;
        if (priority == LOG_NOTICE)
                return G_LOG_LEVEL_MESSAGE;
        return priority == LOG_INFO ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_DEBUG;
}

void
netiso_log(int priority, const NetisoLogFields *fields, const char *format, ...)
{
        g_autofree char *message = NULL;
        char level[4];
        GLogField f[8];
        gsize n = 0;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_snprintf(level, sizeof level, "%d", CLAMP(priority, LOG_EMERG, LOG_DEBUG));
        f[n++] = (GLogField){ "MESSAGE", message, -1 };
        f[n++] = (GLogField){ "PRIORITY", level, -1 };
        f[n++] = (GLogField){ "SYSLOG_IDENTIFIER", log_identifier, -1 };
        if (fields) {
                const char *keys[] = { "BLIXARD_DOMAIN", "BLIXARD_TENANT", "BLIXARD_EVENT",
                                       "BLIXARD_OUTCOME" };
                const char *values[] = { fields->domain, fields->tenant, fields->event,
                                         fields->outcome };

                for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
                        if (values[i])
                                f[n++] = (GLogField){ keys[i], values[i], -1 };
        }
        g_log_structured_array(glib_level(priority), f, n);
}
