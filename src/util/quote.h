/* Quoting of untrusted text (names from domain XML, record files, libvirt)
 * for one-line messages: control characters escaped, length bounded. */
#pragma once

#include <glib.h>

#define NETISO_QUOTE_MAX 80 /* bytes of an untrusted value shown in a message */

/* text with control characters escaped as \xNN and cut after max bytes (at a
 * character boundary, "..." appended), fit for a one-line message. */
char *netiso_quote_n(const char *text, gsize max);

/* netiso_quote_n(text, NETISO_QUOTE_MAX) */
char *netiso_quote(const char *text);
