/* Configurations for the nwfilter golden tests, the examples under
 * xml/nwfilter/ and the libvirtd test, built by hand as plain structs. */
#pragma once

#include <glib.h>

#include "conf/config.h"

/* Case names, NULL-terminated. */
const char *const *nwcase_names(void);

/* An alias so that g_autoptr() picks nwcase_config_free, not the
 * configuration module's netiso_config_free. */
typedef NetisoConfig NwcaseConfig;

/* A new configuration for the case, or NULL when the name is unknown. */
NwcaseConfig *nwcase_config_new(const char *name);

/* The tenants the case renders (array of char*, possibly empty). */
GPtrArray *nwcase_tenants_new(const char *name);

/* Frees what nwcase_config_new allocated (the configuration module's own
 * free function is not part of this tree yet). */
void nwcase_config_free(NwcaseConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwcaseConfig, nwcase_config_free)
