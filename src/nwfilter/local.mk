## src/nwfilter: the nwfilter XML generator, written with libxml2's
## xmlTextWriter. Only the command-line tool and the nwfilter tests link it,
## which keeps libxml2 (with ICU and libstdc++) out of the hook.
noinst_LTLIBRARIES += libnetiso-nwfilter.la
libnetiso_nwfilter_la_SOURCES = \
	src/nwfilter/nwfilter.c src/nwfilter/nwfilter.h \
	src/nwfilter/nwfilter-xml.c src/nwfilter/nwfilter-xml.h \
	$(NULL)
libnetiso_nwfilter_la_CFLAGS = $(AM_CFLAGS) $(LIBXML_CFLAGS)
libnetiso_nwfilter_la_LIBADD = $(LIBXML_LIBS)
