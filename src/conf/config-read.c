/* The readers of single keys shared by the configuration readers. */
#include "autoconfig.h"

#include "conf/config-read.h"

/* "FILE:LINE:COL: key 'KEY': what", at the value's position. */
gboolean
netiso_config_key_error(const char *filename, const char *key, const NetisoTomlValue *value,
                        GError **error, const char *format, ...)
{
        g_autofree char *what = NULL;
        va_list args;

        va_start(args, format);
        what = g_strdup_vprintf(format, args);
        va_end(args);
        netiso_toml_set_error(error, filename, value->line, value->column, "key '%s': %s", key,
                              what);
        return FALSE;
}

gboolean
netiso_config_check_type(const char *filename, const char *key, const NetisoTomlValue *value,
                         NetisoTomlType type, const char *expected, GError **error)
{
        if (value->type == type)
                return TRUE;
        return netiso_config_key_error(filename, key, value, error, "expected %s, got %s", expected,
                                       netiso_toml_type_describe(value->type));
}

gboolean
netiso_config_read_integer(const char *filename, const char *key, const NetisoTomlValue *value,
                           gint64 min, gint64 max, gint64 *ret_integer, GError **error)
{
        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_INTEGER, "an integer",
                                      error))
                return FALSE;
        if (value->integer < min || value->integer > max)
                return netiso_config_key_error(filename, key, value, error,
                                               "%" G_GINT64_FORMAT
                                               " is out of range %" G_GINT64_FORMAT
                                               "..%" G_GINT64_FORMAT,
                                               value->integer, min, max);
        *ret_integer = value->integer;
        return TRUE;
}
