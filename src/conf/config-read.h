/* The key readers the configuration readers share (config.c and
 * config-cluster.c): each mistake becomes one line "FILE:LINE:COL: key 'K': what". */
#pragma once

#include <glib.h>

#include "conf/toml-tree.h"

gboolean netiso_config_key_error(const char *filename, const char *key,
                                 const NetisoTomlValue *value, GError **error, const char *format,
                                 ...) G_GNUC_PRINTF(5, 6);
gboolean netiso_config_check_type(const char *filename, const char *key,
                                  const NetisoTomlValue *value, NetisoTomlType type,
                                  const char *expected, GError **error);
gboolean netiso_config_read_integer(const char *filename, const char *key,
                                    const NetisoTomlValue *value, gint64 min, gint64 max,
                                    gint64 *ret_integer, GError **error);
