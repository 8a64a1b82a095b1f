/* Helpers the configuration readers share (config.c and config-cluster.c):
 * each mistake becomes one line "FILE:LINE:COL: key 'K': what". */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "conf/toml.h"

gboolean netiso_config_key_error(const char *filename, const char *key,
                                 const NetisoTomlValue *value, GError **error, const char *format,
                                 ...) G_GNUC_PRINTF(5, 6);
gboolean netiso_config_check_type(const char *filename, const char *key,
                                  const NetisoTomlValue *value, NetisoTomlType type,
                                  const char *expected, GError **error);
gboolean netiso_config_read_integer(const char *filename, const char *key,
                                    const NetisoTomlValue *value, gint64 min, gint64 max,
                                    gint64 *ret_integer, GError **error);

/* [vm.network_isolation.cluster] (config-cluster.c): the table value of the
 * section's "cluster" key. */
gboolean netiso_config_read_cluster(const char *filename, const char *key,
                                    const NetisoTomlValue *value, NetisoConfig *config,
                                    GError **error);
/* What the cluster table adds to netiso_config_digest() (rules it changes). */
void netiso_config_digest_cluster(GString *out, const NetisoConfig *config);
