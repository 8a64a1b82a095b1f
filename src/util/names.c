/* Allow-list validation of tenant, interface and domain names, MAC addresses
 * and UUIDs; messages quote the offending value safely. */
#include "autoconfig.h"

#include <string.h>

#include "util/error.h"
#include "util/names.h"
#include "util/quote.h"

#define IFNAME_MAX 15 /* IFNAMSIZ - 1 */

static gboolean
is_name_char(char c)
{
        return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
}

/* The interface contract's rule: 1..63 of [A-Za-z0-9._-], first a letter or digit. */
char *
netiso_tenant_name_problem(const char *tenant)
{
        if (!*tenant)
                return g_strdup("must not be empty");
        for (const char *p = tenant; *p; p++) {
                if ((unsigned char)*p >= 0x80) {
                        gunichar c = g_utf8_get_char_validated(p, -1);
                        if (c == (gunichar)-1 || c == (gunichar)-2)
                                return g_strdup("not UTF-8, only A-Za-z0-9._- allowed");
                        /* Say so: a Cyrillic 'а' looks exactly like a Latin 'a'. */
                        return g_strdup_printf(
                                "non-ASCII character U+%04X (Unicode look-alikes are refused), only A-Za-z0-9._- allowed",
                                c);
                }
                if (!is_name_char(*p))
                        return g_strdup("only A-Za-z0-9._- allowed");
        }
        if (strlen(tenant) > NETISO_TENANT_MAX)
                return g_strdup_printf("longer than %d characters", NETISO_TENANT_MAX);
        if (!g_ascii_isalnum(tenant[0]))
                return g_strdup("must start with a letter or digit");
        return NULL;
}

gboolean
netiso_tenant_name_validate(const char *tenant, GError **error)
{
        g_autofree char *why = netiso_tenant_name_problem(tenant);
        g_autofree char *name = NULL;

        if (!why)
                return TRUE;
        name = netiso_quote(tenant);
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "tenant '%s' is invalid: %s", name,
                    why);
        return FALSE;
}

const char *
netiso_ifname_problem(const char *ifname)
{
        if (!*ifname)
                return "must not be empty";
        for (const char *p = ifname; *p; p++)
                if (!is_name_char(*p))
                        return "only A-Za-z0-9_.- allowed";
        if (strlen(ifname) > IFNAME_MAX)
                return "longer than 15 characters";
        if (!g_ascii_isalnum(ifname[0]))
                return "must start with a letter or digit";
        return NULL;
}

gboolean
netiso_ifname_validate(const char *ifname, GError **error)
{
        const char *why = netiso_ifname_problem(ifname);
        g_autofree char *name = NULL;

        if (!why)
                return TRUE;
        name = netiso_quote(ifname);
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "interface name '%s' is invalid: %s",
                    name, why);
        return FALSE;
}

char *
netiso_uuid_canonical(const char *text)
{
        gsize len = strlen(text);
        GString *s;

        if (len == 36 ? text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-'
                      : len != 32)
                return NULL;
        s = g_string_new(NULL);
        for (const char *p = text; *p; p++) {
                if (len == 36 &&
                    (p - text == 8 || p - text == 13 || p - text == 18 || p - text == 23))
                        continue;
                if (!g_ascii_isxdigit(*p)) {
                        g_string_free(s, /* free_segment */ TRUE);
                        return NULL;
                }
                if (s->len == 8 || s->len == 13 || s->len == 18 || s->len == 23)
                        g_string_append_c(s, '-');
                g_string_append_c(s, g_ascii_tolower(*p));
        }
        return g_string_free(s, /* free_segment */ FALSE);
}

/* "52:54:00:ab:cd:ef" in either case, as libvirt writes it. */
const char *
netiso_mac_problem(const char *text)
{
        if (strlen(text) != 17)
                return "is not six colon-separated hex octets";
        for (int i = 0; i < 17; i++)
                if (i % 3 == 2 ? text[i] != ':' : !g_ascii_isxdigit(text[i]))
                        return "is not six colon-separated hex octets";
        /* libvirt refuses these too: a guest must not claim a group address. */
        if (g_ascii_xdigit_value(text[1]) & 1)
                return "is a multicast address";
        return NULL;
}

/* Other modules put the name in file names and messages. */
const char *
netiso_domain_name_problem(const char *name)
{
        if (!*name)
                return "is empty";
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return "is a path component";
        if (strchr(name, '/'))
                return "contains '/'";
        for (const char *p = name; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return "contains a control character";
        return NULL;
}
