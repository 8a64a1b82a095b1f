/* Oracles for the fuzz harnesses: one-line errors, and nftables batches
 * checked line by line against the few shapes the backend writes, so that
 * an injected ';', '#', newline or foreign name fails loudly. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "fuzz-common.h"
#include "nft/nft-backend.h"

static void G_GNUC_NORETURN
die(const char *what, const char *text)
{
        fprintf(stderr, "fuzz oracle: %s: [%s]\n", what, text);
        abort();
}

/* abort() rather than GLib's fatal-warning breakpoint: libFuzzer saves the
 * input on SIGABRT, not on SIGTRAP. Quieter levels are dropped. */
static GLogWriterOutput
abort_on_warning(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
        if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
                return G_LOG_WRITER_HANDLED;
        for (gsize i = 0; i < n_fields; i++)
                if (g_str_equal(fields[i].key, "MESSAGE") && fields[i].length < 0)
                        fprintf(stderr, "fuzz oracle: GLib warning: %s\n",
                                (const char *)fields[i].value);
        abort();
}

void
fuzz_init(void)
{
        g_log_set_writer_func(abort_on_warning, NULL, NULL);
}

void
fuzz_check_error(const GError *error)
{
        if (!error || !error->message || !*error->message)
                die("failure without a message", "");
        if (strpbrk(error->message, "\r\n"))
                die("error message is not one line", error->message);
        if (!g_utf8_validate(error->message, -1, NULL))
                die("error message is not UTF-8", error->message);
}

static gboolean
is_ident_char(char c)
{
        return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* Characters allowed outside quotes; ';' is handled on its own. */
static gboolean
is_bare_char(char c)
{
        return is_ident_char(c) || strchr(" :/@{},!=*&", c) != NULL;
}

/* Inside quotes: interface names, patterns ("vnet*") and log prefixes. */
static gboolean
is_quoted_char(char c)
{
        return is_ident_char(c) || c == '*' || c == ':' || c == ' ';
}

static const char *
skip_prefix(const char *line)
{
        static const char *const verbs[] = { "add ", "flush ", "delete " };
        static const char *const objects[] = { "chain ", "set ",     "map ",      "element ",
                                               "rule ",  "counter ", "flowtable " };
        const char *p = NULL;

        for (gsize i = 0; i < G_N_ELEMENTS(verbs) && !p; i++)
                if (g_str_has_prefix(line, verbs[i]))
                        p = line + strlen(verbs[i]);
        if (!p)
                return NULL;
        /* Our two tables: inet blixard, and bridge blixard for bridged guests. */
        if (g_str_equal(p, "table inet blixard") || g_str_equal(p, "table bridge blixard"))
                return p + strlen(p);
        for (gsize i = 0; i < G_N_ELEMENTS(objects); i++)
                if (g_str_has_prefix(p, objects[i])) {
                        p += strlen(objects[i]);
                        if (g_str_has_prefix(p, "inet blixard "))
                                return p + strlen("inet blixard ");
                        if (g_str_has_prefix(p, "bridge blixard "))
                                return p + strlen("bridge blixard ");
                        return NULL;
                }
        return NULL;
}

static void
check_line(const char *line)
{
        gboolean declaration =
                g_str_has_prefix(line, "add set ") || g_str_has_prefix(line, "add map ") ||
                g_str_has_prefix(line, "add chain ") || g_str_has_prefix(line, "add flowtable ");
        /* A flowtable's devices are a list inside its declaration. */
        int max_braces = g_str_has_prefix(line, "add flowtable ") ? 2 : 1;
        const char *p = skip_prefix(line);
        gboolean quoted = FALSE;
        int braces = 0;

        if (g_str_equal(line, "# nft") || *line == '\0')
                return;
        if (!p)
                die("line is not an operation on one of our tables", line);
        if (*p && !is_ident_char(*p))
                die("object name does not start the line's operand", line);
        while (is_ident_char(*p))
                p++;
        if (*p && *p != ' ')
                die("object name holds a foreign character", line);
        for (; *p; p++) {
                if (*p == '"') {
                        quoted = !quoted;
                } else if (quoted) {
                        if (!is_quoted_char(*p))
                                die("quoted string holds a foreign character", line);
                } else if (*p == ';') {
                        if (!declaration || braces < 1)
                                die("';' outside a declaration's braces", line);
                } else if (*p == '{' || *p == '}') {
                        braces += *p == '{' ? 1 : -1;
                        if (braces < 0 || braces > max_braces)
                                die("unbalanced braces", line);
                } else if (!is_bare_char(*p)) {
                        die("foreign character", line);
                }
        }
        if (quoted || braces != 0)
                die("unterminated quote or brace", line);
}

/* Line by line without g_strsplit(): its strstr() calls make ASan measure
 * the rest of the text each time, quadratic in a batch of thousands of lines. */
void
fuzz_check_nft_text(const char *text)
{
        while (*text) {
                const char *end = strchrnul(text, '\n');
                g_autofree char *line = g_strndup(text, end - text);

                check_line(line);
                text = *end ? end + 1 : end;
        }
}

static void
run_apply(const NetisoConfig *config, const NetisoPolicy *policy, const NetisoRecord *old)
{
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
        g_autoptr(GError) error = NULL;

        if (!netiso_backend_nft.apply(fw, config, policy, old, &error))
                fuzz_check_error(error);
        fuzz_check_nft_text(netiso_firewall_captured(fw));
}

/* What the hook records at start must load again at stop, or the guest's
 * state could never be torn down. */
static void
check_record_reloads(const NetisoRecord *record)
{
        g_autoptr(NetisoRecord) again = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        gsize len = 0;

        text = netiso_record_to_data(record, &len);
        again = netiso_record_new_from_data("fuzz.state", text, len, &error);
        if (!again)
                die("the record of an accepted guest does not load", error->message);
}

void
fuzz_render_policy(const NetisoConfig *config, const NetisoPolicy *policy)
{
        g_autoptr(NetisoRecord) record = netiso_record_new_from_policy(policy, config->backend);
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
        g_autoptr(GError) error = NULL;

        check_record_reloads(record);
        run_apply(config, policy, NULL);
        run_apply(config, policy, record);
        if (!netiso_backend_nft.remove(fw, config, record, &error))
                fuzz_check_error(error);
        fuzz_check_nft_text(netiso_firewall_captured(fw));
}
