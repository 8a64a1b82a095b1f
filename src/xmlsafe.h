/* libxml2 set up for hostile input, and quoting of untrusted text in one-line
 * messages. The domain reader is the user; anything else that parses XML
 * from outside the project should go through here too. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#define NETISO_QUOTE_MAX 80   /* bytes of an untrusted value shown in a message */

/* Parse a document from memory with no network, no DTD loading, no entity
 * substitution; refuse any DOCTYPE, NUL bytes, more than max_len bytes and
 * elements nested deeper than max_depth. libxml2 prints nothing: the first
 * error becomes the GError (NETISO_ERROR_DOMAIN), "FILE:LINE: what" or
 * "FILE: what". Free the result with xmlFreeDoc(). */
xmlDoc *netiso_xml_parse(const char *filename, const char *xml, gsize len, gsize max_len,
                         unsigned max_depth, GError **error);

/* text with control characters escaped as \xNN and cut after max bytes (at a
 * character boundary, "..." appended), fit for a one-line message. */
char *netiso_quote_n(const char *text, gsize max);

/* netiso_quote_n(text, NETISO_QUOTE_MAX) */
char *netiso_quote(const char *text);
