/* A small strict reader for the subset of TOML the Blixard configuration
 * file uses, into the tree of toml-tree.h. Owned by the configuration
 * reader; nothing here knows about its keys. */
#pragma once

#include <glib.h>

#include "conf/toml-tree.h"

/* Parse a whole document; returns its root table. filename is used in messages
 * only. Errors are NETISO_ERROR_CONFIG, one line: "FILE:LINE:COL: what". */
NetisoTomlValue *netiso_toml_parse(const char *filename, const char *data, gsize len,
                                   GError **error);
