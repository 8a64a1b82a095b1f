/* The rules for the cluster table's texts that both the configuration reader
 * and the etcd client check: an etcd endpoint URL and the key prefix. GLib
 * only, so the hook's configuration reader refuses exactly what the client
 * would refuse later. */
#pragma once

#include <glib.h>

#define NETISO_KEY_PREFIX_MAX 256

/* Why text is not an etcd endpoint (http(s)://host[:port], an optional
 * trailing '/', no user, path, query or fragment), NULL when it is one. The
 * reason follows the quoted text: "etcd endpoint 'x' is not a URL". */
const char *netiso_endpoint_problem(const char *text);

/* Why a key prefix is unacceptable, NULL when fine: 2..256 printable ASCII
 * characters without spaces, '/' first and last, no "//". */
const char *netiso_key_prefix_problem(const char *prefix);
