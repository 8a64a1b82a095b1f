/* GMarkup's callbacks that build the tree (xml-tree.h) for the reader
 * (xml-reader.c), which checks the input, runs the parser and words its
 * errors. Not for use outside them. */
#pragma once

#include <glib.h>

#include "conf/xml-tree.h"

typedef struct {
        const char *prefix; /* NULL: the default namespace */
        const char *uri;    /* NULL: undeclared (xmlns="") */
} NetisoXmlBinding;

typedef struct {
        const char *filename;
        const char *xml; /* the input, for the lines of errors */
        gsize len;
        const NetisoXmlLimits *limits;
        NetisoXmlDoc *doc;
        GMarkupParseContext *context;
        NetisoXmlNode *current; /* innermost open element */
        unsigned depth, elements;
        GArray *bindings;        /* of NetisoXmlBinding, innermost last */
        GArray *marks;           /* bindings->len when each open element started */
        gboolean declaration_ok; /* the input starts with <?xml */
        gboolean seen_markup;
        GError *error; /* ours: it wins over GMarkup's consequences */
} NetisoXmlReader;

extern const GMarkupParser netiso_xml_reader_callbacks;

/* The line GMarkup is on, corrected for where it puts newlines. */
int netiso_xml_reader_line(const NetisoXmlReader *r);

/* 1 + the newlines in [xml, p). */
int netiso_xml_line_at(const char *xml, const char *p);
