/* A small read-only XML tree on GLib's GMarkup parser, for documents from
 * outside (libvirt's domain XML): namespaces resolved, no DTD, no external
 * anything, and bounded size, depth, element and attribute counts. */
#pragma once

#include <glib.h>

#include "conf/xml-tree.h"

/* Parse a document from memory (UTF-8, an optional BOM). Refused: input
 * that is empty, larger than limits->max_bytes, not UTF-8, holds a NUL or a
 * control character other than tab and newlines, any DOCTYPE or other
 * markup declaration, an encoding other than UTF-8, entities other than the
 * five predefined ones (character references are fine), undeclared
 * prefixes, duplicate attributes, and the limits. Nothing is printed; the
 * error (NETISO_ERROR_DOMAIN) is one line, "FILE:LINE: what" or "FILE: what".
 * Unlike libxml2, a literal '<' in an attribute value and "]]>" in text pass:
 * GMarkup hands them over decoded, like "&lt;" and "]]&gt;". */
NetisoXmlDoc *netiso_xml_doc_new_from_data(const char *filename, const char *xml, gsize len,
                                           const NetisoXmlLimits *limits, GError **error);
